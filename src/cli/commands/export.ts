import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ActualOrg } from '../../model/actual.js';
import type { Capabilities } from '../../model/capabilities.js';
import { BUILTIN_CAPABILITIES } from '../../platform/builtin/capabilities.js';
import { PlatformError } from '../../platform/types.js';
import { makeUserDir, writeUserFile } from '../files.js';
import { ExitCode, UserError, type Io } from '../io.js';
import { openTarget } from '../target.js';

/** Credential fields each integration type takes, for the placeholders of an export. */
const CREDENTIAL_FIELDS: Record<string, string[]> = {
  s3: ['accessKeyId', 'secretAccessKey'],
  minio: ['accessKeyId', 'secretAccessKey'],
  'aws-sts': ['accessKeyId', 'secretAccessKey'],
  gcs: ['serviceAccountJson'],
  azureblob: ['clientSecret'],
  key_value: ['value'],
  'private-registry': ['password'],
};

const envName = (...parts: string[]) =>
  parts
    .join('_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_');

/** A Kubernetes object name (RFC 1123 subdomain), as metadata.name must be. */
const objectName = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 253) || 'organization';

/**
 * The live organization as manifests (adoption, like `peribolos --dump` and `terraform import`): additive
 * policy, every member and open pending invite with an explicit role, integrations with credentialsRef
 * placeholders naming environment variables. Only what the platform can manage is written (no plan where it
 * has none, no role it does not have), so `plan` on the result shows no changes; what was left out is told
 * in `notes`.
 */
export function exportManifests(state: ActualOrg, caps: Capabilities = BUILTIN_CAPABILITIES, notes: string[] = []): { file: string; docs: unknown[] }[] {
  const api = 'orgctl.dev/v1alpha1';
  const name = objectName(state.name);
  if (name !== state.name) notes.push(`"${state.name}" is not a valid object name: the Organization is named ${name}${state.externalId ? ' and found by its orgctl.dev/external-id' : ''}`);
  const meta = (n: string) => ({ name: n });
  const org = {
    apiVersion: api,
    kind: 'Organization',
    metadata: { name, ...(state.externalId ? { annotations: { 'orgctl.dev/external-id': state.externalId } } : {}) },
    spec: {
      ...(caps.organizations.rename ? { displayName: state.displayName } : {}),
      ...(caps.organizations.plan ? { plan: state.plan } : {}),
      ...(state.cache.enabled && caps.organizations.cache === true ? { cache: { enabled: true, podType: state.cache.podType ?? 'small' } } : {}),
      members: { policy: 'additive' },
    },
  };
  const roles = new Set<string>(caps.roles);
  const unmanaged: string[] = [];
  const people = [
    ...[...state.members.values()].map((m) => ({
      email: m.email,
      role: m.role,
      ...(caps.profiles && m.firstName ? { firstName: m.firstName } : {}),
      ...(caps.profiles && m.lastName ? { lastName: m.lastName } : {}),
      ...(caps.profiles && m.description ? { description: m.description } : {}),
    })),
    // Pending invites are people the organization wants; expired ones are left out (they would be resent).
    ...[...state.invites.values()].filter((i) => i.status === 'pending' && !state.members.has(i.email)).map((i) => ({ email: i.email, role: i.role })),
  ]
    .filter((p) => roles.has(p.role) || (unmanaged.push(`${p.email} (${p.role})`), false))
    .sort((a, b) => (a.email < b.email ? -1 : 1));
  if (unmanaged.length) notes.push(`left out ${unmanaged.length} people whose role cannot be declared there (they stay as they are under the additive policy): ${unmanaged.slice(0, 5).join(', ')}${unmanaged.length > 5 ? ', ...' : ''}`);
  const membership = {
    apiVersion: api,
    kind: 'Membership',
    metadata: meta(`${name}-members`.slice(0, 253)),
    spec: { organization: name, role: caps.roles.includes('member') ? 'member' : caps.roles[0], members: people },
  };
  const types = new Set(caps.integrationTypes);
  const skipped = [...state.integrations.values()].filter((i) => !types.has(i.type));
  if (skipped.length) notes.push(`left out integrations of types orgctl does not manage there (they stay as they are under the additive policy): ${skipped.map((i) => `${i.name} (${i.type})`).join(', ')}`);
  const integrations = [...state.integrations.values()].filter((i) => types.has(i.type)).map((i) => {
    const accepted = caps.integrationFields?.[i.type]?.credentials;
    const fields = (CREDENTIAL_FIELDS[i.type] ?? []).filter((f) => !accepted || accepted.includes(f));
    return {
      apiVersion: api,
      kind: 'Integration',
      metadata: meta(objectName(`${name}-${i.name}`)),
      spec: {
        organization: name,
        name: i.name,
        type: i.type,
        ...(Object.keys(i.options).length ? { options: i.options } : {}),
        ...(fields.length ? { credentialsRef: { env: Object.fromEntries(fields.map((f) => [f, envName(state.name, i.name, f)])) } } : {}),
      },
    };
  });
  const files: { file: string; docs: unknown[] }[] = [
    { file: 'organization.yaml', docs: [org] },
    { file: 'members.yaml', docs: [membership] },
  ];
  if (integrations.length) files.push({ file: 'integrations.yaml', docs: integrations });
  return files;
}

/** Manifests as YAML documents, the way export writes them (also both sides of `orgctl diff`). */
export function renderManifests(docs: unknown[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}

/** `orgctl export --org NAME [--out DIR]`. */
export async function runExport(opts: { org: string; out?: string; platform?: string }, io: Io): Promise<number> {
  const { platform } = await openTarget(opts.platform, io);
  try {
    const state = await platform.read(opts.org);
    if (!state) throw new UserError(`organization "${opts.org}" does not exist on ${platform.description}`);
    const notes: string[] = [...(state.notes ?? [])];
    const files = exportManifests(state, platform.capabilities, notes);
    for (const n of notes) io.stderr(`note: ${n}\n`);
    if (!opts.out) {
      io.stdout(files.map((f) => renderManifests(f.docs)).join('---\n'));
      return ExitCode.ok;
    }
    makeUserDir(io, opts.out, 'the export');
    for (const f of files) {
      writeUserFile(io, join(opts.out, f.file), `# Exported from ${platform.description} by orgctl export.\n${renderManifests(f.docs)}`, 'the export');
      io.stdout(`wrote ${join(opts.out, f.file)}\n`);
    }
    if (state.integrations.size) io.stderr('note: integration credentials are placeholders: set the environment variables named in credentialsRef.env\n');
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof PlatformError) throw new UserError(err.message);
    throw err;
  } finally {
    await platform.close();
  }
}

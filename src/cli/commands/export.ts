import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ActualOrg } from '../../model/actual.js';
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

/**
 * The live organization as manifests (adoption, like `peribolos --dump` and `terraform import`): additive
 * policy, every member and open pending invite with an explicit role, integrations with credentialsRef
 * placeholders naming environment variables. `plan` on the result shows no changes.
 */
export function exportManifests(state: ActualOrg): { file: string; docs: unknown[] }[] {
  const meta = (name: string) => ({ name });
  const api = 'orgctl.dev/v1alpha1';
  const org = {
    apiVersion: api,
    kind: 'Organization',
    metadata: meta(state.name),
    spec: {
      displayName: state.displayName,
      plan: state.plan,
      ...(state.cache.enabled ? { cache: { enabled: true, podType: state.cache.podType ?? 'small' } } : {}),
      members: { policy: 'additive' },
    },
  };
  const people = [
    ...[...state.members.values()].map((m) => ({
      email: m.email,
      role: m.role,
      ...(m.firstName ? { firstName: m.firstName } : {}),
      ...(m.lastName ? { lastName: m.lastName } : {}),
      ...(m.description ? { description: m.description } : {}),
    })),
    // Pending invites are people the organization wants; expired ones are left out (they would be resent).
    ...[...state.invites.values()].filter((i) => i.status === 'pending' && !state.members.has(i.email)).map((i) => ({ email: i.email, role: i.role })),
  ].sort((a, b) => (a.email < b.email ? -1 : 1));
  const membership = {
    apiVersion: api,
    kind: 'Membership',
    metadata: meta(`${state.name}-members`),
    spec: { organization: state.name, role: 'member', members: people },
  };
  const integrations = [...state.integrations.values()].map((i) => {
    const fields = CREDENTIAL_FIELDS[i.type] ?? [];
    return {
      apiVersion: api,
      kind: 'Integration',
      metadata: meta(`${state.name}-${i.name}`.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '')),
      spec: {
        organization: state.name,
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

function render(docs: unknown[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}

/** `orgctl export --org NAME [--out DIR]`. */
export async function runExport(opts: { org: string; out?: string; platform?: string }, io: Io): Promise<number> {
  const { platform } = await openTarget(opts.platform, io);
  try {
    const state = await platform.read(opts.org);
    if (!state) throw new UserError(`organization "${opts.org}" does not exist on ${platform.description}`);
    const files = exportManifests(state);
    if (!opts.out) {
      io.stdout(files.map((f) => render(f.docs)).join('---\n'));
      return ExitCode.ok;
    }
    makeUserDir(io, opts.out, 'the export');
    for (const f of files) {
      writeUserFile(io, join(opts.out, f.file), `# Exported from ${platform.description} by orgctl export.\n${render(f.docs)}`, 'the export');
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

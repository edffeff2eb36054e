import { PlatformError, type IntegrationWrite } from '../types.js';

/**
 * How a manifest's integration becomes the `options` object of Dataloop's integration calls, per type, as the
 * dtlpy docstrings give them (platform-apis.md 1.5, "Integration options by type"). Secret values come from the
 * credentials; the wire field names are accepted as credential names, and orgctl's usual names as aliases
 * (`accessKeyId` for `key`, ...), so the same Integration manifest works on the built-in platform.
 */
interface TypeMapping {
  /** Manifest `options` the type takes, sent under the same name. */
  options: readonly string[];
  /** Wire field <- the credential names it may come from (first present wins). All are required. */
  credentials: readonly { wire: string; from: readonly string[] }[];
  /** `aws-cross` / `gcp-cross`: created with `{}`, their options set by an update (dtlpy's docstrings). */
  setOnUpdate?: boolean;
}

const KEY = { wire: 'key', from: ['key', 'accessKeyId'] } as const;
const SECRET = { wire: 'secret', from: ['secret', 'secretAccessKey'] } as const;

const TYPES: Readonly<Record<string, TypeMapping>> = {
  s3: { options: [], credentials: [KEY, SECRET] },
  'aws-sts': { options: ['roleArns'], credentials: [KEY, SECRET] },
  gcs: { options: [], credentials: [{ wire: 'key', from: ['key'] }, { wire: 'secret', from: ['secret'] }, { wire: 'content', from: ['content', 'serviceAccountJson'] }] },
  azureblob: { options: ['clientId', 'tenantId'], credentials: [{ wire: 'key', from: ['key'] }, { wire: 'secret', from: ['secret', 'clientSecret'] }] },
  key_value: { options: [], credentials: [{ wire: 'key', from: ['key'] }, { wire: 'value', from: ['value'] }] },
  'aws-cross': { options: ['roleArn'], credentials: [], setOnUpdate: true },
  'gcp-cross': { options: ['email', 'resourceName'], credentials: [], setOnUpdate: true },
  // Docker-config registries (Docker Hub, GAR, ACR): `{name: "_json_key", spec: {password: <base64 of {"auths": ...}>}}`.
  'private-registry': { options: ['server', 'username'], credentials: [{ wire: 'password', from: ['password'] }] },
};

/** Integration types orgctl manages on Dataloop: the CRD's types that Dataloop's IntegrationType has (not `minio`). */
export const DATALOOP_INTEGRATION_TYPES = Object.keys(TYPES);

/** For Capabilities.integrationFields: options and credential names each type takes. */
export const DATALOOP_INTEGRATION_FIELDS = Object.fromEntries(
  Object.entries(TYPES).map(([type, m]) => [type, { options: m.options, credentials: m.credentials.flatMap((c) => c.from) }]),
);

export function setsOptionsOnUpdate(type: string): boolean {
  return TYPES[type]?.setOnUpdate === true;
}

/**
 * The wire `options` of an integration. Names missing or unknown credential fields, never a value. For the
 * cross-account types, `create` gives `{}` (their options go in a following update).
 */
export function wireOptions(spec: IntegrationWrite, purpose: 'create' | 'update'): Record<string, unknown> {
  const m = TYPES[spec.type];
  if (!m) throw new PlatformError(`integration "${spec.name}": type ${spec.type} is not managed on Dataloop`);
  if (m.setOnUpdate && purpose === 'create') return {};
  const creds = spec.credentials ?? {};
  const known = new Set(m.credentials.flatMap((c) => c.from));
  const unknown = Object.keys(creds).filter((k) => !known.has(k));
  if (unknown.length) {
    throw new PlatformError(`integration "${spec.name}": Dataloop ${spec.type} integrations take no credential field ${unknown.join(', ')} (they take: ${[...known].join(', ') || 'none'})`);
  }
  const out: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const c of m.credentials) {
    const from = c.from.find((f) => creds[f] !== undefined);
    if (from === undefined) missing.push(c.from.join(' or '));
    else out[c.wire] = creds[from];
  }
  if (missing.length) throw new PlatformError(`integration "${spec.name}": Dataloop ${spec.type} integrations need the credential field${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  for (const o of m.options) if (spec.options[o] !== undefined) out[o] = spec.options[o];
  if (spec.type === 'private-registry') return dockerRegistry(spec, String(out.password));
  return out;
}

function dockerRegistry(spec: IntegrationWrite, password: string): Record<string, unknown> {
  const server = spec.options.server;
  const username = spec.options.username;
  if (typeof server !== 'string' || typeof username !== 'string') {
    throw new PlatformError(`integration "${spec.name}": a Dataloop private-registry integration needs options.server and options.username (Docker-config registries; ECR is not supported)`);
  }
  // Docker's config.json form: `auth` is base64 of "username:password".
  const auths = { auths: { [server]: { username, password, auth: Buffer.from(`${username}:${password}`).toString('base64') } } };
  return { name: '_json_key', spec: { password: Buffer.from(JSON.stringify(auths)).toString('base64') } };
}

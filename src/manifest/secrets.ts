import type { FieldPath } from './path.js';

/**
 * Field names that hold secret values. Platforms name them differently (Dataloop's s3 options are
 * `{key, secret}`, key_value's `{key, value}`), so any of these written into a manifest is refused.
 */
const SECRET_FIELD = /^(secret|secrets|secretkey|secretaccesskey|accesskey|accesskeyid|key|value|content|password|passwd|pass|token|apikey|privatekey|clientsecret|credentials?|auth|sastoken|sas|connectionstring|serviceaccountjson|serviceaccountkey|sessiontoken)$/;

export function isSecretFieldName(name: string): boolean {
  return SECRET_FIELD.test(name.toLowerCase().replace(/[-_]/g, ''));
}

export interface InlineSecret {
  path: FieldPath;
  message: string;
}

const ADVICE =
  'secret values must not be written in manifests; put the value in a Kubernetes Secret (credentialsRef.secretName), ' +
  'an environment variable (credentialsRef.env) or a file kept out of git (credentialsRef.file)';

/**
 * Finds secret values written inline in an Integration: in spec.options, directly under spec, or inside
 * credentialsRef (which must only say where values are, never hold them). The value itself is never echoed.
 */
export function findInlineSecrets(kind: string, obj: Record<string, unknown>): InlineSecret[] {
  if (kind !== 'Integration') return [];
  const spec = obj.spec;
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return [];
  const out: InlineSecret[] = [];
  const scan = (node: unknown, path: FieldPath, allowed: ReadonlySet<string>) => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
    for (const k of Object.keys(node)) {
      if (allowed.has(k) || !isSecretFieldName(k)) continue;
      out.push({ path: [...path, k], message: `inline secret "${k}": ${ADVICE}` });
    }
  };
  const s = spec as Record<string, unknown>;
  scan(s, ['spec'], new Set(['organization', 'name', 'type', 'options', 'credentialsRef']));
  scan(s.options, ['spec', 'options'], new Set());
  scan(s.credentialsRef, ['spec', 'credentialsRef'], new Set(['secretName', 'keys', 'env', 'file']));
  return out;
}

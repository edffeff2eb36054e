import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { load } from 'js-yaml';
import type { CredentialsSource } from './model.js';

/**
 * Reads credential values from where a manifest says they are. Errors name the variable or file, never a
 * value. Kubernetes Secrets are read by the in-cluster controller, not here.
 */
export function resolveCredentials(ref: CredentialsSource, env: NodeJS.ProcessEnv, where: string): Record<string, string> {
  if (ref.env) {
    const out: Record<string, string> = {};
    const missing: string[] = [];
    for (const [field, variable] of Object.entries(ref.env)) {
      const value = env[variable];
      if (value === undefined || value === '') missing.push(variable);
      else out[field] = value;
    }
    if (missing.length) throw new Error(`${where}: credentialsRef.env: environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not set`);
    return out;
  }
  if (ref.file) {
    const path = isAbsolute(ref.file) ? ref.file : join(ref.baseDir ?? process.cwd(), ref.file);
    let parsed: unknown;
    try {
      parsed = load(readFileSync(path, 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A YAML error message would quote the file's content: say only where.
      throw new Error(`${where}: credentialsRef.file ${ref.file}: ${code === 'ENOENT' ? 'no such file' : code ? `cannot read (${code})` : 'not valid YAML or JSON'}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error(`${where}: credentialsRef.file ${ref.file}: must hold a mapping of credential field -> value`);
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`${where}: credentialsRef.file ${ref.file}: field "${k}" must be a string`);
      out[k] = String(v);
    }
    return out;
  }
  if (ref.secretName) {
    throw new Error(`${where}: credentialsRef.secretName is read by the in-cluster controller; on the command line use credentialsRef.env or credentialsRef.file`);
  }
  throw new Error(`${where}: credentialsRef names no source`);
}

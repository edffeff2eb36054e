import { isAbsolute, join } from 'node:path';
import { load } from 'js-yaml';
import type { CredentialsSource } from '../model/desired.js';
import { readBounded, TooLargeError } from '../util/read-bounded.js';

/**
 * Reads an integration's secret values from where its manifest says they are. Passed into planning and
 * applying, so each runner brings its own: the CLI reads environment variables and files, the in-cluster
 * controller Kubernetes Secrets. Errors name the variable, file or Secret, never a value.
 */
export interface CredentialResolver {
  /** `where` names the integration for messages (`integration "raw" of "acme"`). */
  resolve(ref: CredentialsSource, where: string): Promise<Record<string, string>>;
}

/** Credentials could not be read (a variable not set, a file missing): says which, never a value. */
export class CredentialsError extends Error {
  constructor(
    message: string,
    /** Variables, files or Secrets that were missing, for summaries. */
    readonly missing: string[] = [],
  ) {
    super(message);
  }
}

/** `credentialsRef.env` and `credentialsRef.file`, as the command line reads them. */
export class LocalCredentials implements CredentialResolver {
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly cwd: string = process.cwd(),
  ) {}

  async resolve(ref: CredentialsSource, where: string): Promise<Record<string, string>> {
    if (ref.env) return this.fromEnv(ref.env, where);
    if (ref.file) return this.fromFile(ref.file, ref.baseDir ?? this.cwd, where);
    if (ref.secretName) {
      throw new CredentialsError(`${where}: credentialsRef.secretName is read by the in-cluster controller; on the command line use credentialsRef.env or credentialsRef.file`);
    }
    throw new CredentialsError(`${where}: credentialsRef names no source`);
  }

  private fromEnv(names: Record<string, string>, where: string): Record<string, string> {
    const out: Record<string, string> = {};
    const missing: string[] = [];
    for (const [field, variable] of Object.entries(names)) {
      const value = this.env[variable];
      if (value === undefined || value === '') missing.push(variable);
      else out[field] = value;
    }
    if (missing.length) {
      throw new CredentialsError(`${where}: credentialsRef.env: environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not set`, missing);
    }
    return out;
  }

  private fromFile(file: string, baseDir: string, where: string): Record<string, string> {
    const path = isAbsolute(file) ? file : join(baseDir, file);
    let parsed: unknown;
    try {
      parsed = load(readBounded(path, MAX_CREDENTIALS_FILE).toString('utf8'));
    } catch (err) {
      if (err instanceof TooLargeError) {
        throw new CredentialsError(`${where}: credentialsRef.file ${file}: larger than ${MAX_CREDENTIALS_FILE / 1024} KiB; a credentials file holds a few fields`, [file]);
      }
      const code = (err as NodeJS.ErrnoException).code;
      // A YAML error message would quote the file's content: say only where.
      throw new CredentialsError(`${where}: credentialsRef.file ${file}: ${code === 'ENOENT' ? 'no such file' : code ? `cannot read (${code})` : 'not valid YAML or JSON'}`, [file]);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new CredentialsError(`${where}: credentialsRef.file ${file}: must hold a mapping of credential field -> value`);
    }
    const out: Record<string, string> = {};
    let index = 0;
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      index++;
      // Neither the key nor the value is quoted: in a file that is not what it should be (a password file
      // named by mistake), either may be the secret.
      if (typeof v !== 'string' && typeof v !== 'number') throw new CredentialsError(`${where}: credentialsRef.file ${file}: entry ${index} is not a field with a string value`);
      out[k] = String(v);
    }
    return out;
  }
}

/** Credential files are small; reading stops here, whatever size the file claims (a device never ends). */
export const MAX_CREDENTIALS_FILE = 64 * 1024;

import type { CredentialsSource } from '../../model/desired.js';
import { CredentialsError, LocalCredentials, type CredentialResolver } from '../../platform/credentials.js';
import { KubeApiError, type KubeClient } from './client.js';

/** A Secret, or a key in it, that credentialsRef names is not there (status reason SecretNotFound). */
export class SecretNotFoundError extends CredentialsError {}

interface SecretBody {
  metadata?: { resourceVersion?: string };
  data?: Record<string, string>;
}

/**
 * `credentialsRef.secretName` in a cluster: the values are the Secret's data, read from the Integration's
 * namespace when needed (never cached: a rotated Secret is read fresh). Without `keys`, every key of the
 * Secret is a credential field of that name; with `keys` (field -> key), exactly the fields it names.
 * `credentialsRef.env` reads the controller's own environment; `file` belongs to the command line. Errors name
 * the Secret and key, never a value.
 */
export class SecretCredentials implements CredentialResolver {
  private readonly local: LocalCredentials;
  /** The last problem reading each Secret (`namespace/name`), until it is read whole. */
  readonly failures = new Map<string, { reason: 'SecretNotFound' | 'SecretUnreadable'; message: string }>();
  /** The resourceVersion of each Secret when its values were last read. */
  readonly versions = new Map<string, string>();

  constructor(
    private readonly client: KubeClient,
    env: NodeJS.ProcessEnv,
  ) {
    this.local = new LocalCredentials(env);
  }

  async resolve(ref: CredentialsSource, where: string): Promise<Record<string, string>> {
    if (ref.secretName) return this.fromSecret(ref.secretName, ref.keys, ref.namespace, where);
    if (ref.env) return this.local.resolve({ env: ref.env }, where);
    if (ref.file) throw new CredentialsError(`${where}: credentialsRef.file is read on the command line; in a cluster use credentialsRef.secretName`);
    throw new CredentialsError(`${where}: credentialsRef names no source`);
  }

  private async fromSecret(name: string, keys: Record<string, string> | undefined, namespace: string | undefined, where: string): Promise<Record<string, string>> {
    if (!namespace) throw new CredentialsError(`${where}: credentialsRef.secretName ${name}: no namespace to read it from`);
    const ref = `${namespace}/${name}`;
    const fail = (reason: 'SecretNotFound' | 'SecretUnreadable', message: string): never => {
      this.failures.set(ref, { reason, message });
      throw reason === 'SecretNotFound' ? new SecretNotFoundError(message, [ref]) : new CredentialsError(message, [ref]);
    };
    let secret: SecretBody;
    try {
      secret = await this.client.get<SecretBody>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return fail('SecretNotFound', `${where}: Secret ${ref} not found`);
      if (err instanceof KubeApiError && err.status === 403) return fail('SecretUnreadable', `${where}: Secret ${ref}: forbidden (the controller's service account may not read Secrets in ${namespace})`);
      return fail('SecretUnreadable', `${where}: Secret ${ref} could not be read: ${err instanceof KubeApiError ? `${err.status} ${err.reason}` : (err as Error).message}`);
    }
    const data = secret.data ?? {};
    const out: Record<string, string> = {};
    if (keys && Object.keys(keys).length) {
      const missing: string[] = [];
      for (const [field, key] of Object.entries(keys)) {
        if (typeof data[key] !== 'string') missing.push(key);
        else out[field] = Buffer.from(data[key], 'base64').toString('utf8');
      }
      if (missing.length) return fail('SecretNotFound', `${where}: key${missing.length > 1 ? 's' : ''} ${missing.map((k) => `"${k}"`).join(', ')} not found in Secret ${ref}`);
    } else {
      for (const [key, value] of Object.entries(data)) out[key] = Buffer.from(value, 'base64').toString('utf8');
      if (!Object.keys(out).length) return fail('SecretNotFound', `${where}: Secret ${ref} has no data`);
    }
    this.failures.delete(ref);
    if (secret.metadata?.resourceVersion) this.versions.set(ref, secret.metadata.resourceVersion);
    return out;
  }
}

import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { delimiter } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

/** Where a pod's service account is mounted (in-cluster config). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A JSON object as the API server sends it. */
export type Obj = Record<string, unknown>;

/** An answer of the API server that is not a success: its HTTP status, and the Status object's reason and message. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    /** e.g. `get secrets team-a/raw-images` */
    readonly what: string,
  ) {
    super(`${what}: ${status} ${reason}${message ? `: ${message}` : ''}`);
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409;
}

/**
 * Loads the client configuration as client-go does: `$KUBECONFIG` when set, else the pod's service account
 * when running in a cluster, else `~/.kube/config`. A plain `http://` server (kubectl proxy, the tests' API
 * server) is allowed: client-node refuses one unless TLS verification is marked skipped, which over plain
 * HTTP means nothing.
 */
export function loadKubeConfig(env: NodeJS.ProcessEnv = process.env): { config: KubeConfig; namespace: string; inCluster: boolean } {
  const config = new KubeConfig();
  const inCluster = !env.KUBECONFIG && !!env.KUBERNETES_SERVICE_HOST && existsSync(`${SERVICE_ACCOUNT_DIR}/token`);
  if (inCluster) config.loadFromCluster();
  else if (env.KUBECONFIG) {
    // As kubectl: every file of the list, the first one's current context.
    const [first, ...rest] = env.KUBECONFIG.split(delimiter).filter(Boolean);
    config.loadFromFile(first!);
    for (const file of rest) {
      const more = new KubeConfig();
      more.loadFromFile(file);
      config.mergeConfig(more, true);
    }
  } else config.loadFromDefault();
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('no Kubernetes cluster configured: set KUBECONFIG, or run in a pod with a service account');
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    config.clusters = config.clusters.map((c) => (c.name === cluster.name ? { ...c, skipTLSVerify: true } : c));
  }
  let namespace = config.getContextObject(config.getCurrentContext())?.namespace;
  if (!namespace && existsSync(`${SERVICE_ACCOUNT_DIR}/namespace`)) namespace = readFileSync(`${SERVICE_ACCOUNT_DIR}/namespace`, 'utf8').trim();
  return { config, namespace: namespace || 'default', inCluster };
}

export interface RequestOptions {
  body?: unknown;
  /** Content type of the body; a PATCH must name its patch type (the default would be JSON, never strategic merge). */
  contentType?: string;
  accept?: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Milliseconds before the request is abandoned (default 30 s). */
  timeoutMs?: number;
}

/**
 * A small JSON client of the Kubernetes API for everything that is not an informer: gets, status and finalizer
 * patches, Leases, Events. Authentication and TLS come from the KubeConfig (a service account's token is read
 * again as it rotates); connections are kept alive in one agent. Every PATCH states its type explicitly: custom
 * resources refuse strategic merge patch with 415.
 */
export class KubeClient {
  private agent: http.Agent | undefined;
  private readonly server: URL;

  constructor(
    readonly config: KubeConfig,
    readonly userAgent = 'orgctl-controller',
  ) {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error('no Kubernetes cluster configured');
    this.server = new URL(cluster.server);
  }

  private async options(): Promise<https.RequestOptions> {
    const opts: https.RequestOptions = {};
    await this.config.applyToHTTPSOptions(opts);
    if (!this.agent) {
      const agentOptions = { keepAlive: true, maxSockets: 16, ca: opts.ca, cert: opts.cert, key: opts.key, pfx: opts.pfx, passphrase: opts.passphrase, ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}) };
      this.agent = this.server.protocol === 'http:' ? new http.Agent(agentOptions) : new https.Agent(agentOptions);
    }
    return opts;
  }

  async request<T = Obj>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const auth = await this.options();
    const url = new URL(path, this.server);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: http.OutgoingHttpHeaders = {
      ...(auth.headers as http.OutgoingHttpHeaders | undefined),
      Accept: opts.accept ?? 'application/json',
      'User-Agent': this.userAgent,
      ...(body ? { 'Content-Type': opts.contentType ?? 'application/json', 'Content-Length': body.length } : {}),
    };
    if (auth.auth) headers.Authorization = `Basic ${Buffer.from(auth.auth).toString('base64')}`;
    const what = `${method.toLowerCase()} ${path}`;
    const send = url.protocol === 'http:' ? http.request : https.request;
    return new Promise<T>((resolve, reject) => {
      const req = send(url, { method, headers, agent: this.agent, timeout: opts.timeoutMs ?? 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : {};
          } catch {
            parsed = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            if (parsed === undefined) return reject(new KubeApiError(status, 'BadResponse', 'the answer is not JSON', what));
            return resolve(parsed as T);
          }
          const s = (parsed ?? {}) as { reason?: string; message?: string };
          // The API server's Status never holds a Secret's data; its message is safe to show.
          reject(new KubeApiError(status, s.reason ?? (status === 0 ? 'NoAnswer' : `HTTP${status}`), typeof s.message === 'string' ? s.message.slice(0, 500) : '', what));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${what}: no answer within ${Math.round((opts.timeoutMs ?? 30_000) / 1000)} s`)));
      req.on('error', (err) => reject(err instanceof KubeApiError ? err : new KubeApiError(0, 'ConnectionFailed', (err as NodeJS.ErrnoException).code ?? err.message, what)));
      req.end(body);
    });
  }

  get<T = Obj>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', path, opts);
  }

  /** JSON merge patch (RFC 7386): maps merge, arrays are replaced whole, null removes a field. */
  mergePatch<T = Obj>(path: string, body: unknown, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('PATCH', path, { body, contentType: 'application/merge-patch+json', query });
  }

  close(): void {
    this.agent?.destroy();
  }
}

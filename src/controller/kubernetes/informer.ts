import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';

export type ObjectHandler<T> = (obj: T) => void;

export interface InformerOptions<T> {
  client: KubeClient;
  config: KubeConfig;
  /** The collection: `/apis/orgctl.dev/v1alpha1/namespaces/team-a/organizations`, `/api/v1/secrets`, ... */
  path: string;
  /** Ask for PartialObjectMetadata: names and resourceVersions only (Secrets: the values are read when used). */
  metadataOnly?: boolean;
  onAdd?: ObjectHandler<T>;
  onUpdate?: ObjectHandler<T>;
  onDelete?: ObjectHandler<T>;
  /** Told each failure and when the informer starts again. */
  onError?: (err: unknown, retryInMs: number) => void;
  /** Restarts after an error back off from this, doubling to maxBackoffMs (default 1 s to 60 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** The server ends each watch after about this long, and it is opened again from the last version (default 5 to 10 min). */
  watchTimeoutSeconds?: () => number;
}

const PARTIAL_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const PARTIAL = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

/**
 * client-node's informer (ListWatch: list, then watch from the list's resourceVersion; on `410 Gone` it lists
 * again), made to keep going: client-node stops an informer on any other error (a dropped connection, a 500,
 * a list that failed) and never restarts it, so this restarts it with exponential backoff, resuming the watch
 * from the last version seen. Watches ask for bookmarks (the version stays fresh through quiet hours, so a
 * re-watch does not fall off the server's history) and for a server-side timeout, so a connection that died
 * without a word is replaced within minutes.
 */
export class Informer<T extends KubernetesObject> {
  private readonly lw: ListWatch<T>;
  private stopped = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private syncedResolve!: () => void;
  /** Resolves once the first list has been read into the cache. */
  readonly synced: Promise<void>;
  private hasSynced = false;

  constructor(private readonly opts: InformerOptions<T>) {
    this.synced = new Promise((resolve) => (this.syncedResolve = resolve));
    const list = async (): Promise<KubernetesListObject<T>> => {
      const result = await opts.client.get<KubernetesListObject<T>>(opts.path, opts.metadataOnly ? { accept: PARTIAL_LIST } : {});
      // ListWatch puts the items into its cache as soon as this resolves; the cache is whole after that.
      setImmediate(() => {
        this.failures = 0;
        if (!this.hasSynced) {
          this.hasSynced = true;
          this.syncedResolve();
        }
      });
      return result;
    };
    const watcher = new Watch(opts.metadataOnly ? acceptingConfig(opts.config, PARTIAL) : opts.config);
    const timeout = opts.watchTimeoutSeconds ?? (() => 300 + Math.floor(Math.random() * 300));
    const watch = {
      watch: (path: string, query: Record<string, string | number | boolean | undefined>, callback: (phase: string, obj: unknown, raw?: unknown) => void, done: (err: unknown) => void) =>
        watcher.watch(path, { ...query, allowWatchBookmarks: true, timeoutSeconds: timeout() }, (phase, obj, raw) => {
          this.failures = 0;
          callback(phase, obj, raw);
        }, done),
    } as unknown as Watch;
    this.lw = new ListWatch<T>(opts.path, watch, list, false);
    if (opts.onAdd) this.lw.on('add', opts.onAdd);
    if (opts.onUpdate) this.lw.on('update', opts.onUpdate);
    if (opts.onDelete) this.lw.on('delete', opts.onDelete);
    this.lw.on('error', (err) => this.failed(err));
  }

  /** Starts listing and watching; resolves once the first list is in the cache. */
  async start(): Promise<void> {
    this.stopped = false;
    void this.lw.start().catch((err: unknown) => this.failed(err));
    await this.synced;
  }

  private failed(err: unknown): void {
    // Stopping aborts the watch, which reports the abort as an error: not one to restart on.
    if (this.stopped) return;
    const delay = Math.min(this.opts.maxBackoffMs ?? 60_000, (this.opts.backoffMs ?? 1000) * 2 ** this.failures);
    this.failures++;
    this.opts.onError?.(err, delay);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.stopped) void this.lw.start().catch((e: unknown) => this.failed(e));
    }, delay * (0.9 + Math.random() * 0.2));
    this.timer.unref();
  }

  list(): readonly T[] {
    return this.lw.list();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.lw.get(name, namespace);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.lw.stop();
  }
}

/** The same configuration, with an Accept header added to every request client-node's Watch makes. */
function acceptingConfig(config: KubeConfig, accept: string): KubeConfig {
  return {
    getCurrentCluster: () => config.getCurrentCluster(),
    applyToFetchOptions: async (o: Parameters<KubeConfig['applyToFetchOptions']>[0]) => {
      const init = await config.applyToFetchOptions(o);
      (init.headers as unknown as { set(k: string, v: string): void }).set('Accept', accept);
      return init;
    },
  } as unknown as KubeConfig;
}

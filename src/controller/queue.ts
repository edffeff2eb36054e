/** Timers the queue runs on: the real ones, or a test's hand-driven clock. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** controller-runtime's per-item backoff, slowed to what a SaaS API wants: 1 s doubling to 5 min. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 5 * 60_000 };

/**
 * A work queue keyed by organization, with controller-runtime's semantics:
 * - a key added while it waits is there once (events coalesce);
 * - a key is never handed out twice at once: added while being processed, it waits until `done`, then runs
 *   again (so the newest state is always seen);
 * - `addAfter` delays a key (the earliest of several delays wins);
 * - `addRateLimited` delays it by the key's own exponential backoff, which `forget` resets.
 */
export class WorkQueue<K> {
  private readonly queue: K[] = [];
  /** Keys waiting to be processed (in `queue`, or re-added while processing). */
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly delayed = new Map<K, { at: number; handle: unknown }>();
  private readonly failures = new Map<K, number>();
  private readonly waiters: ((key: K | undefined) => void)[] = [];
  private shuttingDown = false;
  /** Told of adds and retries, for metrics. */
  onAdd?: (key: K) => void;
  onRetry?: (key: K) => void;

  constructor(
    private readonly backoff: BackoffPolicy = DEFAULT_BACKOFF,
    private readonly timers: Timers = realTimers,
  ) {}

  /** Keys waiting to be handed out (not counting ones being processed or delayed). */
  get depth(): number {
    return this.queue.length;
  }

  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.onAdd?.(key);
    if (this.processing.has(key)) return; // runs again when the current run is done
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      this.queue.push(key);
    }
  }

  /** Adds `key` after `ms`; a key already delayed keeps the earlier time. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.timers.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    if (existing) this.timers.clearTimeout(existing.handle);
    const handle = this.timers.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, handle });
  }

  /** The delay the next failure of `key` gets: base * 2^failures, capped. */
  nextBackoff(key: K): number {
    const n = this.failures.get(key) ?? 0;
    return Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** n);
  }

  /** Adds `key` after its backoff, and grows the backoff. Returns the delay. */
  addRateLimited(key: K): number {
    const delay = this.nextBackoff(key);
    this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
    this.onRetry?.(key);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets `key`'s backoff (after a success). */
  forget(key: K): void {
    this.failures.delete(key);
  }

  /** Drops a pending delay of `key` (the key is no longer managed). */
  cancelDelay(key: K): void {
    const d = this.delayed.get(key);
    if (d) this.timers.clearTimeout(d.handle);
    this.delayed.delete(key);
  }

  /** Waits for the next key; undefined once the queue shuts down. */
  get(): Promise<K | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile, it is queued again. */
  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  isProcessing(key: K): boolean {
    return this.processing.has(key);
  }

  /** Hands out nothing more: waiting `get`s end with undefined, delays are dropped. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) this.timers.clearTimeout(d.handle);
    this.delayed.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}

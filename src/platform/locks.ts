import { randomUUID } from 'node:crypto';

/**
 * The apply lock on organizations, apart from `Platform` because most platforms have no lease API: the
 * built-in platform's lease, a Kubernetes Lease in a cluster, or none. An implementation holds a lease per
 * organization (which need not exist yet) for a time-to-live, renewed while held, so a killed holder's lock
 * frees itself.
 */
export interface Locks {
  /** What holds the lock, for messages: `platform lease`, `Kubernetes Lease`, `none`. */
  readonly kind: string;
  /** False when nothing stops two applies from writing one organization at once. */
  readonly enforced: boolean;
  /** Takes the lease, or extends it when `id` holds it already. Throws LeaseHeldError while another holds it. */
  acquire(org: string, lease: { id: string; holder: string; ttlMs: number }): Promise<void>;
  /** Extends a held lease; throws LockLostError when it ran out and was taken. */
  renew(org: string, id: string, ttlMs: number): Promise<void>;
  /** Gives a lease up; a lease no longer held is fine. */
  release(org: string, id: string): Promise<void>;
  /** Breaks whatever lease an organization has (force-unlock); returns whose it was, if any. */
  break(org: string): Promise<{ holder: string; since: string } | undefined>;
  /** Who holds the lease now, if anyone (force-unlock asks before breaking a live one). */
  holder(org: string): Promise<{ holder: string; since: string; expiresAt: string } | undefined>;
}

/** Someone else holds an organization's apply lock. */
export class LeaseHeldError extends Error {
  constructor(
    readonly organization: string,
    readonly holder: string,
    readonly since: string,
    readonly expiresAt: string,
  ) {
    super(`organization "${organization}" is locked by ${holder} since ${since}`);
  }
}

/** A held lease ran out and may be someone else's now. */
export class LockLostError extends Error {}

/** No locking: for platforms that cannot hold a lease. Apply says once that concurrent applies are not prevented. */
export class NoLocks implements Locks {
  readonly kind = 'none';
  readonly enforced = false;
  async acquire(): Promise<void> {}
  async renew(): Promise<void> {}
  async release(): Promise<void> {}
  async break(): Promise<undefined> {
    return undefined;
  }
  async holder(): Promise<undefined> {
    return undefined;
  }
}

export interface LockOptions {
  /** Who holds the lock, as another apply will be told. */
  holder: string;
  /** How long to wait for a held lock; 0 fails at once. */
  timeoutMs: number;
  /** Lease length; renewed every third of it while held, so a killed holder frees it within this long. */
  ttlMs: number;
  /** Told once per organization when waiting starts. */
  onWait?: (err: LeaseHeldError) => void;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** Held apply leases on some organizations, renewed in the background until released. */
export interface HeldLocks {
  /** Set when a renewal failed: the lease may be someone else's now, so writing must stop. */
  lost(): string | undefined;
  release(): Promise<void>;
}

/** A lock could not be had within the timeout. */
export class LockTimeoutError extends Error {
  constructor(
    readonly held: LeaseHeldError,
    timeoutMs: number,
  ) {
    super(
      `${held.message} (the lease runs out at ${held.expiresAt} unless renewed); ` +
        (timeoutMs > 0 ? `gave up after waiting ${Math.round(timeoutMs / 1000)}s` : 'not waiting') +
        ' (raise --lock-timeout to wait)',
    );
  }
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Takes the lock on each organization, in name order so two applies over overlapping sets cannot deadlock,
 * waiting up to `timeoutMs` for each held one. On failure the leases already taken are released.
 */
export async function lockOrganizations(locks: Locks, orgs: Iterable<string>, opts: LockOptions): Promise<HeldLocks> {
  const id = randomUUID();
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? wait;
  const start = now();
  const held: string[] = [];
  const releaseAll = async () => {
    for (const org of held.splice(0)) await locks.release(org, id).catch(() => undefined); // it runs out anyway
  };
  try {
    for (const org of [...new Set(orgs)].sort()) {
      let told = false;
      for (;;) {
        try {
          await locks.acquire(org, { id, holder: opts.holder, ttlMs: opts.ttlMs });
          held.push(org);
          break;
        } catch (err) {
          if (!(err instanceof LeaseHeldError)) throw err;
          const waited = now() - start;
          if (waited >= opts.timeoutMs) throw new LockTimeoutError(err, opts.timeoutMs);
          if (!told) opts.onWait?.(err);
          told = true;
          await sleep(Math.min(opts.pollMs ?? 1000, opts.timeoutMs - waited));
        }
      }
    }
  } catch (err) {
    await releaseAll();
    throw err;
  }

  let lost: string | undefined;
  let renewing: Promise<void> | undefined;
  const timer = locks.enforced && held.length
    ? setInterval(() => {
        if (renewing) return; // a slow renewal is still going
        renewing = (async () => {
          for (const org of held) {
            try {
              await locks.renew(org, id, opts.ttlMs);
            } catch (err) {
              // A failed renewal may only be the network; the lease is lost for sure when the holder says so.
              if (err instanceof LockLostError) lost ??= `lost the lock on "${org}": ${err.message}`;
            }
          }
        })().finally(() => (renewing = undefined));
      }, Math.max(100, Math.floor(opts.ttlMs / 3)))
    : undefined;
  timer?.unref();
  return {
    lost: () => lost,
    release: async () => {
      clearInterval(timer);
      await renewing;
      await releaseAll();
    },
  };
}

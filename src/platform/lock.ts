import { randomUUID } from 'node:crypto';
import { LeaseHeldError, PlatformError, type Platform } from './types.js';

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
 * Takes the apply lease on each organization, in name order so two applies over overlapping sets cannot
 * deadlock, waiting up to `timeoutMs` for each held one. On failure the leases already taken are released.
 */
export async function lockOrganizations(platform: Platform, orgs: Iterable<string>, opts: LockOptions): Promise<HeldLocks> {
  const id = randomUUID();
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? wait;
  const start = now();
  const held: string[] = [];
  const releaseAll = async () => {
    for (const org of held.splice(0)) await platform.releaseLease(org, id).catch(() => undefined); // it runs out anyway
  };
  try {
    for (const org of [...new Set(orgs)].sort()) {
      let told = false;
      for (;;) {
        try {
          await platform.acquireLease(org, { id, holder: opts.holder, ttlMs: opts.ttlMs });
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
  const timer = setInterval(() => {
    if (renewing) return; // a slow renewal is still going
    renewing = (async () => {
      for (const org of held) {
        try {
          await platform.renewLease(org, id, opts.ttlMs);
        } catch (err) {
          // A failed renewal may only be the network; the lease is lost for sure when the platform says so.
          if (err instanceof PlatformError && err.code === 'lease_lost') lost ??= `lost the lock on "${org}": ${err.message}`;
        }
      }
    })().finally(() => (renewing = undefined));
  }, Math.max(100, Math.floor(opts.ttlMs / 3)));
  timer.unref();
  return {
    lost: () => lost,
    release: async () => {
      clearInterval(timer);
      await renewing;
      await releaseAll();
    },
  };
}

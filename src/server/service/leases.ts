import { ApiError, badRequest, conflict } from '../errors.js';
import { isoTime } from '../time.js';
import type { Actor, Context } from './context.js';

export interface Lease {
  organization: string;
  id: string;
  holder: string;
  since: string;
  expiresAt: string;
}

interface LeaseRow {
  org: string;
  id: string;
  holder: string;
  user_id: number;
  acquired_at: number;
  expires_at: number;
}

/** Leases run between one second and one hour: long enough for a slow call, short enough to free a crash. */
export const MIN_TTL_MS = 1_000;
export const MAX_TTL_MS = 3_600_000;

/**
 * Per-organization apply leases: the platform side of `orgctl apply`'s lock. A lease is held until its
 * holder releases it or lets it run out; while it is live, anyone else asking gets 409 naming the holder.
 */
export class Leases {
  constructor(private readonly ctx: Context) {}

  private view(row: LeaseRow): Lease {
    return { organization: row.org, id: row.id, holder: row.holder, since: isoTime(row.acquired_at), expiresAt: isoTime(row.expires_at) };
  }

  private live(org: string): LeaseRow | undefined {
    const row = this.ctx.stmt('SELECT * FROM leases WHERE org = ?').get(org) as LeaseRow | undefined;
    return row && row.expires_at > this.ctx.now() ? row : undefined;
  }

  /** Who may lock: owners and admins of an existing organization; anyone for a name not taken yet. */
  private mayLock(org: string, actor: Actor): void {
    const row = this.ctx.stmt('SELECT * FROM orgs WHERE name = ?').get(org);
    if (row) this.ctx.require(this.ctx.orgByName(org), actor, ['owner', 'admin'], 'lock the organization');
  }

  private ttl(ttlMs: number): number {
    if (!Number.isInteger(ttlMs) || ttlMs < MIN_TTL_MS || ttlMs > MAX_TTL_MS) throw badRequest(`ttlSeconds must be between ${MIN_TTL_MS / 1000} and ${MAX_TTL_MS / 1000}`, 'ttlSeconds');
    return ttlMs;
  }

  private held(row: LeaseRow): ApiError {
    return conflict('lease_held', `organization "${row.org}" is locked by ${row.holder} since ${isoTime(row.acquired_at)}`, {
      holder: row.holder,
      since: isoTime(row.acquired_at),
      expiresAt: isoTime(row.expires_at),
    });
  }

  /** Takes the lease, or renews it when `id` already holds it. 409 `lease_held` while someone else does. */
  acquire(actor: Actor, org: string, req: { id: string; holder: string; ttlMs: number }): Lease {
    const ttlMs = this.ttl(req.ttlMs);
    return this.ctx.write(() => {
      this.mayLock(org, actor);
      const current = this.live(org);
      if (current && current.id !== req.id) throw this.held(current);
      const now = this.ctx.now();
      const since = current?.acquired_at ?? now;
      this.ctx
        .stmt('INSERT INTO leases (org, id, holder, user_id, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (org) DO UPDATE SET id = excluded.id, holder = excluded.holder, user_id = excluded.user_id, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at')
        .run(org, req.id, req.holder, actor.id, since, now + ttlMs);
      return this.view(this.ctx.stmt('SELECT * FROM leases WHERE org = ?').get(org) as LeaseRow);
    });
  }

  /** Extends a live lease held by `id`. 409 `lease_lost` if it ran out and someone else took it (or nobody). */
  renew(actor: Actor, org: string, id: string, ttlMs: number): Lease {
    const ttl = this.ttl(ttlMs);
    return this.ctx.write(() => {
      this.mayLock(org, actor);
      const current = this.live(org);
      if (!current || current.id !== id) {
        if (current) throw conflict('lease_lost', `the lease on "${org}" ran out and ${current.holder} holds it now`, { holder: current.holder, since: isoTime(current.acquired_at) });
        throw conflict('lease_lost', `the lease on "${org}" ran out`);
      }
      this.ctx.stmt('UPDATE leases SET expires_at = ? WHERE org = ?').run(this.ctx.now() + ttl, org);
      return this.view(this.ctx.stmt('SELECT * FROM leases WHERE org = ?').get(org) as LeaseRow);
    });
  }

  /** Gives the lease up; releasing a lease one no longer holds does nothing (a retried release is fine). */
  release(actor: Actor, org: string, id: string): void {
    this.ctx.write(() => {
      this.mayLock(org, actor);
      this.ctx.stmt('DELETE FROM leases WHERE org = ? AND id = ?').run(org, id);
    });
  }

  /** Removes whatever lease an organization has (`orgctl force-unlock`): owners and admins only. */
  forceRelease(actor: Actor, org: string): Lease | undefined {
    return this.ctx.write(() => {
      this.mayLock(org, actor);
      const row = this.ctx.stmt('SELECT * FROM leases WHERE org = ?').get(org) as LeaseRow | undefined;
      this.ctx.stmt('DELETE FROM leases WHERE org = ?').run(org);
      return row ? this.view(row) : undefined;
    });
  }

  get(actor: Actor, org: string): Lease | undefined {
    this.mayLock(org, actor);
    const row = this.live(org);
    return row ? this.view(row) : undefined;
  }
}

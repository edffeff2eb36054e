import type { Clock } from '../clock.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db.js';
import { forbidden, notFound } from '../errors.js';
import { ROLES, type Role } from '../../model/roles.js';

export { ROLES, type Role };

/** A row of the users table. */
export interface UserRow {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  description: string;
  superuser: number;
  active_org_id: number | null;
  created_at: number;
  last_connection_at: number | null;
}

/** Who is calling: an authenticated user. */
export interface Actor {
  id: number;
  email: string;
  superuser: boolean;
  /** The scope of the token used (absent: not through a token, e.g. the operator on the database; acts as write). */
  scope?: 'read' | 'write';
  /** The token used, if any. */
  tokenId?: number;
}

export interface OrgRow {
  id: number;
  name: string;
  display_name: string;
  plan: 'freemium' | 'premium';
  creator_id: number;
  cache_state: 'none' | 'pending' | 'destroyed';
  cache_pod_type: 'small' | 'medium' | 'high' | null;
  cache_ready_at: number | null;
  version: number;
  created_at: number;
  updated_at: number;
}

/** What every service module needs: the database, the clock and a few shared rules. */
export class Context {
  private readonly statements = new Map<string, Statement>();

  constructor(
    readonly db: Db,
    readonly clock: Clock,
  ) {}

  /** A prepared statement, compiled once per SQL text: preparing costs more than running most queries. */
  stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  /** Like stmt, but rows come back as arrays: about 3x faster for long lists (no per-row property maps). */
  rawStmt(sql: string): Statement {
    const key = `raw\u0000${sql}`;
    let s = this.statements.get(key);
    if (!s) this.statements.set(key, (s = this.db.prepare(sql).raw(true)));
    return s;
  }

  now(): number {
    return this.clock.now();
  }

  private readonly afterCommit: (() => void)[] = [];

  /**
   * Runs `fn` in one write transaction (BEGIN IMMEDIATE: no lock upgrade deadlocks between processes); inside
   * another, as a savepoint of it. What `onCommit` queued runs once the outermost transaction has committed.
   */
  write<T>(fn: () => T): T {
    if (this.db.inTransaction) return this.db.transaction(fn).immediate();
    let result: T;
    try {
      result = this.db.transaction(fn).immediate();
    } catch (err) {
      this.afterCommit.length = 0;
      throw err;
    }
    for (const done of this.afterCommit.splice(0)) done();
    return result;
  }

  /** Runs `fn` when the write transaction in progress has committed (at once outside of one); never if it rolls back. */
  onCommit(fn: () => void): void {
    if (this.db.inTransaction) this.afterCommit.push(fn);
    else fn();
  }

  /**
   * Finds an organization by its name: what clients, paths and manifests use. Never by id, whatever the name
   * looks like: an organization named "1" is that organization, not the one whose id is 1.
   */
  orgByName(name: string): OrgRow {
    const row = this.findOrg(name);
    if (!row) throw notFound(`organization "${name}"`);
    return row;
  }

  /** The organization by name, or undefined. */
  findOrg(name: string): OrgRow | undefined {
    return this.stmt('SELECT * FROM orgs WHERE name = ?').get(name) as OrgRow | undefined;
  }

  /** Finds an organization by its row id: for ids read from other rows, never for what a client sent. */
  orgById(id: number): OrgRow {
    const row = this.stmt('SELECT * FROM orgs WHERE id = ?').get(id) as OrgRow | undefined;
    if (!row) throw notFound(`organization ${id}`);
    return row;
  }

  roleIn(orgId: number, userId: number): Role | undefined {
    const row = this.stmt('SELECT role FROM memberships WHERE org_id = ? AND user_id = ?').get(orgId, userId) as
      | { role: Role }
      | undefined;
    return row?.role;
  }

  /**
   * The actor's role in the organization, which must be one of `allowed` (superusers pass as owners).
   * Someone outside the organization gets 404, not 403: they may not learn what exists.
   */
  require(org: OrgRow, actor: Actor, allowed: readonly Role[], action: string): Role {
    const role = actor.superuser ? 'owner' : this.roleIn(org.id, actor.id);
    if (!role) throw notFound(`organization "${org.name}"`);
    if (!allowed.includes(role)) throw forbidden(`a ${role} may not ${action} (needs ${allowed.join(' or ')})`);
    return role;
  }

  /**
   * Records a change and moves the organization's state version on (unless it changed nothing the
   * organization's state holds). `orgId` null: a platform-wide entry (tokens, settings), read by superusers.
   * Call inside the change's transaction. Inside `batch`, the entry is written with the batch's others at its end.
   */
  audit(orgId: number | null, actor: Actor | string, action: string, target: string, details: Record<string, unknown> = {}, opts: { bumpVersion?: boolean } = {}): void {
    const now = this.now();
    const bump = orgId !== null && opts.bumpVersion !== false;
    const values = [orgId, now, typeof actor === 'string' ? actor : actor.email, action, target, JSON.stringify(details)];
    if (this.pending) {
      this.pending.push({ insert: AUDIT_INSERT, values, bump: bump ? orgId : null });
      return;
    }
    this.stmt(`${AUDIT_INSERT} (?, ?, ?, ?, ?, ?)`).run(values);
    if (bump) this.stmt('UPDATE orgs SET version = version + 1, updated_at = ? WHERE id = ?').run(now, orgId);
  }

  /** Rows of the batch in progress (see batch), written at its end. */
  private pending: { insert: string; values: unknown[]; bump: number | null }[] | undefined;

  /**
   * Runs a batch of items (call inside a write transaction): the rows they defer (audit entries; `defer`) are
   * inserted together at its end, many to a statement, and each organization's state version moves once, by
   * as much as the items moved it. Items run in `item`, so a failed one leaves no row behind.
   */
  batch<T>(fn: () => T): T {
    if (this.pending) return fn();
    this.pending = [];
    try {
      const result = fn();
      this.flush(this.pending);
      return result;
    } finally {
      this.pending = undefined;
    }
  }

  /**
   * One item of a batch, in a savepoint: if it throws, its writes are undone, and the rows it deferred and what
   * it queued for after the commit are dropped.
   */
  item<T>(fn: () => T): T {
    const mark = this.pending?.length ?? 0;
    const queued = this.afterCommit.length;
    try {
      return this.db.transaction(fn)();
    } catch (err) {
      if (this.pending) this.pending.length = mark;
      this.afterCommit.length = queued;
      throw err;
    }
  }

  /**
   * Inserts a row (`insert` is `INSERT INTO table (columns) VALUES`) at the end of the batch in progress, or at
   * once outside of one.
   */
  defer(insert: string, values: unknown[]): void {
    if (this.pending) this.pending.push({ insert, values, bump: null });
    else this.stmt(`${insert} (${placeholders(values.length)})`).run(values);
  }

  private flush(rows: { insert: string; values: unknown[]; bump: number | null }[]): void {
    const byInsert = new Map<string, unknown[][]>();
    const bumps = new Map<number, number>();
    for (const r of rows) {
      let list = byInsert.get(r.insert);
      if (!list) byInsert.set(r.insert, (list = []));
      list.push(r.values);
      if (r.bump !== null) bumps.set(r.bump, (bumps.get(r.bump) ?? 0) + 1);
    }
    for (const [insert, list] of byInsert) {
      const one = `(${placeholders(list[0]!.length)})`;
      let k = 0;
      if (list.length >= ROWS_PER_INSERT) {
        const many = this.stmt(`${insert} ${new Array<string>(ROWS_PER_INSERT).fill(one).join(', ')}`);
        for (; k + ROWS_PER_INSERT <= list.length; k += ROWS_PER_INSERT) many.run(list.slice(k, k + ROWS_PER_INSERT).flat());
      }
      const single = this.stmt(`${insert} ${one}`);
      for (; k < list.length; k++) single.run(list[k]!);
    }
    const now = this.now();
    for (const [orgId, n] of bumps) this.stmt('UPDATE orgs SET version = version + ?, updated_at = ? WHERE id = ?').run(n, now, orgId);
  }
}

const AUDIT_INSERT = 'INSERT INTO audit (org_id, at, actor, action, target, details) VALUES';
/** Rows per multi-row INSERT when a batch is written (SQLite takes up to 32,766 parameters a statement). */
const ROWS_PER_INSERT = 100;

function placeholders(n: number): string {
  return new Array<string>(n).fill('?').join(', ');
}

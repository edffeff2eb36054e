import { hashToken, newToken } from '../crypto.js';
import { ApiError, badRequest, conflict, databaseError, forbidden, notFound, unauthorized } from '../errors.js';
import { isoTime } from '../time.js';
import type { Actor, Context, Role, UserRow } from './context.js';

/** What tokens need of the platform's users (Identity provides it; declared here, where it is used). */
export interface Users {
  userByEmail(email: string): UserRow | undefined;
  userById(id: number): UserRow;
  ensureUser(email: string, profile?: { firstName?: string; lastName?: string; description?: string }, superuser?: boolean): UserRow;
  /** Puts a user who is in no organization into a new one; returns its name when it made one. */
  ensureHasOrganization(userId: number): string | undefined;
}

/** `read`: every GET the user's role allows, no write; `write`: everything the role allows. */
export type Scope = 'read' | 'write';
export const SCOPES: readonly Scope[] = ['read', 'write'];

/** Token names: short labels, unique among a user's live tokens, never all digits (ids are). */
export const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const MIN_EXPIRY_MS = 60_000;
export const MAX_EXPIRY_MS = 3650 * 86_400_000;
/** How often a token's last use (and its user's last connection) is written: reads must not each cost a write. */
const LAST_USED_RESOLUTION_MS = 60_000;
const DEFAULT_EXPIRY_KEY = 'token.default_expiry_ms';

/** Why `name` cannot name a token, or undefined. */
export function tokenNameProblem(name: string): string | undefined {
  if (!TOKEN_NAME.test(name)) return 'use 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or a digit';
  if (/^[0-9]+$/.test(name)) return 'a name of digits only would read as a token id';
  return undefined;
}

export interface TokenView {
  id: number;
  name: string;
  user: string;
  scope: Scope;
  createdAt: string;
  lastUsedAt: string | null;
  /** null: never expires. */
  expiresAt: string | null;
  revokedAt: string | null;
  status: 'active' | 'expired' | 'revoked';
  /** The token this request was made with (REST lists only). */
  current?: boolean;
}

interface TokenRow {
  id: number;
  user_id: number;
  name: string;
  scope: Scope;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
  email: string;
}

/** Through what someone may manage another user's tokens, as the audit log says it. */
type Authority = { via: 'self' } | { via: 'superuser' } | { via: 'organization'; orgId: number; org: string; role: Role };

/**
 * API tokens: created on the database (`orgctl platform token create`), listed and revoked there or over
 * REST. A user may always list and revoke their own; owners and admins those of the people of their
 * organizations (an admin never an owner's); superusers anyone's. Only superusers (and the person) touch a
 * superuser's tokens. Tokens are stored as their SHA-256 and never shown again.
 */
export class Tokens {
  constructor(
    private readonly ctx: Context,
    private readonly identity: Users,
  ) {}

  // ---- the server's default expiry ---------------------------------------------------------------------

  /** Milliseconds a new token lives when its creator does not say; null: tokens never expire by default. */
  defaultExpiryMs(): number | null {
    const row = this.ctx.stmt('SELECT value FROM settings WHERE key = ?').get(DEFAULT_EXPIRY_KEY) as { value: string } | undefined;
    return row ? Number(row.value) : null;
  }

  setDefaultExpiry(ms: number | null, by: string): void {
    if (ms !== null) checkExpiry(ms);
    this.ctx.write(() => {
      const before = this.defaultExpiryMs();
      if (ms === null) this.ctx.stmt('DELETE FROM settings WHERE key = ?').run(DEFAULT_EXPIRY_KEY);
      else this.ctx.stmt('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(DEFAULT_EXPIRY_KEY, String(ms));
      if (before !== ms) this.ctx.audit(null, by, 'token.default-expiry', '', { from: before, to: ms, via: 'database' });
    });
  }

  // ---- creating and authenticating ---------------------------------------------------------------------

  /**
   * A new token for a user (created if new). No user may be in no organization (the platform's rule), so one
   * who is gets an "Untitled Organization", named in `madeOrganization` for the caller to say so. Returns
   * the token, which is stored only as its hash. `expiresInMs`: undefined for the server's default, null for
   * never.
   */
  create(opts: { user: string; name: string; scope?: Scope; expiresInMs?: number | null; superuser?: boolean; by: string }): {
    token: string;
    view: TokenView;
    user: UserRow;
    madeOrganization?: string;
  } {
    const problem = tokenNameProblem(opts.name);
    if (problem) throw badRequest(`invalid token name "${opts.name}": ${problem}`, 'name');
    const scope = opts.scope ?? 'write';
    if (!SCOPES.includes(scope)) throw badRequest(`scope must be read or write, not "${String(scope)}"`, 'scope');
    if (opts.expiresInMs !== undefined && opts.expiresInMs !== null) checkExpiry(opts.expiresInMs);
    return this.ctx.write(() => {
      const user = this.identity.ensureUser(opts.user, {}, opts.superuser ?? false);
      const madeOrganization = this.identity.ensureHasOrganization(user.id);
      const now = this.ctx.now();
      if (this.liveNamed(user.id, opts.name)) {
        throw conflict('token_exists', `${user.email} already has a live token named "${opts.name}"; choose another name, or revoke that one first`, { name: opts.name });
      }
      const lifetime = opts.expiresInMs === undefined ? this.defaultExpiryMs() : opts.expiresInMs;
      const token = newToken('orgctl');
      const info = this.ctx
        .stmt('INSERT INTO tokens (user_id, name, hash, scope, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(user.id, opts.name, hashToken(token), scope, now, lifetime === null ? null : now + lifetime);
      const view = this.view(this.row(Number(info.lastInsertRowid))!);
      this.ctx.audit(null, opts.by, 'token.create', user.email, { tokenId: view.id, name: view.name, scope, expiresAt: view.expiresAt, via: 'database' });
      return { token, view, user: this.identity.userById(user.id), ...(madeOrganization ? { madeOrganization } : {}) };
    });
  }

  /** A name for a new token of `email` that no live token of theirs has: `base`, else `base-2`, `base-3`, ... */
  freeName(email: string, base: string): string {
    const user = this.identity.userByEmail(email);
    if (!user) return base;
    for (let n = 1; ; n++) {
      const name = n === 1 ? base : `${base}-${n}`;
      if (!this.liveNamed(user.id, name)) return name;
    }
  }

  /**
   * Resolves a bearer token to its user, with the token's scope. A revoked or expired token is refused at
   * once (401, saying which). Its last use, and the user's last connection, are written at most once a minute.
   */
  authenticate(token: string | undefined): Actor {
    if (!token) throw unauthorized();
    const row = this.ctx
      .stmt(
        `SELECT t.id AS token_id, t.scope, t.expires_at, t.revoked_at, t.last_used_at, u.id, u.email, u.superuser, u.last_connection_at
         FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?`,
      )
      .get(hashToken(token)) as
      | { token_id: number; scope: Scope; expires_at: number | null; revoked_at: number | null; last_used_at: number | null; id: number; email: string; superuser: number; last_connection_at: number | null }
      | undefined;
    if (!row) throw unauthorized();
    const now = this.ctx.now();
    if (row.revoked_at !== null) throw new ApiError(401, 'unauthorized', 'this token was revoked; ask for a new one', { reason: 'revoked' });
    if (row.expires_at !== null && row.expires_at <= now) {
      throw new ApiError(401, 'unauthorized', `this token expired at ${isoTime(row.expires_at)}; ask for a new one`, { reason: 'expired' });
    }
    const stale = (at: number | null) => at === null || now - at >= LAST_USED_RESOLUTION_MS;
    if (stale(row.last_used_at) || stale(row.last_connection_at)) {
      try {
        this.ctx.write(() => {
          if (stale(row.last_used_at)) this.ctx.stmt('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(now, row.token_id);
          if (stale(row.last_connection_at)) this.ctx.stmt('UPDATE users SET last_connection_at = ? WHERE id = ?').run(now, row.id);
        });
      } catch (err) {
        // Bookkeeping: a locked, read-only or full database must not fail the request itself (a read works).
        if (!databaseError(err)) throw err;
      }
    }
    return { id: row.id, email: row.email, superuser: row.superuser === 1, scope: row.scope, tokenId: row.token_id };
  }

  // ---- over REST -------------------------------------------------------------------------------------

  /** The tokens of `email` (default: the caller's own), if the caller may manage them; newest first. */
  list(actor: Actor, email?: string): TokenView[] {
    return this.ctx.db.transaction(() => {
      const target = email === undefined ? this.identity.userById(actor.id) : this.identity.userByEmail(email);
      if (!target) throw notFound(`user "${email}"`);
      this.authority(actor, target, () => notFound(`user "${email}"`));
      return this.rows('WHERE t.user_id = ?', [target.id]).map((r) => ({ ...this.view(r), current: r.id === actor.tokenId }));
    })();
  }

  /** Revokes a token (at once: its next request is a 401). Revoking a revoked token changes nothing. */
  revoke(actor: Actor, id: number): TokenView {
    return this.ctx.write(() => {
      const row = this.row(id);
      const missing = () => notFound(`token ${id}`);
      if (!row) throw missing();
      const authority = this.authority(actor, this.identity.userById(row.user_id), missing);
      return this.markRevoked(row, actor.email, authority);
    });
  }

  // ---- on the database (the operator) ----------------------------------------------------------------

  /** Every token, or those of one user; newest first. */
  listAll(email?: string): TokenView[] {
    if (email === undefined) return this.rows('', []).map((r) => this.view(r));
    const user = this.identity.userByEmail(email);
    if (!user) throw notFound(`user "${email}"`);
    return this.rows('WHERE t.user_id = ?', [user.id]).map((r) => this.view(r));
  }

  /**
   * The token `ref` names: an id (digits), or a name (names are never all digits). A name is looked up among
   * live tokens, of `email` when given; one the name leaves ambiguous is refused, listing the candidates.
   */
  find(ref: string, email?: string): TokenView {
    const user = email === undefined ? undefined : this.identity.userByEmail(email);
    if (email !== undefined && !user) throw notFound(`user "${email}"`);
    if (/^[0-9]+$/.test(ref)) {
      const row = this.row(Number(ref));
      if (!row || (user && row.user_id !== user.id)) throw notFound(`token ${ref}${user ? ` of ${user.email}` : ''}`);
      return this.view(row);
    }
    const now = this.ctx.now();
    const rows = this.rows(
      `WHERE t.name = ? AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)${user ? ' AND t.user_id = ?' : ''}`,
      user ? [ref, now, user.id] : [ref, now],
    );
    if (rows.length === 0) throw notFound(`live token named "${ref}"${user ? ` of ${user.email}` : ''}`);
    if (rows.length > 1) {
      throw conflict('ambiguous', `${rows.length} live tokens are named "${ref}": ${rows.map((r) => `id ${r.id} of ${r.email}`).join(', ')}; name the user (--user) or the id`);
    }
    return this.view(rows[0]!);
  }

  /** Revokes as the operator (who holds the database file). */
  revokeAsOperator(id: number, by: string): TokenView {
    return this.ctx.write(() => {
      const row = this.row(id);
      if (!row) throw notFound(`token ${id}`);
      return this.markRevoked(row, by, { via: 'superuser' }, 'database');
    });
  }

  // ---- helpers -----------------------------------------------------------------------------------------

  /**
   * How `actor` may manage `target`'s tokens: as themselves, as a superuser, or as an owner or admin of an
   * organization `target` belongs to (an admin not for its owners). Someone with no such tie gets `hidden()`
   * (a 404: whether the user or token exists is none of their business); an admin facing an owner, a 403.
   */
  private authority(actor: Actor, target: UserRow, hidden: () => ApiError): Authority {
    if (actor.id === target.id) return { via: 'self' };
    if (actor.superuser) return { via: 'superuser' };
    const shared = this.ctx
      .stmt(
        `SELECT o.id, o.name, mine.role AS mine, theirs.role AS theirs FROM memberships mine
         JOIN memberships theirs ON theirs.org_id = mine.org_id AND theirs.user_id = ?
         JOIN orgs o ON o.id = mine.org_id
         WHERE mine.user_id = ? AND mine.role IN ('owner', 'admin') ORDER BY o.name`,
      )
      .all(target.id, actor.id) as { id: number; name: string; mine: Role; theirs: Role }[];
    if (shared.length === 0) throw hidden();
    if (target.superuser === 1) throw forbidden(`${target.email} is a platform superuser: only superusers manage their tokens`);
    const via = shared.find((s) => s.mine === 'owner') ?? shared.find((s) => s.theirs !== 'owner');
    if (!via) throw forbidden(`an admin may not manage the tokens of an owner (${target.email} owns "${shared[0]!.name}")`);
    return { via: 'organization', orgId: via.id, org: via.name, role: via.mine };
  }

  private markRevoked(row: TokenRow, by: string, authority: Authority, through?: 'database'): TokenView {
    if (row.revoked_at === null) {
      const now = this.ctx.now();
      this.ctx.stmt('UPDATE tokens SET revoked_at = ? WHERE id = ?').run(now, row.id);
      const details: Record<string, unknown> = {
        tokenId: row.id,
        name: row.name,
        scope: row.scope,
        via: through ?? (authority.via === 'organization' ? `${authority.role} of ${authority.org}` : authority.via),
      };
      this.ctx.audit(null, by, 'token.revoke', row.email, details);
      // Done through an organization: its log says so too. Tokens are not organization state: no new version.
      if (authority.via === 'organization') this.ctx.audit(authority.orgId, by, 'token.revoke', row.email, details, { bumpVersion: false });
    }
    return this.view(this.row(row.id)!);
  }

  private liveNamed(userId: number, name: string): boolean {
    return !!this.ctx
      .stmt('SELECT 1 FROM tokens WHERE user_id = ? AND name = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)')
      .get(userId, name, this.ctx.now());
  }

  private row(id: number): TokenRow | undefined {
    return this.rows('WHERE t.id = ?', [id])[0];
  }

  private rows(where: string, args: unknown[]): TokenRow[] {
    return this.ctx
      .stmt(
        `SELECT t.id, t.user_id, t.name, t.scope, t.created_at, t.last_used_at, t.expires_at, t.revoked_at, u.email
         FROM tokens t JOIN users u ON u.id = t.user_id ${where} ORDER BY t.id DESC`,
      )
      .all(args) as TokenRow[];
  }

  private view(r: TokenRow): TokenView {
    const now = this.ctx.now();
    return {
      id: r.id,
      name: r.name,
      user: r.email,
      scope: r.scope,
      createdAt: isoTime(r.created_at),
      lastUsedAt: r.last_used_at === null ? null : isoTime(r.last_used_at),
      expiresAt: r.expires_at === null ? null : isoTime(r.expires_at),
      revokedAt: r.revoked_at === null ? null : isoTime(r.revoked_at),
      status: r.revoked_at !== null ? 'revoked' : r.expires_at !== null && r.expires_at <= now ? 'expired' : 'active',
    };
  }
}

function checkExpiry(ms: number): void {
  if (!Number.isInteger(ms) || ms < MIN_EXPIRY_MS || ms > MAX_EXPIRY_MS) {
    throw badRequest(`a token lives from 1 minute to 3650 days; got ${ms} ms`, 'expiresIn');
  }
}

import { emailProblem, normalizeEmail } from '../../model/email.js';
import { quote } from '../../util/quote.js';
import { badRequest, conflict, notFound } from '../errors.js';
import type { Actor, Context, OrgRow, Role, UserRow } from './context.js';

export type { UserRow };
import { Tokens, type Scope, type TokenView } from './tokens.js';


/** Organization names are URL- and manifest-safe slugs (metadata.name of an Organization). */
export const ORG_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export { normalizeEmail };

/**
 * An address a person or invite is created with, checked by the rule `orgctl validate` applies (NFC, no
 * control or invisible characters, one script per part) and returned normalised; a 400 naming `field` if
 * it breaks the rule. Surrounding spaces are allowed and dropped, as everywhere in the API.
 */
export function validEmail(raw: string, field = 'email'): string {
  const problem = emailProblem(raw.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, ''));
  if (problem) throw badRequest(`invalid email address ${quote(raw)}: ${problem}`, field);
  return normalizeEmail(raw);
}

/** Users, their personal "Untitled Organization", tokens, and the active organization. */
export class Identity {
  readonly tokens: Tokens;

  constructor(private readonly ctx: Context) {
    this.tokens = new Tokens(ctx, this);
  }

  userByEmail(email: string): UserRow | undefined {
    return this.ctx.stmt('SELECT * FROM users WHERE email = ?').get(normalizeEmail(email)) as UserRow | undefined;
  }

  userById(id: number): UserRow {
    const u = this.ctx.stmt('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    if (!u) throw notFound(`user ${id}`);
    return u;
  }

  /** Inserts an organization with `creator` as its owner. Call inside a write transaction. */
  insertOrg(creator: { id: number; email: string }, name: string, displayName: string, plan: 'freemium' | 'premium'): OrgRow {
    const now = this.ctx.now();
    const info = this.ctx
      .stmt('INSERT INTO orgs (name, display_name, plan, creator_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(name, displayName, plan, creator.id, now, now);
    const orgId = Number(info.lastInsertRowid);
    this.ctx
      .stmt('INSERT INTO memberships (org_id, email, user_id, role, joined_at) VALUES (?, ?, ?, ?, ?)')
      .run(orgId, creator.email, creator.id, 'owner', now);
    this.ctx.stmt('UPDATE users SET active_org_id = COALESCE(active_org_id, ?) WHERE id = ?').run(orgId, creator.id);
    this.ctx.audit(orgId, creator.email, 'org.create', name, { displayName, plan });
    return this.ctx.orgById(orgId);
  }

  /**
   * Nobody may belong to no organization: a user left without one gets a new "Untitled Organization"
   * (as Ango Hub does), owned and created by them, and it becomes their active one.
   */
  ensureHasOrganization(userId: number): string | undefined {
    const count = (this.ctx.stmt('SELECT COUNT(*) AS n FROM memberships WHERE user_id = ?').get(userId) as { n: number }).n;
    const user = this.userById(userId);
    if (count === 0) {
      const name = this.freeOrgName(`untitled-${user.id}`);
      const org = this.insertOrg(user, name, 'Untitled Organization', 'freemium');
      this.ctx.stmt('UPDATE users SET active_org_id = ? WHERE id = ?').run(org.id, userId);
      return name;
    }
    const active = user.active_org_id;
    const stillMember = active !== null && this.ctx.roleIn(active, userId) !== undefined;
    if (!stillMember) {
      const first = this.ctx.stmt('SELECT org_id FROM memberships WHERE user_id = ? ORDER BY joined_at, org_id LIMIT 1').get(userId) as {
        org_id: number;
      };
      this.ctx.stmt('UPDATE users SET active_org_id = ? WHERE id = ?').run(first.org_id, userId);
    }
    return undefined;
  }

  private freeOrgName(base: string): string {
    for (let n = 0; ; n++) {
      const name = n === 0 ? base : `${base}-${n}`;
      if (!this.ctx.stmt('SELECT 1 FROM orgs WHERE name = ?').get(name)) return name;
    }
  }

  /** Creates a user (with their own Untitled Organization) unless they exist. Inside a write transaction. */
  ensureUser(email: string, profile: { firstName?: string; lastName?: string; description?: string } = {}, superuser = false): UserRow {
    const normalized = validEmail(email);
    const existing = this.userByEmail(normalized);
    if (existing) {
      if (superuser && !existing.superuser) this.ctx.stmt('UPDATE users SET superuser = 1 WHERE id = ?').run(existing.id);
      return this.userById(existing.id);
    }
    const info = this.ctx
      .stmt('INSERT INTO users (email, first_name, last_name, description, superuser, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(normalized, profile.firstName ?? '', profile.lastName ?? '', profile.description ?? '', superuser ? 1 : 0, this.ctx.now());
    return this.userById(Number(info.lastInsertRowid));
  }

  /**
   * A new bearer token for a user (created if needed); returns the token, which is never stored. Write scope
   * and the server's default expiry unless `opts` say otherwise (see Tokens.create).
   */
  createToken(
    email: string,
    name: string,
    opts: { superuser?: boolean; scope?: Scope; expiresInMs?: number | null; by?: string } = {},
  ): { token: string; user: UserRow; view: TokenView } {
    return this.tokens.create({ user: email, name, ...opts, by: opts.by ?? 'platform' });
  }

  /** Resolves a bearer token to its user and scope (see Tokens.authenticate). */
  authenticate(token: string | undefined): Actor {
    return this.tokens.authenticate(token);
  }

  /**
   * First start of a fresh platform: the first organization, its owner (a superuser: the operator), and a
   * token for them. Refused once any organization exists.
   */
  init(opts: { org: string; displayName?: string; plan?: 'freemium' | 'premium'; ownerEmail: string }): { token: string; org: OrgRow; user: UserRow } {
    if (!ORG_NAME.test(opts.org)) throw badRequest(`invalid organization name "${opts.org}": use lower-case letters, digits and "-"`, 'org');
    return this.ctx.write(() => {
      if (this.ctx.stmt('SELECT 1 FROM orgs LIMIT 1').get()) {
        throw conflict('already_initialized', 'the platform already has organizations; create tokens with `orgctl platform token create`');
      }
      const user = this.ensureUser(opts.ownerEmail, {}, true);
      const org = this.insertOrg(user, opts.org, opts.displayName ?? opts.org, opts.plan ?? 'freemium');
      const { token } = this.tokens.create({ user: user.email, name: 'init', expiresInMs: null, by: user.email });
      return { token, org, user: this.userById(user.id) };
    });
  }

  me(actor: Actor): MeView {
    const user = this.userById(actor.id);
    const orgs = this.ctx
      .stmt('SELECT o.name, o.display_name, m.role FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE m.user_id = ? ORDER BY o.name')
      .all(actor.id) as { name: string; display_name: string; role: Role }[];
    const active = user.active_org_id === null ? null : this.ctx.orgById(user.active_org_id).name;
    return {
      email: user.email,
      firstName: user.first_name,
      lastName: user.last_name,
      description: user.description,
      superuser: user.superuser === 1,
      activeOrganization: active,
      organizations: orgs.map((o) => ({ name: o.name, displayName: o.display_name, role: o.role })),
    };
  }

  setActiveOrganization(actor: Actor, orgRef: string): MeView {
    return this.updateMe(actor, { activeOrganization: orgRef });
  }

  /**
   * The caller changes their own settings: the active organization, and their profile. A profile belongs to
   * its person: only they change it here. Organizations keep their own copy of what they set (members PATCH),
   * so the change shows in every organization of theirs that set nothing for that field, and is recorded in
   * the audit log of each of those (and nowhere else).
   */
  updateMe(actor: Actor, body: { activeOrganization?: string; firstName?: string; lastName?: string; description?: string }): MeView {
    this.ctx.write(() => {
      if (body.activeOrganization !== undefined) {
        const org = this.ctx.findOrg(body.activeOrganization);
        if (!org || !this.ctx.roleIn(org.id, actor.id)) throw notFound(`organization "${body.activeOrganization}"`);
        this.ctx.stmt('UPDATE users SET active_org_id = ? WHERE id = ?').run(org.id, actor.id);
      }
      const user = this.userById(actor.id);
      const fields = (
        [
          ['first_name', body.firstName, user.first_name],
          ['last_name', body.lastName, user.last_name],
          ['description', body.description, user.description],
        ] as const
      ).filter(([, v, old]) => v !== undefined && v !== old);
      if (fields.length === 0) return;
      for (const [col, v] of fields) this.ctx.stmt(`UPDATE users SET ${col} = ? WHERE id = ?`).run(v, actor.id);
      const memberships = this.ctx
        .stmt('SELECT org_id, email, first_name, last_name, description FROM memberships WHERE user_id = ? ORDER BY org_id')
        .all(actor.id) as { org_id: number; email: string; first_name: string | null; last_name: string | null; description: string | null }[];
      for (const m of memberships) {
        const shown = fields.filter(([col]) => m[col] === null).map(([col]) => col);
        if (shown.length) this.ctx.audit(m.org_id, actor, 'member.profile', m.email, { fields: shown, by: 'self' });
      }
    });
    return this.me(actor);
  }
}

export interface MeView {
  email: string;
  /** The person's own profile; organizations may show their own copy (see members). */
  firstName: string;
  lastName: string;
  description: string;
  superuser: boolean;
  activeOrganization: string | null;
  organizations: { name: string; displayName: string; role: Role }[];
}

import { inviteTokenHash, newInviteTokens } from '../crypto.js';
import { isoTime } from '../time.js';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../errors.js';
import type { ActualInvite, ActualMember } from '../../model/actual.js';
import type { Actor, Context, OrgRow, Role } from './context.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { normalizeEmail, validEmail, type Identity } from './identity.js';

export const DEFAULT_INVITE_EXPIRY_DAYS = 7;

/**
 * The profile as an organization shows it (`m` a membership, `u` its user): what the organization set, else
 * the person's own.
 */
export const SHOWN_PROFILE =
  'COALESCE(m.first_name, u.first_name) AS first_name, COALESCE(m.last_name, u.last_name) AS last_name, COALESCE(m.description, u.description) AS description';
const DAY_MS = 86_400_000;

export interface MemberView {
  email: string;
  role: Role;
  firstName: string;
  lastName: string;
  description: string;
  creator: boolean;
  joinedAt: string;
  lastConnectionAt: string | null;
}

export type InviteStatus = 'pending' | 'expired' | 'accepted' | 'cancelled';

export interface InviteView {
  id: number;
  email: string;
  role: Role;
  status: InviteStatus;
  firstName: string;
  lastName: string;
  description: string;
  projects: { project: string; role: string }[];
  expiresAt: string;
  sendCount: number;
  createdAt: string;
  lastSentAt: string;
  createdBy: string;
}

/** An invite mail: the link (`token`) is handed over once and kept nowhere by the platform. */
export interface InviteMail {
  to: string;
  organization: string;
  inviteId: number;
  token: string;
}
/** Delivers invite mail (an SMTP client in a deployment; a mailbox in memory in tests). */
export type Mailer = (mail: InviteMail) => void;

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
  /** The organization's state version when the page was read: equal on every page = a consistent read. */
  stateVersion: number;
}

export interface InviteRequest {
  email: string;
  role: Role;
  firstName?: string;
  lastName?: string;
  description?: string;
  projects?: { project: string; role: 'manager' | 'annotator' | 'reviewer' }[];
}

export interface MemberUpdate {
  email: string;
  role?: Role;
  firstName?: string;
  lastName?: string;
  description?: string;
}

/** One item of a batch: done, or the error it would have got alone. Batches never fail as a whole. */
export type BatchResult<T> =
  | { email: string; ok: true; result: T }
  | { email: string; ok: false; error: { status: number; code: string; message: string; details: Record<string, unknown> } };

interface InviteRow {
  id: number;
  org_id: number;
  email: string;
  role: Role;
  first_name: string;
  last_name: string;
  description: string;
  projects: string;
  status: 'pending' | 'accepted' | 'cancelled';
  token_hash: string;
  expires_at: number;
  send_count: number;
  created_by: number;
  created_at: number;
  updated_at: number;
  last_sent_at: number;
}

const iso = isoTime;

/** A batch's time, and its expiry, with their ISO forms. */
interface BatchTime {
  now: number;
  expires: number;
  nowIso: string;
  expiresIso: string;
}

/** Rows read at once when observing an organization: large enough to make paging free, small enough to stay lean. */
const OBSERVE_PAGE = 10_000;

/**
 * An invite's projects (stored as ids) as `[{project, role}]` with names, joined in SQL: NULL when it has none
 * (most do), a JSON array otherwise. A project deleted since shows as its id.
 */
const INVITE_PROJECTS = `CASE WHEN i.projects = '[]' THEN NULL ELSE (
  SELECT json_group_array(json_object('project', COALESCE(p.name, CAST(j.value ->> 'projectId' AS TEXT)), 'role', j.value ->> 'role') ORDER BY j.key)
  FROM json_each(i.projects) j LEFT JOIN projects p ON p.id = j.value ->> 'projectId') END`;

/** The columns of an invite's view, in InviteViewRow's order, with the inviter's address joined in. */
const INVITE_VIEW_SELECT = `SELECT i.id, i.email, i.role, i.status, i.first_name, i.last_name, i.description, ${INVITE_PROJECTS},
  i.expires_at, i.send_count, i.created_at, i.last_sent_at, u.email FROM invites i JOIN users u ON u.id = i.created_by`;

type InviteViewRow = [number, string, Role, InviteRow['status'], string, string, string, string | null, number, number, number, number, string];

/** The columns of a member's view: email, role, joined_at, user_id, the profile shown, last_connection_at. */
type MemberRow = [string, Role, number, number, string, string, string, number | null];

/** How each field of a member's view is made from its row: what `fields` may name. */
const MEMBER_FIELD = {
  email: (r: MemberRow) => r[0],
  role: (r: MemberRow) => r[1],
  firstName: (r: MemberRow) => r[4],
  lastName: (r: MemberRow) => r[5],
  description: (r: MemberRow) => r[6],
  creator: (r: MemberRow, org: OrgRow) => r[3] === org.creator_id,
  joinedAt: (r: MemberRow) => iso(r[2]),
  lastConnectionAt: (r: MemberRow) => (r[7] === null ? null : iso(r[7])),
} satisfies Record<keyof MemberView, (r: MemberRow, org: OrgRow) => unknown>;
export type MemberField = keyof typeof MEMBER_FIELD;
export const MEMBER_FIELDS = Object.keys(MEMBER_FIELD) as MemberField[];

/** How each field of an invite's view is made from its row: what `fields` may name. */
const INVITE_FIELD = {
  id: (r: InviteViewRow) => r[0],
  email: (r: InviteViewRow) => r[1],
  role: (r: InviteViewRow) => r[2],
  status: (r: InviteViewRow, now: number) => (r[3] === 'pending' && r[8] <= now ? 'expired' : r[3]),
  firstName: (r: InviteViewRow) => r[4],
  lastName: (r: InviteViewRow) => r[5],
  description: (r: InviteViewRow) => r[6],
  projects: (r: InviteViewRow) => (r[7] === null ? [] : (JSON.parse(r[7]) as InviteView['projects'])),
  expiresAt: (r: InviteViewRow) => iso(r[8]),
  sendCount: (r: InviteViewRow) => r[9],
  createdAt: (r: InviteViewRow) => iso(r[10]),
  lastSentAt: (r: InviteViewRow) => iso(r[11]),
  createdBy: (r: InviteViewRow) => r[12],
} satisfies Record<keyof InviteView, (r: InviteViewRow, now: number) => unknown>;
export type InviteField = keyof typeof INVITE_FIELD;
export const INVITE_FIELDS = Object.keys(INVITE_FIELD) as InviteField[];

function inviteViewOf(r: InviteViewRow, now: number): InviteView {
  return {
    id: r[0],
    email: r[1],
    role: r[2],
    status: r[3] === 'pending' && r[8] <= now ? 'expired' : r[3],
    firstName: r[4],
    lastName: r[5],
    description: r[6],
    projects: r[7] === null ? [] : (JSON.parse(r[7]) as InviteView['projects']),
    expiresAt: iso(r[8]),
    sendCount: r[9],
    createdAt: iso(r[10]),
    lastSentAt: iso(r[11]),
    createdBy: r[12],
  };
}


/**
 * Members and invites of an organization, with the platforms' rules: owners and admins manage people; only
 * an owner grants or takes away `owner`; an admin never touches an owner; the creator is never removed or
 * demoted; an organization always keeps an owner; someone left with no organization gets an Untitled one.
 */
export class Members {
  constructor(
    private readonly ctx: Context,
    private readonly identity: Identity,
    private readonly inviteExpiryDays: number = DEFAULT_INVITE_EXPIRY_DAYS,
    private readonly mailer?: Mailer,
  ) {}

  // ---- reading ----------------------------------------------------------------------------------------

  /**
   * A page of members. `fields` names the item fields wanted (MEMBER_FIELDS; default all): a client that
   * compares roles and profiles (orgctl's plan) asks for just those, and the page is built with just those.
   */
  list(actor: Actor, ref: string, opts: { cursor?: string; limit?: number; role?: Role; fields?: readonly MemberField[] } = {}): Page<MemberView> {
    const limit = opts.limit ?? 100;
    // One read transaction: the page and the version come from the same snapshot.
    return this.ctx.db.transaction(() => {
      const org = this.ctx.orgByName(ref);
      this.ctx.require(org, actor, ['owner', 'admin', 'member'], 'list members');
      const after = decodeCursor('members', opts.cursor, (key) => key.length > 0);
      const rows = this.ctx
        .rawStmt(
          `SELECT m.email, m.role, m.joined_at, m.user_id, ${SHOWN_PROFILE}, u.last_connection_at
           FROM memberships m JOIN users u ON u.id = m.user_id
           WHERE m.org_id = ? AND m.email > ? ${opts.role ? 'AND m.role = ?' : ''}
           ORDER BY m.email LIMIT ?`,
        )
        .all(opts.role ? [org.id, after, opts.role, limit + 1] : [org.id, after, limit + 1]) as MemberRow[];
      const more = rows.length > limit;
      const n = more ? limit : rows.length;
      const items: MemberView[] = new Array(n);
      const fields = opts.fields;
      for (let i = 0; i < n; i++) {
        const r = rows[i]!;
        if (fields) {
          const item: Record<string, unknown> = {};
          for (const f of fields) item[f] = MEMBER_FIELD[f](r, org);
          items[i] = item as unknown as MemberView;
        } else {
          items[i] = {
            email: r[0],
            role: r[1],
            firstName: r[4],
            lastName: r[5],
            description: r[6],
            creator: r[3] === org.creator_id,
            joinedAt: iso(r[2]),
            lastConnectionAt: r[7] === null ? null : iso(r[7]),
          };
        }
      }
      return { items, nextCursor: more ? encodeCursor('members', rows[n - 1]![0]) : null, stateVersion: org.version };
    })();
  }

  /** A page of invites, by address; `fields` as for members (INVITE_FIELDS; default all). */
  listInvites(actor: Actor, ref: string, opts: { cursor?: string; limit?: number; status?: InviteStatus | 'open'; fields?: readonly InviteField[] } = {}): Page<InviteView> {
    const limit = opts.limit ?? 100;
    return this.ctx.db.transaction(() => {
      const org = this.ctx.orgByName(ref);
      this.ctx.require(org, actor, ['owner', 'admin'], 'list invites');
      const now = this.ctx.now();
      const [after, afterId] = splitInviteCursor(decodeCursor('invites', opts.cursor, (key) => /^[^\u0000]+\u0000[1-9][0-9]{0,15}$/.test(key)));
      let where = '';
      const args: unknown[] = [org.id];
      switch (opts.status) {
        case 'open':
          where = "AND i.status = 'pending'";
          break;
        case 'pending':
          where = "AND i.status = 'pending' AND i.expires_at > ?";
          args.push(now);
          break;
        case 'expired':
          where = "AND i.status = 'pending' AND i.expires_at <= ?";
          args.push(now);
          break;
        case 'accepted':
        case 'cancelled':
          where = 'AND i.status = ?';
          args.push(opts.status);
          break;
        default:
      }
      args.push(after, afterId, limit + 1);
      // One query a page: the inviter's address and the projects' names are joined in, not looked up per
      // invite. The row value `(email, id) > (?, ?)` lets the index start at the cursor (an OR of the two
      // comparisons scanned every earlier invite again on each page).
      const rows = this.ctx
        .rawStmt(`${INVITE_VIEW_SELECT} WHERE i.org_id = ? ${where} AND (i.email, i.id) > (?, ?) ORDER BY i.email, i.id LIMIT ?`)
        .all(args) as InviteViewRow[];
      const more = rows.length > limit;
      const n = more ? limit : rows.length;
      const items: InviteView[] = new Array(n);
      const fields = opts.fields;
      for (let k = 0; k < n; k++) {
        if (!fields) {
          items[k] = inviteViewOf(rows[k]!, now);
          continue;
        }
        const item: Record<string, unknown> = {};
        for (const f of fields) item[f] = INVITE_FIELD[f](rows[k]!, now);
        items[k] = item as unknown as InviteView;
      }
      const last = rows[n - 1];
      return {
        items,
        nextCursor: more && last ? encodeCursor('invites', `${last[1]}\u0000${last[0]}`) : null,
        stateVersion: org.version,
      };
    })();
  }

  /**
   * What a reconciler compares, read straight into its maps (the embedded adapter's read): members (email,
   * role, creator, profile as the organization shows it) and open invites (email, role, expired or not,
   * projects by name). Only those columns; no views, no timestamps, no query per row: pages of 10,000 by key,
   * inside the caller's read transaction, so both come from one snapshot.
   */
  observe(actor: Actor, org: OrgRow): { members: Map<string, ActualMember>; invites: Map<string, ActualInvite> } {
    this.ctx.require(org, actor, ['owner', 'admin'], 'read members and invites');
    const members = new Map<string, ActualMember>();
    const memberPage = this.ctx.rawStmt(
      `SELECT m.email, m.role, m.user_id, ${SHOWN_PROFILE} FROM memberships m JOIN users u ON u.id = m.user_id
       WHERE m.org_id = ? AND m.email > ? ORDER BY m.email LIMIT ?`,
    );
    for (let after = ''; ; ) {
      const rows = memberPage.all(org.id, after, OBSERVE_PAGE) as [string, Role, number, string, string, string][];
      for (const r of rows) members.set(r[0], { email: r[0], role: r[1], creator: r[2] === org.creator_id, firstName: r[3], lastName: r[4], description: r[5] });
      if (rows.length < OBSERVE_PAGE) break;
      after = rows[rows.length - 1]![0];
    }
    const invites = new Map<string, ActualInvite>();
    const now = this.ctx.now();
    // Open invites are one per address (invites_one_open), so the address alone is the key.
    const invitePage = this.ctx.rawStmt(
      `SELECT i.email, i.role, i.expires_at, ${INVITE_PROJECTS} FROM invites i
       WHERE i.org_id = ? AND i.status = 'pending' AND i.email > ? ORDER BY i.email LIMIT ?`,
    );
    for (let after = ''; ; ) {
      const rows = invitePage.all(org.id, after, OBSERVE_PAGE) as [string, Role, number, string | null][];
      for (const r of rows) {
        invites.set(r[0], { email: r[0], role: r[1], status: r[2] <= now ? 'expired' : 'pending', projects: r[3] === null ? [] : (JSON.parse(r[3]) as ActualInvite['projects']) });
      }
      if (rows.length < OBSERVE_PAGE) break;
      after = rows[rows.length - 1]![0];
    }
    return { members, invites };
  }

  /** One invite as the API shows it, read with the same single query as a page. */
  private inviteViewById(id: number): InviteView {
    return inviteViewOf(this.ctx.rawStmt(`${INVITE_VIEW_SELECT} WHERE i.id = ?`).get(id) as InviteViewRow, this.ctx.now());
  }

  // ---- invites ----------------------------------------------------------------------------------------

  /** Invites many people in one transaction; each email gets its own result. */
  invite(actor: Actor, ref: string, requests: InviteRequest[], opts: { expiresInDays?: number } = {}): BatchResult<InviteView>[] {
    return this.ctx.write(() => {
      const org = this.ctx.orgByName(ref);
      const role = this.ctx.require(org, actor, ['owner', 'admin'], 'invite people');
      const tokens = newInviteTokens(requests.length);
      // One time for the whole batch (one transaction): its timestamps are formatted once, not per invite.
      const now = this.ctx.now();
      const expires = now + (opts.expiresInDays ?? this.inviteExpiryDays) * DAY_MS;
      const at: BatchTime = { now, expires, nowIso: iso(now), expiresIso: iso(expires) };
      return this.ctx.batch(() => requests.map((req, i) => this.each(req.email, () => this.inviteOne(actor, role, org, req, tokens[i]!, at))));
    });
  }

  private inviteOne(actor: Actor, actorRole: Role, org: OrgRow, req: InviteRequest, token: string, at: BatchTime): InviteView {
    const email = validEmail(req.email);
    if (req.role === 'owner' && actorRole !== 'owner') throw forbidden('only an owner may invite an owner');
    if (this.ctx.stmt('SELECT 1 FROM memberships WHERE org_id = ? AND email = ?').get(org.id, email)) {
      throw conflict('already_member', `${email} is already a member of "${org.name}"`);
    }
    const open = this.openInvite(org.id, email);
    if (open) {
      throw conflict('invite_exists', `${email} already has an open invite to "${org.name}"; resend or cancel it`, { inviteId: open.id });
    }
    const projects = this.resolveProjects(org, req.projects ?? []);
    const { now, expires } = at;
    const info = this.ctx
      .stmt(
        `INSERT INTO invites (org_id, email, role, first_name, last_name, description, projects, status, token_hash,
           expires_at, send_count, created_by, created_at, updated_at, last_sent_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, 1, ?, ?, ?, ?)`,
      )
      .run(org.id, email, req.role, req.firstName ?? '', req.lastName ?? '', req.description ?? '', JSON.stringify(projects), inviteTokenHash(token), expires, actor.id, now, now, now);
    const id = Number(info.lastInsertRowid);
    this.send(org, id, email, token);
    this.ctx.audit(org.id, actor, 'invite.send', email, { role: req.role, inviteId: id, projects: req.projects ?? [] });
    // The view from what was just written, not read back.
    return {
      id,
      email,
      role: req.role,
      status: 'pending',
      firstName: req.firstName ?? '',
      lastName: req.lastName ?? '',
      description: req.description ?? '',
      projects: (req.projects ?? []).map((p) => ({ project: p.project, role: p.role })),
      expiresAt: at.expiresIso,
      sendCount: 1,
      createdAt: at.nowIso,
      lastSentAt: at.nowIso,
      createdBy: actor.email,
    };
  }

  /**
   * Sends an open invite again with a new link and expiry (the only way to revive an expired one); `role`
   * or profile changes ride along, so a pending invite with the wrong role is fixed in the same call.
   */
  resend(actor: Actor, ref: string, requests: ({ email: string } & Partial<Omit<InviteRequest, 'email'>>)[], opts: { expiresInDays?: number } = {}): BatchResult<InviteView>[] {
    return this.ctx.write(() => {
      const org = this.ctx.orgByName(ref);
      const actorRole = this.ctx.require(org, actor, ['owner', 'admin'], 'resend invites');
      const tokens = newInviteTokens(requests.length);
      return this.ctx.batch(() => requests.map((req, i) =>
        this.each(req.email, () => {
          const email = normalizeEmail(req.email);
          const inv = this.openInvite(org.id, email);
          if (!inv) throw notFound(`open invite for ${email} in "${org.name}"`);
          const role = req.role ?? inv.role;
          if ((role === 'owner' || inv.role === 'owner') && actorRole !== 'owner') throw forbidden('only an owner may manage an owner invite');
          const projects = req.projects ? JSON.stringify(this.resolveProjects(org, req.projects)) : inv.projects;
          const now = this.ctx.now();
          const token = tokens[i]!;
          this.ctx
            .stmt(
              `UPDATE invites SET role = ?, first_name = ?, last_name = ?, description = ?, projects = ?, token_hash = ?,
                 expires_at = ?, send_count = send_count + 1, updated_at = ?, last_sent_at = ? WHERE id = ?`,
            )
            .run(
              role,
              req.firstName ?? inv.first_name,
              req.lastName ?? inv.last_name,
              req.description ?? inv.description,
              projects,
              inviteTokenHash(token),
              now + (opts.expiresInDays ?? this.inviteExpiryDays) * DAY_MS,
              now,
              now,
              inv.id,
            );
          this.send(org, inv.id, email, token);
          this.ctx.audit(org.id, actor, 'invite.resend', email, { inviteId: inv.id, role, ...(role !== inv.role ? { previousRole: inv.role } : {}) });
          return this.inviteViewById(inv.id);
        }),
      ));
    });
  }

  cancel(actor: Actor, ref: string, emails: string[]): BatchResult<InviteView>[] {
    return this.ctx.write(() => {
      const org = this.ctx.orgByName(ref);
      const actorRole = this.ctx.require(org, actor, ['owner', 'admin'], 'cancel invites');
      return this.ctx.batch(() => emails.map((raw) =>
        this.each(raw, () => {
          const email = normalizeEmail(raw);
          const inv = this.openInvite(org.id, email);
          if (!inv) throw notFound(`open invite for ${email} in "${org.name}"`);
          if (inv.role === 'owner' && actorRole !== 'owner') throw forbidden('only an owner may cancel an owner invite');
          this.ctx.stmt("UPDATE invites SET status = 'cancelled', updated_at = ? WHERE id = ?").run(this.ctx.now(), inv.id);
          this.ctx.audit(org.id, actor, 'invite.cancel', email, { inviteId: inv.id });
          return this.inviteViewById(inv.id);
        }),
      ));
    });
  }

  /** The invited person follows their link: they become a member with the invited role and projects. */
  acceptByToken(token: string): { organization: string; email: string; role: Role } {
    return this.ctx.write(() => {
      const inv = this.ctx.stmt('SELECT * FROM invites WHERE token_hash = ?').get(inviteTokenHash(token)) as InviteRow | undefined;
      if (!inv) throw notFound('invite');
      return this.accept(inv);
    });
  }

  /** Accepting on someone's behalf: the platform operator (superuser), or the invited person themselves. */
  acceptByEmail(actor: Actor, ref: string, rawEmail: string): { organization: string; email: string; role: Role } {
    return this.ctx.write(() => {
      const email = normalizeEmail(rawEmail);
      const org = this.ctx.findOrg(ref);
      // Someone outside the organization gets one answer whether or not it exists, and whether or not there
      // is an invite they may not accept: this route must not tell which organizations exist.
      const none = () => notFound(`invite for ${email} in "${ref}"`);
      if (!actor.superuser && actor.email !== email) {
        if (org && this.ctx.roleIn(org.id, actor.id)) throw forbidden('only the invited person or a platform superuser may accept an invite');
        throw none();
      }
      if (!org) throw none();
      const inv = this.openInvite(org.id, email);
      if (inv) return this.accept(inv);
      // No open invite: say why, as accepting by link does (a cancelled or used invite is a 409).
      const latest = this.ctx
        .stmt('SELECT * FROM invites WHERE org_id = ? AND email = ? ORDER BY id DESC LIMIT 1')
        .get(org.id, email) as InviteRow | undefined;
      if (latest) return this.accept(latest);
      throw none();
    });
  }

  private accept(inv: InviteRow): { organization: string; email: string; role: Role } {
    const org = this.ctx.orgById(inv.org_id);
    if (inv.status !== 'pending') throw conflict(`invite_${inv.status}`, `this invite was ${inv.status}`);
    const now = this.ctx.now();
    if (inv.expires_at <= now) throw new ApiError(410, 'invite_expired', 'this invite has expired; ask for it to be resent');
    // The profile an invite carries is the inviting organization's view of the person, not their own profile.
    const user = this.identity.ensureUser(inv.email);
    if (!this.ctx.roleIn(org.id, user.id)) {
      this.ctx
        .stmt('INSERT INTO memberships (org_id, email, user_id, role, joined_at, first_name, last_name, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(org.id, user.email, user.id, inv.role, now, inv.first_name || null, inv.last_name || null, inv.description || null);
    }
    for (const p of JSON.parse(inv.projects) as { projectId: number; role: string }[]) {
      const exists = this.ctx.stmt('SELECT 1 FROM projects WHERE id = ? AND org_id = ?').get(p.projectId, org.id);
      if (exists) {
        this.ctx
          .stmt('INSERT INTO project_members (project_id, user_id, role) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET role = excluded.role')
          .run(p.projectId, user.id, p.role);
      }
    }
    this.ctx.stmt("UPDATE invites SET status = 'accepted', updated_at = ? WHERE id = ?").run(now, inv.id);
    this.identity.ensureHasOrganization(user.id);
    this.ctx.audit(org.id, inv.email, 'invite.accept', inv.email, { inviteId: inv.id, role: inv.role });
    return { organization: org.name, email: inv.email, role: inv.role };
  }

  /** The platform's sent mail for an address (superusers only): what was sent, when, to whom; never the link. */
  outbox(actor: Actor, rawEmail: string): { at: string; to: string; organization: string; inviteId: number }[] {
    if (!actor.superuser) throw forbidden('only a platform superuser may read the outbox');
    const rows = this.ctx
      .stmt('SELECT x.at, x.to_email, o.name, x.invite_id FROM outbox x JOIN orgs o ON o.id = x.org_id WHERE x.to_email = ? ORDER BY x.id')
      .all(normalizeEmail(rawEmail)) as { at: number; to_email: string; name: string; invite_id: number }[];
    return rows.map((r) => ({ at: iso(r.at), to: r.to_email, organization: r.name, inviteId: r.invite_id }));
  }

  // ---- members ----------------------------------------------------------------------------------------

  /** Changes roles and profiles of many members in one transaction. */
  update(actor: Actor, ref: string, updates: MemberUpdate[]): BatchResult<MemberView>[] {
    return this.ctx.write(() => {
      const org = this.ctx.orgByName(ref);
      const actorRole = this.ctx.require(org, actor, ['owner', 'admin'], 'change members');
      return this.ctx.batch(() => updates.map((u) =>
        this.each(u.email, () => {
          const email = normalizeEmail(u.email);
          const target = this.member(org, email);
          if (u.role !== undefined && u.role !== target.role) {
            if ((u.role === 'owner' || target.role === 'owner') && actorRole !== 'owner') {
              throw forbidden(target.role === 'owner' ? 'an admin may not change an owner' : 'only an owner may grant owner');
            }
            if (target.user_id === org.creator_id) throw forbidden(`${email} created "${org.name}" and stays its owner`);
            if (target.role === 'owner') this.keepAnOwner(org, email);
            this.ctx.stmt('UPDATE memberships SET role = ? WHERE org_id = ? AND email = ?').run(u.role, org.id, email);
            this.ctx.audit(org.id, actor, 'member.role', email, { from: target.role, to: u.role });
          }
          const profile: [string, string | undefined, string][] = [
            ['first_name', u.firstName, target.first_name],
            ['last_name', u.lastName, target.last_name],
            ['description', u.description, target.description],
          ];
          const changed = profile.filter(([, v, old]) => v !== undefined && v !== old);
          if (changed.length) {
            if (target.role === 'owner' && actorRole !== 'owner') throw forbidden('an admin may not change an owner');
            // The organization's own copy: the person's profile, and what other organizations show, stay as they are.
            for (const [col, v] of changed) this.ctx.stmt(`UPDATE memberships SET ${col} = ? WHERE org_id = ? AND email = ?`).run(v, org.id, email);
            this.ctx.audit(org.id, actor, 'member.profile', email, { fields: changed.map(([c]) => c) });
          }
          return this.memberView(org, email);
        }),
      ));
    });
  }

  /** Removes many members in one transaction. Anyone may remove themselves (but the creator). */
  remove(actor: Actor, ref: string, emails: string[]): BatchResult<{ email: string }>[] {
    return this.ctx.write(() => {
      const org = this.ctx.orgByName(ref);
      const actorRole = actor.superuser ? 'owner' : this.ctx.roleIn(org.id, actor.id);
      if (!actorRole) throw notFound(`organization "${org.name}"`);
      return this.ctx.batch(() => emails.map((raw) =>
        this.each(raw, () => {
          const email = normalizeEmail(raw);
          const target = this.member(org, email);
          const self = target.user_id === actor.id;
          if (!self && actorRole !== 'owner' && actorRole !== 'admin') throw forbidden(`a ${actorRole} may not remove members (needs owner or admin)`);
          if (target.user_id === org.creator_id) throw forbidden(`${email} created "${org.name}" and cannot be removed`);
          if (target.role === 'owner' && actorRole !== 'owner' && !self) throw forbidden('an admin may not remove an owner');
          if (target.role === 'owner') this.keepAnOwner(org, email);
          this.ctx.stmt('DELETE FROM memberships WHERE org_id = ? AND email = ?').run(org.id, email);
          this.ctx
            .stmt('DELETE FROM project_members WHERE user_id = ? AND project_id IN (SELECT id FROM projects WHERE org_id = ?)')
            .run(target.user_id, org.id);
          this.ctx
            .stmt('DELETE FROM group_members WHERE user_id = ? AND group_id IN (SELECT id FROM groups WHERE org_id = ?)')
            .run(target.user_id, org.id);
          this.ctx.audit(org.id, actor, 'member.remove', email, { role: target.role });
          this.identity.ensureHasOrganization(target.user_id);
          return { email };
        }),
      ));
    });
  }

  // ---- helpers ----------------------------------------------------------------------------------------

  /** Runs one batch item in a savepoint: its failure undoes only its own writes (and drops its audit rows and mail). */
  private each<T>(email: string, fn: () => T): BatchResult<T> {
    try {
      return { email: normalizeEmail(String(email)), ok: true, result: this.ctx.item(fn) };
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      return { email: normalizeEmail(String(email)), ok: false, error: { status: err.status, code: err.code, message: err.message, details: err.details } };
    }
  }

  private member(org: OrgRow, email: string) {
    const row = this.ctx
      .stmt(
        `SELECT m.role, m.user_id, ${SHOWN_PROFILE} FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = ? AND m.email = ?`,
      )
      .get(org.id, email) as { role: Role; user_id: number; first_name: string; last_name: string; description: string } | undefined;
    if (!row) throw notFound(`member ${email} of "${org.name}"`);
    return row;
  }

  private memberView(org: OrgRow, email: string): MemberView {
    const r = this.ctx
      .stmt(
        `SELECT m.email, m.role, m.joined_at, m.user_id, ${SHOWN_PROFILE}, u.last_connection_at
         FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = ? AND m.email = ?`,
      )
      .get(org.id, email) as {
      email: string;
      role: Role;
      joined_at: number;
      user_id: number;
      first_name: string;
      last_name: string;
      description: string;
      last_connection_at: number | null;
    };
    return {
      email: r.email,
      role: r.role,
      firstName: r.first_name,
      lastName: r.last_name,
      description: r.description,
      creator: r.user_id === org.creator_id,
      joinedAt: iso(r.joined_at),
      lastConnectionAt: r.last_connection_at === null ? null : iso(r.last_connection_at),
    };
  }

  private keepAnOwner(org: OrgRow, leaving: string): void {
    const others = this.ctx
      .stmt("SELECT COUNT(*) AS n FROM memberships WHERE org_id = ? AND role = 'owner' AND email != ?")
      .get(org.id, leaving) as { n: number };
    if (others.n === 0) throw conflict('last_owner', `${leaving} is the last owner of "${org.name}"; make someone else owner first`);
  }

  private openInvite(orgId: number, email: string): InviteRow | undefined {
    return this.ctx.stmt("SELECT * FROM invites WHERE org_id = ? AND email = ? AND status = 'pending'").get(orgId, email) as InviteRow | undefined;
  }


  private resolveProjects(org: OrgRow, projects: { project: string; role: string }[]): { projectId: number; role: string }[] {
    return projects.map((p) => {
      const row = this.ctx.stmt('SELECT id FROM projects WHERE org_id = ? AND name = ?').get(org.id, p.project) as { id: number } | undefined;
      if (!row) throw badRequest(`project "${p.project}" does not exist in "${org.name}"`, 'projects');
      return { projectId: row.id, role: p.role };
    });
  }

  /**
   * Mails an invite link: the outbox records that it was sent (never the link, a bearer credential stored
   * only hashed), and the mailer gets the link once the write has committed. Without a mailer the link goes
   * nowhere: the invitee accepts by email, authenticated as themselves.
   */
  private send(org: OrgRow, inviteId: number, email: string, token: string): void {
    this.ctx.defer('INSERT INTO outbox (at, to_email, org_id, invite_id) VALUES', [this.ctx.now(), email, org.id, inviteId]);
    const mailer = this.mailer;
    // A batch item that fails drops what it queued (Context.item): only recorded mail is sent.
    if (mailer) this.ctx.onCommit(() => mailer({ to: email, organization: org.name, inviteId, token }));
  }
}

/** The email and id an invites cursor holds (decodeCursor checked its shape); ['', 0] for the first page. */
function splitInviteCursor(raw: string): [string, number] {
  if (!raw) return ['', 0];
  const i = raw.lastIndexOf('\u0000');
  return [raw.slice(0, i), Number(raw.slice(i + 1))];
}

import { randomBytes } from 'node:crypto';
import { FakeServer, type Recorded, type Reply } from './http.js';

/**
 * A wire-faithful fake of Ango Hub's API v2 for organizations and storages, following
 * /work/shared/docs/platform-apis.md section 2 and nothing else: the `apikey` header (the raw key), the
 * `{status: "success", data}` envelope, `page` (from 1) / `limit` (default 10, at most 100) / `-createdAt` lists,
 * members and invites by email, JSON bodies on DELETE, organization roles answered capitalised (`Admin`,
 * `Member`, `Guest`) and taken in any case, and the standard plan's 100 requests a minute per key, answered 429.
 *
 * Where the document is silent the fake takes the reading hardest on a client, and says so:
 * - the rate limit is a fixed window per API key counting every request, 429 without Retry-After (no header is
 *   documented); the window is configurable (`rate`) so a test can run many windows quickly;
 * - errors are `{error: {statusCode}, message}` (the shape the SDK's chat upload reads);
 * - a `limit` over 100 is a 400 (bad params), not clamped;
 * - role-update results say `success` or `failed` (the status words are not documented);
 * - the organization's creator cannot be removed (counted in `failed`), as the docs say of the owner;
 * - a storage is created in the API key's organization (`keyOrg`): the body names none;
 * - invites expire `inviteTtlMs` after they are sent (the docs show an `expiresAt`, not its length).
 */

export interface FakeMember {
  role: 'Admin' | 'Member' | 'Guest';
  name: string;
  createdAt: number;
}

export interface FakeInvite {
  _id: string;
  to: string;
  organizationRole: string;
  projectAssignments?: { projectId: string; projectRole: string }[];
  createdBy: string;
  createdAt: number;
  expiresAt: number;
}

export interface FakeAngoOrg {
  id: string;
  creator: string;
  members: Map<string, FakeMember>;
  invites: Map<string, FakeInvite>;
}

export interface FakeStorage {
  _id: string;
  name: string;
  type: string;
  bucket: string;
  region?: string;
  organization: string;
  createdAt: number;
  /** What was sent (never returned on the wire; tests read it here). */
  credentials: Record<string, unknown>;
}

const PROJECT_ROLES = ['Manager', 'Labeler', 'Reviewer', 'Lead'];
const STORAGE_TYPES = ['aws', 'gcs', 'azure'];

const oid = () => randomBytes(12).toString('hex');
const err = (status: number, message: string): Reply => ({ status, body: { error: { statusCode: status }, message } });
const ok = (data: unknown, status = 200): Reply => ({ status, body: { status: 'success', data } });
const capital = (role: string) => (role.toLowerCase() === 'admin' ? 'Admin' : 'Member') as FakeMember['role'];

export class FakeAngo {
  readonly server: FakeServer;
  readonly orgs = new Map<string, FakeAngoOrg>();
  readonly storages = new Map<string, FakeStorage>();
  /** apikey -> the user it belongs to, and the organization it creates storages in. */
  private readonly keys = new Map<string, { email: string; keyOrg?: string }>();
  /** Requests per window per key, and the window (fixed, from the fake's start). */
  rate = { limit: 100, windowMs: 60_000 };
  inviteTtlMs = 7 * 24 * 3600 * 1000;
  /** The fake's clock for createdAt and expiry (epoch ms). */
  now: () => number = () => this.clockMs;
  /** 429s answered so far. */
  rejected = 0;
  private clockMs = Date.now();
  private readonly windows = new Map<string, { window: number; count: number }>();
  private readonly started = performance.now();
  private seq = 0;

  constructor() {
    this.server = new FakeServer((req) => this.handle(req));
  }

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  get base(): string {
    return this.server.url;
  }

  get requests(): Recorded[] {
    return this.server.requests;
  }

  /** Moves the fake's clock (invite expiry). */
  advance(ms: number): void {
    this.clockMs += ms;
  }

  /** Ever-increasing creation times, so `-createdAt` order is the reverse of insertion. */
  private stamp(): number {
    return this.now() + ++this.seq;
  }

  apiKey(email: string, keyOrg?: FakeAngoOrg): string {
    const key = `ango-${randomBytes(16).toString('hex')}`;
    this.keys.set(key, { email, ...(keyOrg ? { keyOrg: keyOrg.id } : {}) });
    return key;
  }

  addOrg(creator: string): FakeAngoOrg {
    const org: FakeAngoOrg = { id: oid(), creator, members: new Map(), invites: new Map() };
    org.members.set(creator, { role: 'Admin', name: creator.split('@')[0]!, createdAt: this.stamp() });
    this.orgs.set(org.id, org);
    return org;
  }

  addMember(org: FakeAngoOrg, email: string, role: FakeMember['role']): void {
    org.members.set(email, { role, name: email.split('@')[0]!, createdAt: this.stamp() });
  }

  /** The invitee accepts: a test hook, no wire call. */
  accept(org: FakeAngoOrg, email: string): void {
    const invite = org.invites.get(email);
    if (!invite) throw new Error(`${email} has no pending invite`);
    org.invites.delete(email);
    this.addMember(org, email, capital(invite.organizationRole));
  }

  acceptAll(org: FakeAngoOrg): void {
    for (const email of [...org.invites.keys()]) this.accept(org, email);
  }

  /** A key over its window's limit. */
  private limited(key: string): boolean {
    const window = Math.floor((performance.now() - this.started) / this.rate.windowMs);
    const w = this.windows.get(key);
    if (!w || w.window !== window) {
      this.windows.set(key, { window, count: 1 });
      return false;
    }
    w.count++;
    return w.count > this.rate.limit;
  }

  private page<T>(req: Recorded, items: T[]): T[] | Reply {
    const page = req.query.page === undefined ? 1 : Number(req.query.page);
    const limit = req.query.limit === undefined ? 10 : Number(req.query.limit);
    if (!Number.isInteger(page) || page < 1) return err(400, 'page must be a positive integer');
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return err(400, 'limit must be between 1 and 100');
    return items.slice((page - 1) * limit, page * limit);
  }

  private handle(req: Recorded): Reply {
    const key = req.headers.apikey;
    const who = typeof key === 'string' ? this.keys.get(key) : undefined;
    if (!who) return err(401, 'Missing or invalid API key');
    if (this.limited(key as string)) {
      this.rejected++;
      return err(429, 'Rate limit exceeded');
    }
    const p = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    if (p[0] !== 'v2') return err(404, 'Not found');
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (p[1] === 'storages') return this.storageCall(req, p.slice(2), body, who);
    if (p[1] !== 'organization' || p.length !== 4) return err(404, 'Not found');
    const org = this.orgs.get(p[2]!);
    if (!org) return err(404, 'Organization not found');
    if (org.members.get(who.email)?.role !== 'Admin') return err(403, 'Insufficient permissions');

    if (p[3] === 'users') {
      if (req.method === 'GET') {
        const search = req.query.search?.toLowerCase();
        const all = [...org.members]
          .filter(([email, m]) => !search || email.includes(search) || m.name.toLowerCase().includes(search))
          .sort(([, a], [, b]) => b.createdAt - a.createdAt)
          .map(([email, m]) => ({ _id: `u-${email}`, email, name: m.name, organizationRole: m.role, createdAt: new Date(m.createdAt).toISOString() }));
        const page = this.page(req, all);
        return Array.isArray(page) ? ok({ users: page }) : page;
      }
      if (req.method === 'POST') {
        const users = body.users;
        if (!Array.isArray(users) || !users.every((u) => typeof u?.email === 'string' && typeof u?.organizationRole === 'string')) return err(400, 'users must be [{email, organizationRole}]');
        if (!users.every((u) => ['admin', 'member'].includes(u.organizationRole.toLowerCase()))) return err(400, 'organizationRole must be admin or member');
        const results = users.map((u: { email: string; organizationRole: string }) => {
          const m = org.members.get(u.email);
          if (!m) return { email: u.email, status: 'failed' };
          m.role = capital(u.organizationRole);
          return { email: u.email, status: 'success' };
        });
        const failed = results.filter((r) => r.status === 'failed').length;
        return ok({ users: { updated: results.length - failed, failed, results } });
      }
      if (req.method === 'DELETE') {
        const users = body.users;
        if (!Array.isArray(users) || !users.every((u) => typeof u === 'string')) return err(400, 'users must be a list of emails');
        let deleted = 0;
        for (const email of users as string[]) if (email !== org.creator && org.members.delete(email)) deleted++;
        return ok({ deleted, failed: users.length - deleted });
      }
    }
    if (p[3] === 'invites') {
      if (req.method === 'GET') {
        const wanted = req.query.status?.toLowerCase();
        const all = [...org.invites.values()]
          .filter(() => wanted === undefined || wanted === 'pending')
          .sort((a, b) => b.createdAt - a.createdAt)
          .map((i) => ({ _id: i._id, to: i.to, organizationRole: i.organizationRole, status: 'Pending', createdBy: i.createdBy, createdAt: new Date(i.createdAt).toISOString(), expiresAt: new Date(i.expiresAt).toISOString() }));
        const page = this.page(req, all);
        return Array.isArray(page) ? ok({ invites: page }) : page;
      }
      if (req.method === 'POST') {
        const to = body.to;
        if (!Array.isArray(to) || !to.length || !to.every((e) => typeof e === 'string' && e.includes('@'))) return err(400, 'to must be a list of emails');
        if (typeof body.organizationRole !== 'string' || !['admin', 'member'].includes(body.organizationRole.toLowerCase())) return err(400, 'organizationRole must be admin or member');
        const pa = body.projectAssignments;
        if (pa !== undefined && (!Array.isArray(pa) || !pa.every((a) => typeof a?.projectId === 'string' && PROJECT_ROLES.includes(a?.projectRole)))) {
          return err(400, `projectAssignments must be [{projectId, projectRole: ${PROJECT_ROLES.join('|')}}]`);
        }
        for (const email of to as string[]) {
          const at = this.stamp();
          org.invites.set(email, {
            _id: oid(),
            to: email,
            organizationRole: body.organizationRole,
            ...(pa ? { projectAssignments: pa as FakeInvite['projectAssignments'] } : {}),
            createdBy: who.email,
            createdAt: at,
            expiresAt: at + this.inviteTtlMs,
          });
        }
        return ok({});
      }
      if (req.method === 'DELETE') {
        const invites = body.invites;
        if (!Array.isArray(invites) || !invites.every((e) => typeof e === 'string')) return err(400, 'invites must be a list of emails');
        for (const email of invites as string[]) org.invites.delete(email);
        return ok({});
      }
    }
    return err(404, 'Not found');
  }

  private storageJson(s: FakeStorage): Record<string, unknown> {
    return { _id: s._id, name: s.name, type: s.type, bucket: s.bucket, ...(s.region ? { region: s.region } : {}), organization: s.organization, createdAt: new Date(s.createdAt).toISOString() };
  }

  private storageCall(req: Recorded, p: string[], body: Record<string, unknown>, who: { email: string; keyOrg?: string }): Reply {
    const mine = (s: FakeStorage) => this.orgs.get(s.organization)?.members.has(who.email);
    if (p.length === 0 && req.method === 'GET') {
      const all = [...this.storages.values()].filter((s) => mine(s) && (req.query._id === undefined || s._id === req.query._id)).sort((a, b) => b.createdAt - a.createdAt);
      const page = this.page(req, all);
      return Array.isArray(page) ? ok({ storages: page.map((s) => this.storageJson(s)) }) : page;
    }
    if (p.length === 0 && req.method === 'POST') {
      const org = who.keyOrg ? this.orgs.get(who.keyOrg) : undefined;
      if (!org) return err(400, 'the API key has no organization');
      if (org.members.get(who.email)?.role !== 'Admin') return err(403, 'Insufficient permissions');
      const creds = body.credentials as Record<string, unknown> | undefined;
      if (typeof body.name !== 'string' || !body.name) return err(400, 'name is required');
      if (!STORAGE_TYPES.includes(body.type as string)) return err(400, `type must be one of ${STORAGE_TYPES.join(', ')}`);
      if (typeof body.bucket !== 'string' || !body.bucket) return err(400, 'bucket is required');
      if (body.region !== undefined && typeof body.region !== 'string') return err(400, 'region must be a string');
      if (!creds || typeof creds.accessKeyId !== 'string' || typeof creds.secretAccessKey !== 'string') return err(400, 'credentials must be {accessKeyId, secretAccessKey}');
      const s: FakeStorage = {
        _id: oid(),
        name: body.name,
        type: body.type as string,
        bucket: body.bucket,
        ...(typeof body.region === 'string' ? { region: body.region } : {}),
        organization: org.id,
        createdAt: this.stamp(),
        credentials: creds,
      };
      this.storages.set(s._id, s);
      return ok({ storage: this.storageJson(s) }, 201);
    }
    if (p.length === 1 && req.method === 'DELETE') {
      const s = this.storages.get(p[0]!);
      if (!s || !mine(s)) return err(404, 'Storage not found');
      if (this.orgs.get(s.organization)?.members.get(who.email)?.role !== 'Admin') return err(403, 'Insufficient permissions');
      this.storages.delete(s._id);
      return ok({ storage: this.storageJson(s) });
    }
    return err(404, 'Not found');
  }
}

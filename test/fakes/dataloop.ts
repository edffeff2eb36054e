import { randomUUID } from 'node:crypto';
import { FakeServer, type Recorded, type Reply } from './http.js';

/**
 * A wire-faithful fake of Dataloop's organization API, following /work/shared/docs/platform-apis.md section 1
 * and nothing else: paths under /api/v1 (and /token on the gate's origin), `authorization: Bearer <JWT>`,
 * plain JSON arrays for lists (no pagination), errors as `{message}` with the SDK's status codes, the
 * permission each call needs ("Who" in the doc's table), no rate limit (none is documented).
 *
 * Where the document is silent the fake takes the reading that is hardest on a client, and says so:
 * - pending invitees are NOT in `GET /orgs/{id}/members` (unknown in the doc; an adapter must not rely on it);
 * - `POST /orgs/{id}/members` for an email already invited replaces the invite (one invite per email), for a
 *   member it does nothing; its answer is `true` (the doc: dtlpy ignores the body);
 * - `GET /users/me` answers the token's User (dtlpy calls it to check a key; its body is inferred);
 * - a JWT past its `exp` is refused with 401; removing the creator is refused with 400 (the doc: "cannot be
 *   removed", status not given); `mode=get` before `apply-filestore` is a 404.
 */

export interface FakeUser {
  id: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
}

export interface FakeIntegration {
  id: string;
  name: string;
  type: string;
  /** What was sent as `options` (never returned on the wire; tests read it here). */
  options: Record<string, unknown>;
  createdAt: number;
}

export interface FakeOrg {
  id: string;
  name: string;
  plan: 'premium' | 'freemium';
  creator: string;
  /** email -> role */
  members: Map<string, string>;
  /** Pending invites, invisible on the wire: email -> role. */
  invites: Map<string, string>;
  integrations: Map<string, FakeIntegration>;
  filestore: 'none' | 'PENDING' | 'READY';
  /** `mode=get` polls answered PENDING before READY. */
  pollsLeft: number;
  cache: { enabled: boolean; podType: string | null };
}

const ROLES = ['owner', 'admin', 'member', 'worker'];
const PLANS = ['premium', 'freemium'];
const PODS = ['small', 'medium', 'high'];
const INTEGRATION_TYPES = ['s3', 'aws-cross', 'aws-sts', 'gcs', 'gcp-cross', 'azureblob', 'key_value', 'gcp-workload-identity-federation', 'private-registry'];

const msg = (status: number, message: string): Reply => ({ status, body: { message } });
const FORBIDDEN = msg(403, 'You are not permitted to perform this action.');

/** An unsigned JWT (the fake, like dtlpy, never verifies signatures; it reads `exp` and `sub`). */
export function fakeJwt(claims: Record<string, unknown>, signature = randomUUID().replace(/-/g, '')): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.${signature}`;
}

export class FakeDataloop {
  readonly server: FakeServer;
  readonly users = new Map<string, FakeUser>();
  readonly orgs = new Map<string, FakeOrg>();
  /** token -> who it acts as */
  private readonly tokens = new Map<string, { email: string; superuser: boolean }>();
  private readonly refreshTokens = new Map<string, { email: string; superuser: boolean; ttlSeconds: number }>();
  /** The fake's clock (epoch ms), for token expiry. */
  now: () => number = Date.now;
  /** `mode=get` polls answered PENDING before the file store is READY. */
  cachePolls = 2;
  private clock = 1_700_000_000_000;

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

  /** The API base, as orgctl's address takes it: `http://127.0.0.1:PORT/api/v1`. */
  get base(): string {
    return `${this.server.url}/api/v1`;
  }

  get requests(): Recorded[] {
    return this.server.requests;
  }

  user(email: string, profile: Partial<Omit<FakeUser, 'id' | 'email'>> = {}): FakeUser {
    let u = this.users.get(email);
    if (!u) {
      u = { id: randomUUID(), email, firstName: profile.firstName ?? null, lastName: profile.lastName ?? null };
      this.users.set(email, u);
    }
    return u;
  }

  /** A JWT for `email`, valid `ttlSeconds` (negative: already expired); `signature` lets a test plant a canary. */
  token(email: string, opts: { superuser?: boolean; ttlSeconds?: number; signature?: string } = {}): string {
    this.user(email);
    const t = fakeJwt({ sub: this.users.get(email)!.id, exp: Math.floor(this.now() / 1000) + (opts.ttlSeconds ?? 3600) }, opts.signature);
    this.tokens.set(t, { email, superuser: opts.superuser ?? false });
    return t;
  }

  /** A refresh token whose renewals are `ttlSeconds` long. */
  refreshToken(email: string, opts: { superuser?: boolean; ttlSeconds?: number } = {}): string {
    const t = `refresh-${randomUUID()}`;
    this.refreshTokens.set(t, { email, superuser: opts.superuser ?? false, ttlSeconds: opts.ttlSeconds ?? 3600 });
    return t;
  }

  addOrg(name: string, creator: string, plan: 'premium' | 'freemium' = 'freemium'): FakeOrg {
    const org: FakeOrg = {
      id: randomUUID(),
      name,
      plan,
      creator,
      members: new Map([[creator, 'owner']]),
      invites: new Map(),
      integrations: new Map(),
      filestore: 'none',
      pollsLeft: 0,
      cache: { enabled: false, podType: null },
    };
    this.user(creator);
    this.orgs.set(org.id, org);
    return org;
  }

  orgNamed(name: string): FakeOrg {
    const o = [...this.orgs.values()].find((x) => x.name === name);
    if (!o) throw new Error(`no fake org ${name}`);
    return o;
  }

  addMember(org: FakeOrg, email: string, role: string, profile: Partial<Omit<FakeUser, 'id' | 'email'>> = {}): void {
    this.user(email, profile);
    org.members.set(email, role);
  }

  /** The invitee accepts (they sign up if new): a test hook, no wire call. */
  accept(org: FakeOrg, email: string): void {
    const role = org.invites.get(email);
    if (!role) throw new Error(`${email} has no pending invite to ${org.name}`);
    org.invites.delete(email);
    this.addMember(org, email, role);
  }

  acceptAll(org: FakeOrg): void {
    for (const email of [...org.invites.keys()]) this.accept(org, email);
  }

  private stamp(): number {
    return (this.clock += 1000);
  }

  private userJson(u: FakeUser, org: FakeOrg, role: string): Record<string, unknown> {
    return { id: u.id, email: u.email, username: u.email, firstName: u.firstName, lastName: u.lastName, role, type: null, org: org.id, avatar: null, createdAt: 1673461599365, updatedAt: 1684341970595 };
  }

  private orgJson(o: FakeOrg): Record<string, unknown> {
    return {
      id: o.id,
      name: o.name,
      plan: o.plan,
      owner: o.creator,
      creator: o.creator,
      members: [...o.members].map(([email, role]) => this.userJson(this.users.get(email)!, o, role)),
      groups: [],
      account: { id: `account-${o.id}`, name: `${o.name}'s account`, owner: o.creator, org: o.id, creator: o.creator },
      logoUrl: null,
      createdAt: 1674222447224,
      updatedAt: 1674222447257,
    };
  }

  private integrationJson(o: FakeOrg, i: FakeIntegration): Record<string, unknown> {
    return { id: i.id, name: i.name, type: i.type, org: o.id, creator: o.creator, createdAt: i.createdAt, updatedAt: i.createdAt, metadata: [] };
  }

  private handle(req: Recorded): Reply {
    const { method, path } = req;
    if (method === 'POST' && path === '/token') return this.renew(req);
    if (!path.startsWith('/api/v1/')) return msg(404, 'Not Found');
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer (\S+)$/.exec(header) : null;
    const who = m ? this.tokens.get(m[1]!) : undefined;
    if (!who) return msg(401, 'Unauthorized');
    const exp = (JSON.parse(Buffer.from(m![1]!.split('.')[1] ?? '', 'base64url').toString() || '{}') as { exp?: number }).exp;
    if (exp !== undefined && exp * 1000 <= this.now()) return msg(401, 'Token expired');

    const p = path.slice('/api/v1'.length).split('/').filter(Boolean).map(decodeURIComponent);
    if (p[0] === 'users' && p[1] === 'me' && p.length === 2 && method === 'GET') {
      const u = this.users.get(who.email)!;
      return { status: 200, body: { id: u.id, email: u.email, username: u.email, firstName: u.firstName, lastName: u.lastName } };
    }
    if (p[0] === 'services' && (p[1] === 'fs-cache' || p[1] === 'cache') && p.length === 2 && method === 'POST') return this.cacheCall(p[1], req, who);
    if (p[0] !== 'orgs') return msg(404, 'Not Found');
    if (p.length === 1) {
      if (!who.superuser) return FORBIDDEN;
      if (method === 'GET') return { status: 200, body: [...this.orgs.values()].map((o) => this.orgJson(o)) };
      return msg(404, 'Not Found');
    }
    const org = this.orgs.get(p[1]!);
    const role = org?.members.get(who.email);
    const may = (...roles: string[]) => who.superuser || (role !== undefined && roles.includes(role));
    if (p.length === 2 && method === 'GET') {
      if (!who.superuser) return FORBIDDEN;
      return org ? { status: 200, body: this.orgJson(org) } : msg(404, 'Organization not found');
    }
    if (!org) return msg(404, 'Organization not found');
    const body = (req.body ?? {}) as Record<string, unknown>;

    if (p[2] === 'plan' && p.length === 3 && method === 'PATCH') {
      if (!who.superuser) return FORBIDDEN;
      if (!PLANS.includes(body.plan as string)) return msg(400, `plan must be one of ${PLANS.join(', ')}`);
      org.plan = body.plan as FakeOrg['plan'];
      return { status: 200, body: this.orgJson(org) };
    }

    if (p[2] === 'members') {
      if (p.length === 3 && method === 'GET') {
        if (!may('owner', 'admin', 'member')) return FORBIDDEN;
        return { status: 200, body: [...org.members].map(([email, r]) => this.userJson(this.users.get(email)!, org, r)) };
      }
      if (!may('owner', 'admin')) return FORBIDDEN;
      if (p.length === 3 && method === 'POST') {
        const emails = body.emails;
        if (!Array.isArray(emails) || !emails.every((e) => typeof e === 'string' && e.includes('@'))) return msg(400, 'emails must be an array of emails');
        if (!ROLES.includes(body.role as string)) return msg(400, `role must be one of ${ROLES.join(', ')}`);
        for (const email of emails as string[]) if (!org.members.has(email)) org.invites.set(email, body.role as string);
        return { status: 200, body: true };
      }
      if (p.length === 3 && method === 'PATCH') {
        if (typeof body.email !== 'string') return msg(400, 'email is required');
        if (!ROLES.includes(body.role as string)) return msg(400, `role must be one of ${ROLES.join(', ')}`);
        if (!org.members.has(body.email)) return msg(404, 'Member not found');
        org.members.set(body.email, body.role as string);
        return { status: 200, body: this.userJson(this.users.get(body.email)!, org, body.role as string) };
      }
      if (p.length === 4 && method === 'DELETE') {
        const email = [...org.members.keys()].find((e) => this.users.get(e)!.id === p[3]);
        if (!email) return msg(404, 'Member not found');
        if (email === org.creator) return msg(400, 'The organization creator cannot be removed');
        org.members.delete(email);
        return { status: 200, body: true };
      }
      return msg(404, 'Not Found');
    }

    if (p[2] === 'integrations') {
      if (!may('owner')) return FORBIDDEN;
      if (p.length === 3 && method === 'GET') return { status: 200, body: [...org.integrations.values()].map((i) => this.integrationJson(org, i)) };
      if (p.length === 3 && method === 'POST') {
        if (typeof body.name !== 'string' || !body.name) return msg(400, 'name is required');
        if (!INTEGRATION_TYPES.includes(body.type as string)) return msg(400, `type must be one of ${INTEGRATION_TYPES.join(', ')}`);
        if (!body.options || typeof body.options !== 'object') return msg(400, 'options is required');
        const i: FakeIntegration = { id: randomUUID(), name: body.name, type: body.type as string, options: body.options as Record<string, unknown>, createdAt: this.stamp() };
        org.integrations.set(i.id, i);
        return { status: 200, body: this.integrationJson(org, i) };
      }
      if (p.length === 3 && method === 'PATCH') {
        const i = org.integrations.get(body.integrationId as string);
        if (!i) return msg(404, 'Integration not found');
        if (typeof body.name === 'string') i.name = body.name;
        const creds = body.credentials as { options?: Record<string, unknown>; type?: string } | undefined;
        if (creds) {
          if (creds.type !== i.type) return msg(400, 'credentials.type must be the integration type');
          i.options = creds.options ?? {};
        }
        return { status: 200, body: this.integrationJson(org, i) };
      }
      if (p.length === 4 && method === 'DELETE') {
        if (!org.integrations.delete(p[3]!)) return msg(404, 'Integration not found');
        return { status: 200, body: true };
      }
    }
    return msg(404, 'Not Found');
  }

  private cacheCall(service: 'fs-cache' | 'cache', req: Recorded, who: { email: string; superuser: boolean }): Reply {
    const body = (req.body ?? {}) as { org?: { id?: string; name?: string }; runner?: { podType?: string } };
    const org = body.org?.id ? this.orgs.get(body.org.id) : undefined;
    if (!org || body.org?.name !== org.name) return msg(404, 'Organization not found');
    if (!who.superuser && org.members.get(who.email) !== 'owner') return FORBIDDEN;
    if (!PODS.includes(body.runner?.podType ?? '')) return msg(400, `runner.podType must be one of ${PODS.join(', ')}`);
    const mode = req.query.mode;
    if (service === 'fs-cache') {
      switch (mode) {
        case 'apply-filestore':
          org.filestore = 'PENDING';
          org.pollsLeft = this.cachePolls;
          return { status: 200, body: { state: org.filestore } };
        case 'get':
          if (org.filestore === 'none') return msg(404, 'No file store');
          if (org.filestore === 'PENDING' && org.pollsLeft-- <= 0) org.filestore = 'READY';
          return { status: 200, body: { state: org.filestore } };
        case 'apply':
          if (org.filestore !== 'READY') return msg(400, 'File store is not ready');
          return { status: 200, body: { state: org.filestore } };
        case 'destroy':
          org.filestore = 'none';
          return { status: 200, body: {} };
      }
    } else if (mode === 'apply' || mode === 'destroy') {
      org.cache = mode === 'apply' ? { enabled: true, podType: body.runner!.podType! } : { enabled: false, podType: null };
      return { status: 200, body: {} };
    }
    return msg(400, `unknown mode ${mode}`);
  }

  private renew(req: Recorded): Reply {
    if (req.query.default === undefined) return msg(404, 'Not Found');
    const body = (req.body ?? {}) as { type?: string; refresh_token?: string };
    if (body.type !== 'refresh_token') return msg(400, 'unsupported type');
    const r = body.refresh_token ? this.refreshTokens.get(body.refresh_token) : undefined;
    if (!r) return msg(401, 'Invalid refresh token');
    return { status: 200, body: { id_token: this.token(r.email, { superuser: r.superuser, ttlSeconds: r.ttlSeconds }) } };
  }
}

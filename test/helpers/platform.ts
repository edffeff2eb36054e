/**
 * An in-process organization platform served over real HTTP on 127.0.0.1 (ephemeral port), with a
 * ManualClock, plus a tiny fetch client. Shared by the platform-*.test.ts suites.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ManualClock } from '../../src/server/clock.js';
import { buildApp } from '../../src/server/http/app.js';
import { openPlatform, type PlatformService } from '../../src/server/platform.js';
import type { Actor, Role } from '../../src/server/service/context.js';
import type { InviteMail } from '../../src/server/service/members.js';

export const DAY_MS = 86_400_000;
export const DEFAULT_ORG = 'acme';
export const SUPERUSER_EMAIL = 'ops@platform.example';

export interface Res {
  status: number;
  // Response bodies are whatever JSON the API sent; tests assert on their shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  /** The raw response text (empty for 204). */
  text: string;
  headers: Headers;
}

export interface RequestOptions {
  /** Extra or overriding headers (e.g. a malformed Authorization). */
  headers?: Record<string, string>;
  /** Sent as is instead of JSON.stringify(body) (content type stays application/json unless overridden). */
  rawBody?: string;
}

export interface Client {
  readonly token: string | undefined;
  request(method: string, path: string, body?: unknown, opts?: RequestOptions): Promise<Res>;
  get(path: string, opts?: RequestOptions): Promise<Res>;
  post(path: string, body?: unknown, opts?: RequestOptions): Promise<Res>;
  patch(path: string, body?: unknown, opts?: RequestOptions): Promise<Res>;
  put(path: string, body?: unknown, opts?: RequestOptions): Promise<Res>;
  delete(path: string, body?: unknown, opts?: RequestOptions): Promise<Res>;
}

export interface Harness {
  url: string;
  platform: PlatformService;
  clock: ManualClock;
  app: FastifyInstance;
  /** The database file (`:memory:` unless a file was asked for). */
  dbFile: string;
  /** The organization made by `identity.init` (empty when started with `init: false`). */
  org: string;
  /** Bearer token of the init owner: a platform superuser and the creator of `org`. */
  superToken: string;
  superEmail: string;
  /** A client for `token`; without one, requests carry no Authorization header. */
  as(token?: string): Client;
  /** The superuser's client. */
  su: Client;
  /** The superuser as a service-level Actor, for fast seeding through the service modules. */
  superActor(): Actor;
  /** Invite mail the platform sent (its mailer): the only place invite links go. */
  mailbox: InviteMail[];
  /** Stops the HTTP server and closes the database (idempotent). */
  close(): Promise<void>;
}

export interface StartOptions {
  /** SQLite file; default `:memory:`. */
  dbFile?: string;
  clock?: ManualClock;
  key?: Buffer;
  env?: NodeJS.ProcessEnv;
  inviteExpiryDays?: number;
  /** Run `identity.init` (default true). Reopening an existing database needs `false`. */
  init?: boolean;
  org?: string;
  ownerEmail?: string;
  /** A superuser token to use when `init` is false (e.g. one kept from before a restart). */
  superToken?: string;
  /** Where invite mail goes (default: a new, empty mailbox); pass one kept from before a restart. */
  mailbox?: InviteMail[];
}

export function client(url: string, token?: string): Client {
  const request = async (method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<Res> => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (opts.rawBody !== undefined) payload = opts.rawBody;
    else if (body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, opts.headers ?? {});
    const res = await fetch(`${url}${path}`, { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text && (res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
    else if (text) parsed = text;
    return { status: res.status, body: parsed, text, headers: res.headers };
  };
  return {
    token,
    request,
    get: (p, o) => request('GET', p, undefined, o),
    post: (p, b, o) => request('POST', p, b, o),
    patch: (p, b, o) => request('PATCH', p, b, o),
    put: (p, b, o) => request('PUT', p, b, o),
    delete: (p, b, o) => request('DELETE', p, b, o),
  };
}

export async function startPlatform(opts: StartOptions = {}): Promise<Harness> {
  const dbFile = opts.dbFile ?? ':memory:';
  const clock = opts.clock ?? new ManualClock();
  const mailbox = opts.mailbox ?? [];
  const platform = openPlatform({
    mailer: (mail) => mailbox.push(mail),
    db: dbFile,
    clock,
    ...(opts.key ? { key: opts.key } : {}),
    // Never pick up a developer's ORGCTL_PLATFORM_KEY by accident.
    env: opts.env ?? {},
    ...(opts.inviteExpiryDays !== undefined ? { inviteExpiryDays: opts.inviteExpiryDays } : {}),
  });
  let org = '';
  let superToken = opts.superToken ?? '';
  const superEmail = opts.ownerEmail ?? SUPERUSER_EMAIL;
  if (opts.init !== false) {
    org = opts.org ?? DEFAULT_ORG;
    superToken = platform.identity.init({ org, ownerEmail: superEmail }).token;
  } else if (opts.org) {
    org = opts.org;
  }
  const app = buildApp(platform);
  let url: string;
  try {
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (err) {
    platform.close();
    throw err;
  }
  let closed = false;
  const h: Harness = {
    url,
    platform,
    clock,
    app,
    dbFile,
    org,
    superToken,
    superEmail,
    as: (token?: string) => client(url, token),
    su: client(url, superToken),
    superActor: () => platform.identity.authenticate(superToken),
    mailbox,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
      platform.close();
    },
  };
  return h;
}

export interface AddMemberOptions {
  org?: string;
  /** Who sends the invite (default: the superuser). */
  inviter?: Client;
  /** Accept with the invitee's own token (default) or with the superuser's. */
  acceptAs?: 'self' | 'superuser';
}

/**
 * Puts `email` into the organization with `role` through the real flow: a token for them (a non-superuser,
 * who thereby gets their own Untitled Organization), an invite, and its acceptance. Returns their token.
 */
export async function addMember(h: Harness, email: string, role: Role, opts: AddMemberOptions = {}): Promise<string> {
  const org = opts.org ?? h.org;
  const { token } = h.platform.identity.createToken(email, freshName('test'));
  const inviter = opts.inviter ?? h.su;
  const inv = await inviter.post(`/api/v1/orgs/${org}/invites`, { email, role });
  if (inv.status !== 201) throw new Error(`invite ${email} as ${role}: ${inv.status} ${inv.text}`);
  const acceptor = opts.acceptAs === 'superuser' ? h.su : h.as(token);
  const acc = await acceptor.post(`/api/v1/orgs/${org}/invites/${encodeURIComponent(email)}/accept`);
  if (acc.status !== 200) throw new Error(`accept ${email}: ${acc.status} ${acc.text}`);
  return token;
}

/** Adds many members quickly through the service layer (one invite transaction, one accept each). */
export function seedMembers(h: Harness, emails: string[], role: Role = 'member', org: string = h.org): void {
  const actor = h.superActor();
  for (let i = 0; i < emails.length; i += 1000) {
    const chunk = emails.slice(i, i + 1000);
    const results = h.platform.members.invite(actor, org, chunk.map((email) => ({ email, role })));
    const failed = results.find((r) => !r.ok);
    if (failed) throw new Error(`seeding invite failed: ${JSON.stringify(failed)}`);
  }
  for (const email of emails) h.platform.members.acceptByEmail(actor, org, email);
}

/** The organization's current state version, read as the superuser. */
export async function stateVersion(h: Harness, org: string = h.org): Promise<number> {
  const r = await h.su.get(`/api/v1/orgs/${org}`);
  if (r.status !== 200) throw new Error(`GET org ${org}: ${r.status} ${r.text}`);
  return r.body.stateVersion as number;
}

/** The latest invite link (token) mailed to `email` for `org`, from the platform's mailer. */
export async function latestInviteToken(h: Harness, email: string, org: string = h.org): Promise<string> {
  const mine = h.mailbox.filter((m) => m.to === email && m.organization === org);
  const last = mine[mine.length - 1];
  if (!last) throw new Error(`no invite mail for ${email} in ${org}`);
  return last.token;
}

/** A private temporary directory and its remover. */
export function tempDir(prefix = 'orgctl-platform-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

let counter = 0;
/** A fresh, unique email address (unique within the test process). */
export function freshEmail(tag = 'user', domain = 'example.com'): string {
  counter += 1;
  return `${tag}-${counter}@${domain}`;
}
/** A fresh, unique name (integrations, display names). */
export function freshName(tag = 'n'): string {
  counter += 1;
  return `${tag}-${counter}`;
}

/** `METHOD /path` of every route the app registers (HEAD is fastify's, from GET), read from printRoutes. */
export function registeredRoutes(h: Harness): string[] {
  const out: string[] = [];
  const prefixes: string[] = [];
  for (const line of h.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line.replace(/\u00a0/g, ' '));
    if (!m) continue;
    const depth = m[1]!.length / 4;
    prefixes.length = depth;
    const path = (prefixes[depth - 1] ?? '') + m[2]!;
    prefixes[depth] = path;
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim())) {
      if (method && method !== 'HEAD') out.push(`${method} ${path}`);
    }
  }
  return out.sort();
}

/**
 * Property-based tests of the platform's REST API against hostile requests (issue 5): random bodies (any JSON,
 * mutated valid bodies, raw text, wrong content types, huge arrays and bodies), random path parameters and
 * query strings, to every route. Whatever it is sent, the server must answer (never hang), never with a 5xx,
 * every error in the documented shape `{"error": {"code", "message", "details"}}`, and a rejected request
 * (4xx) must change nothing in the database.
 *
 * Issue 21 adds: organization names of digits only (never taken for ids: a request to one changes no other
 * organization), bodies nested thousands deep with Idempotency-Keys, forged cursors (never a 200 page), and
 * Unicode variants of addresses (whatever is stored is NFC, lower case and free of invisible characters).
 *
 * Seeds are fixed so that a failure replays; fast-check prints the seed and the shrunk counterexample.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailProblem, normalizeEmail } from '../../src/model/email.js';
import { addMember, registeredRoutes, startPlatform, type Harness } from '../helpers/platform.js';

/** Fixed, so that a failure replays; ORGCTL_FC_SEED explores others. */
const SEED = Number(process.env.ORGCTL_FC_SEED ?? 20_240_505);
/** A request unanswered after this long is a hang (generous: a loaded 2-core machine must never reach it). */
const REQUEST_CAP_MS = 20_000;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Every route the platform serves, each with a valid body to mutate (writes). A test below checks this list
 * against the routes the app registers, so a new route cannot be forgotten here.
 */
const ROUTES: { method: Method; path: string; body?: Record<string, unknown> }[] = [
  { method: 'GET', path: '/healthz' },
  { method: 'GET', path: '/api/v1/me' },
  { method: 'PUT', path: '/api/v1/me', body: { activeOrganization: 'acme' } },
  { method: 'GET', path: '/api/v1/orgs' },
  { method: 'POST', path: '/api/v1/orgs', body: { name: 'neworg', displayName: 'New', plan: 'premium', creator: 'owner@acme.example' } },
  { method: 'GET', path: '/api/v1/orgs/:org' },
  { method: 'GET', path: '/api/v1/org-names/:name' },
  { method: 'PATCH', path: '/api/v1/orgs/:org', body: { displayName: 'Acme', plan: 'freemium', cache: { enabled: true, podType: 'small' } } },
  { method: 'DELETE', path: '/api/v1/orgs/:org' },
  { method: 'GET', path: '/api/v1/orgs/:org/members' },
  { method: 'PATCH', path: '/api/v1/orgs/:org/members/:email', body: { role: 'admin', firstName: 'A', lastName: 'B', description: 'C' } },
  { method: 'DELETE', path: '/api/v1/orgs/:org/members/:email' },
  { method: 'POST', path: '/api/v1/orgs/:org/members/batch-update', body: { members: [{ email: 'member@acme.example', role: 'worker' }] } },
  { method: 'POST', path: '/api/v1/orgs/:org/members/batch-remove', body: { emails: ['member@acme.example'] } },
  { method: 'GET', path: '/api/v1/orgs/:org/invites' },
  { method: 'POST', path: '/api/v1/orgs/:org/invites', body: { email: 'new@acme.example', role: 'member', expiresInDays: 7, projects: [{ project: 'p', role: 'annotator' }] } },
  { method: 'POST', path: '/api/v1/orgs/:org/invites/batch', body: { invites: [{ email: 'new@acme.example', role: 'member' }], expiresInDays: 3 } },
  { method: 'POST', path: '/api/v1/orgs/:org/invites/batch-resend', body: { invites: [{ email: 'pending@acme.example' }], expiresInDays: 3 } },
  { method: 'POST', path: '/api/v1/orgs/:org/invites/batch-cancel', body: { emails: ['pending@acme.example'] } },
  { method: 'POST', path: '/api/v1/orgs/:org/invites/:email/resend', body: { role: 'admin', expiresInDays: 2 } },
  { method: 'DELETE', path: '/api/v1/orgs/:org/invites/:email' },
  { method: 'POST', path: '/api/v1/orgs/:org/invites/:email/accept' },
  { method: 'POST', path: '/api/v1/invites/accept', body: { token: 'abc' } },
  { method: 'GET', path: '/api/v1/outbox' },
  { method: 'GET', path: '/api/v1/orgs/:org/integrations' },
  { method: 'POST', path: '/api/v1/orgs/:org/integrations', body: { name: 'new-store', type: 's3', options: { bucket: 'b', tags: ['x'], public: false }, credentials: { key: 'k' } } },
  { method: 'GET', path: '/api/v1/orgs/:org/integrations/:name' },
  { method: 'PATCH', path: '/api/v1/orgs/:org/integrations/:name', body: { options: { bucket: 'c' }, credentials: { key: 'k2' } } },
  { method: 'DELETE', path: '/api/v1/orgs/:org/integrations/:name' },
  { method: 'POST', path: '/api/v1/orgs/:org/integrations/:name/verify-credentials', body: { credentials: { key: 'k' } } },
  { method: 'GET', path: '/api/v1/orgs/:org/audit' },
  { method: 'GET', path: '/api/v1/orgs/:org/projects' },
  { method: 'GET', path: '/api/v1/projects' },
  { method: 'POST', path: '/api/v1/projects', body: { name: 'new project', organization: 'acme' } },
  { method: 'GET', path: '/api/v1/projects/:id' },
  { method: 'PUT', path: '/api/v1/projects/:id/paying-organization', body: { organization: 'acme' } },
  { method: 'POST', path: '/api/v1/projects/:id/members', body: { email: 'member@acme.example', role: 'reviewer' } },
  { method: 'DELETE', path: '/api/v1/projects/:id/members/:email' },
  { method: 'POST', path: '/api/v1/projects/:id/datasets', body: { name: 'images' } },
  { method: 'POST', path: '/api/v1/projects/:id/tasks', body: { name: 'label', datasetId: 1, completion: 50, assignee: 'member@acme.example' } },
  { method: 'PATCH', path: '/api/v1/projects/:id/tasks/:taskId', body: { completion: 75 } },
  { method: 'GET', path: '/api/v1/orgs/:org/groups' },
  { method: 'POST', path: '/api/v1/orgs/:org/groups', body: { name: 'reviewers', description: 'd' } },
  { method: 'PATCH', path: '/api/v1/orgs/:org/groups/:name', body: { name: 'team', description: 'e' } },
  { method: 'DELETE', path: '/api/v1/orgs/:org/groups/:name' },
  { method: 'PUT', path: '/api/v1/orgs/:org/groups/:name/members', body: { emails: ['member@acme.example'] } },
  { method: 'GET', path: '/api/v1/orgs/:org/overview' },
  { method: 'GET', path: '/api/v1/orgs/:org/overview/users' },
  { method: 'GET', path: '/api/v1/orgs/:org/lease' },
  { method: 'POST', path: '/api/v1/orgs/:org/lease', body: { id: 'run-2', holder: 'ci', ttlSeconds: 60 } },
  { method: 'PUT', path: '/api/v1/orgs/:org/lease/:id', body: { ttlSeconds: 120 } },
  { method: 'DELETE', path: '/api/v1/orgs/:org/lease/:id' },
  { method: 'DELETE', path: '/api/v1/orgs/:org/lease' },
  { method: 'GET', path: '/api/v1/tokens' },
  { method: 'DELETE', path: '/api/v1/tokens/:id' },
  { method: 'GET', path: '/api/v1/audit' },
];

// ---------------------------------------------------------------------------------------------------------

let h: Harness;
let ownerToken = '';
/** The superuser's read-scoped token: every write refused by scope alone. */
let readToken = '';
/** Path parameter values that name things that exist, so that requests get past lookups to validation. */
const existing: Record<string, string[]> = {
  // "2" is an organization's name, while acme's id is 1 and no organization is named "1".
  org: ['acme', '2', '1'],
  email: ['member@acme.example', 'pending@acme.example', 'owner@acme.example'],
  name: ['store', 'team'],
  id: [], // a project's
  leaseId: ['run-1'],
  taskId: [],
  tokenId: [], // a throwaway token's, revoked and restored
};

/**
 * Every table's rows, hashed: equal snapshots mean nothing was written. The idempotency table is left out: a
 * refused request sent with an Idempotency-Key has its refusal remembered there, so that a retry gets the same
 * answer; that changes nothing else.
 */
function snapshot(): string {
  const db = h.platform.ctx.db;
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'idempotency' ORDER BY name").pluck().all() as string[];
  const hash = createHash('sha256');
  for (const t of tables) {
    hash.update(`\u0000${t}\u0000`);
    for (const row of db.prepare(`SELECT * FROM "${t}"`).raw().all()) {
      hash.update(JSON.stringify(row, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('base64') : typeof v === 'bigint' ? String(v) : v)));
      hash.update('\n');
    }
  }
  return hash.digest('hex');
}

/**
 * Puts back what an accepted random request removed (the integration, the group, the lease, the pending
 * invite), so that later requests still reach validation of things that exist. Runs between requests.
 */
async function reseed(): Promise<void> {
  const db = h.platform.ctx.db;
  const count = (sql: string) => db.prepare(sql).pluck().get() as number;
  const acme = h.org;
  if (!count(`SELECT count(*) FROM integrations i JOIN orgs o ON o.id = i.org_id WHERE o.name = 'acme' AND i.name = 'store'`)) {
    await h.su.post(`/api/v1/orgs/${acme}/integrations`, { name: 'store', type: 's3', options: { bucket: 'b' }, credentials: { accessKeyId: 'AK' } });
  }
  if (!count(`SELECT count(*) FROM groups g JOIN orgs o ON o.id = g.org_id WHERE o.name = 'acme' AND g.name = 'team'`)) {
    await h.su.post(`/api/v1/orgs/${acme}/groups`, { name: 'team' });
  }
  if (!count(`SELECT count(*) FROM leases WHERE org = 'acme'`)) await h.su.post(`/api/v1/orgs/${acme}/lease`, { id: 'run-1', holder: 'ci', ttlSeconds: 3600 });
  // Tokens revoked by a random DELETE /tokens/:id work again (the harness's own tokens included).
  if (count('SELECT count(*) FROM tokens WHERE revoked_at IS NOT NULL')) db.prepare('UPDATE tokens SET revoked_at = NULL').run();
}

beforeAll(async () => {
  fc.configureGlobal({ seed: SEED, endOnFailure: false });
  h = await startPlatform({ ownerEmail: 'root@platform.example' });
  ownerToken = await addMember(h, 'owner@acme.example', 'owner');
  await addMember(h, 'member@acme.example', 'member');
  const ok = (r: { status: number; text: string }, what: string) => {
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
  };
  const acme = h.org;
  ok(await h.su.post(`/api/v1/orgs/${acme}/invites`, { email: 'pending@acme.example', role: 'worker' }), 'invite');
  const project = await h.su.post('/api/v1/projects', { name: 'roads', organization: acme });
  ok(project, 'project');
  existing.id!.push(String(project.body.id));
  const dataset = await h.su.post(`/api/v1/projects/${project.body.id}/datasets`, { name: 'signs' });
  ok(dataset, 'dataset');
  const task = await h.su.post(`/api/v1/projects/${project.body.id}/tasks`, { name: 'label' });
  ok(task, 'task');
  existing.taskId!.push(String(task.body.id));
  // An organization named "2", owned by acme's owner too, so that digit-only names reach real organizations.
  ok(await h.as(ownerToken).post('/api/v1/orgs', { name: '2' }), 'org "2"');
  ok(await h.as(ownerToken).post('/api/v1/orgs/2/invites', { email: 'pending@acme.example', role: 'member' }), 'invite into "2"');
  await reseed();
  expect(existing.id).toHaveLength(1);
  existing.tokenId!.push(String(h.platform.identity.createToken('member@acme.example', 'throwaway').view.id));
  readToken = h.platform.identity.createToken('root@platform.example', 'read', { scope: 'read' }).token;
  ok(await h.as(readToken).get('/api/v1/me'), 'me (read)');
  const page = await h.su.get(`/api/v1/orgs/${acme}/members?limit=1`);
  ok(page, 'members page');
  realCursors.push(page.body.nextCursor as string);
  // Authentication records a first connection: do it now, so that later requests write nothing by themselves.
  ok(await h.su.get('/api/v1/me'), 'me');
  ok(await h.as(ownerToken).get('/api/v1/me'), 'me (owner)');
}, 60_000);

afterAll(async () => {
  await h?.close();
});

// ---------------------------------------------------------------------------------------------------------
// Requests

/** One address written in ways that look alike: NFD, invisible characters, a homoglyph, a control, case. */
const EMAIL_VARIANTS = [
  'member@acme.example',
  'MEMBER@ACME.EXAMPLE',
  'membe\u0301r@acme.example',
  'memb\u00e9r@acme.example',
  'membe\u0301r@acme.example'.normalize('NFC'),
  'mem\u200bber@acme.example',
  'member\u200d@acme.example',
  '\ufeffmember@acme.example',
  'member\u0000@acme.example',
  'm\u0435mber@acme.example',
  'member@\u0430cme.example',
  '\u202emember@acme.example',
  'member\ufffd@acme.example',
  '\uff4d\uff45\uff4d\uff42\uff45\uff52@acme.example',
  '\u0438\u0432\u0430\u043d@acme.example',
  'pending\u00a0@acme.example',
];
const emailVariant = fc.constantFrom(...EMAIL_VARIANTS);

const hostileScalar = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('', ' ', 'owner', 'member@acme.example', ' A@B.CO ', 'acme', '0', '-1', '1e400', 'null', '__proto__', 'constructor', '💥'.repeat(300), 'x'.repeat(70_000)),
  emailVariant,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileScalar },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(hostileScalar, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), hostileScalar, { maxKeys: 4 }) },
);

/** A valid body with a few fields deleted, replaced by values of any type, or added. */
function mutateBody(body: Record<string, unknown>, edits: { op: 'delete' | 'replace' | 'add'; pick: number; deep: boolean; key: string; value: unknown }[]): unknown {
  const out = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  for (const e of edits) {
    let target: Record<string, unknown> | unknown[] = out;
    const keys = Object.keys(out);
    // Sometimes one level down: into a list item or a nested object.
    if (e.deep && keys.length) {
      const inner = out[keys[e.pick % keys.length]!];
      if (Array.isArray(inner) && inner.length && inner[0] !== null && typeof inner[0] === 'object') target = inner[0] as Record<string, unknown>;
      else if (inner !== null && typeof inner === 'object') target = inner as Record<string, unknown>;
    }
    const tkeys = Object.keys(target);
    const key = tkeys.length ? tkeys[e.pick % tkeys.length]! : e.key;
    const set = (k: string, v: unknown) => Object.defineProperty(target, k, { value: v, enumerable: true, writable: true, configurable: true });
    if (e.op === 'delete') delete (target as Record<string, unknown>)[key];
    else if (e.op === 'replace') set(key, e.value);
    else set(e.key, e.value);
  }
  return out;
}
const editsArb = fc.array(
  fc.record({
    op: fc.constantFrom<'delete' | 'replace' | 'add'>('delete', 'replace', 'replace', 'add'),
    pick: fc.nat(),
    deep: fc.boolean(),
    key: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('email', 'role', 'name', '__proto__', 'constructor', 'extra')),
    value: fc.oneof(hostileValue, emailVariant),
  }),
  { minLength: 1, maxLength: 3 },
);

/** What is sent as the body: raw text and its content type (undefined: no header). */
interface Body {
  text?: string;
  contentType?: string;
}

const JSON_TYPE = 'application/json';
const contentTypes = fc.oneof(
  { weight: 6, arbitrary: fc.constant(JSON_TYPE) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'APPLICATION/JSON',
      'application/jsonx',
      'application/merge-patch+json',
      'application/octet-stream',
      '*/*',
      ';',
      'application/json;;;',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'abcjson/;=+-* '.split('')), minLength: 1, maxLength: 30 }) },
);

function bodyArb(route: (typeof ROUTES)[number]): fc.Arbitrary<Body | undefined> {
  const json = (v: unknown): string => JSON.stringify(v) ?? 'null';
  const arrayField = route.body ? (Object.keys(route.body).find((k) => Array.isArray(route.body![k])) ?? 'items') : 'items';
  return fc.oneof(
    fc.constant(undefined),
    // Any JSON at all.
    fc.tuple(fc.jsonValue({ maxDepth: 4 }), contentTypes).map(([v, contentType]) => ({ text: json(v), contentType })),
    fc.tuple(fc.anything({ maxDepth: 3 }), contentTypes).map(([v, contentType]) => ({ text: json(v), contentType })),
    // The route's own body, broken a little: gets furthest into validation and the service.
    ...(route.body ? [fc.tuple(editsArb, contentTypes).map(([edits, contentType]) => ({ text: json(mutateBody(route.body!, edits)), contentType }))] : []),
    ...(route.body ? [fc.constant({ text: json(route.body), contentType: JSON_TYPE })] : []),
    // Raw text: not JSON, truncated JSON, a lone quote, a BOM, NULs.
    fc.tuple(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom('{', '[', '"', '{"a":', '\ufeff{}', '{}\u0000', 'null', '1', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}')), fc.option(contentTypes, { nil: undefined })).map(([text, contentType]) => ({ text, contentType })),
    // Huge: an array of 1,001 to 5,000 items in the route's list field, or a body over the 1 MiB limit.
    fc.tuple(fc.integer({ min: 1001, max: 5000 }), fc.boolean()).map(([n, valid]) => ({
      text: json({ ...(route.body ?? {}), [arrayField]: Array.from({ length: n }, (_, i) => (valid ? `u${i}@acme.example` : i)) }),
      contentType: JSON_TYPE,
    })),
    fc.constantFrom(1024 * 1024 + 1, 3 * 1024 * 1024).map((n) => ({ text: `{"name":"${'x'.repeat(n)}"}`, contentType: JSON_TYPE })),
    // Deep: arrays and objects nested past the limit (64), up to 20,000 levels, inside the route's own body.
    fc.tuple(fc.integer({ min: 60, max: 20_000 }), fc.constantFrom('[', '{"a":'), fc.boolean()).map(([depth, open, inside]) => {
      const close = open === '[' ? ']' : '}';
      const deep = `${open.repeat(depth)}1${close.repeat(depth)}`;
      const text = inside && route.body ? json(route.body).replace(/^\{/, `{"deep":${deep},`) : deep;
      // A counterexample says how deep, rather than printing 20,000 brackets.
      return { text, contentType: JSON_TYPE, [fc.toStringMethod]: () => `{text: <JSON ${depth} levels deep>, contentType: "${JSON_TYPE}"}` };
    }),
  );
}

const paramArb = (name: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...(existing[name]?.length ? existing[name]! : ['x'])).map(encodeURIComponent) },
    ...(name === 'email' ? [{ weight: 2, arbitrary: emailVariant.map(encodeURIComponent) }] : []),
    ...(name === 'org' ? [{ weight: 1, arbitrary: fc.constantFrom('3', '10', '007', '99999999999999999999').map(encodeURIComponent) }] : []),
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.constantFrom('0', '-1', '1e3', '99999999999999999999', '%', '%ZZ', '%00', '%C0%AE', '..', '.', 'a%2Fb', '%E2%80%AE', 'ACME', encodeURIComponent(' member@acme.example ')) },
  );

/** Cursors: forged ones (garbage, base64 of anything, another list's), and real ones the server made. */
const realCursors: string[] = [];
const cursorArb = fc.oneof(
  fc.constantFrom('!!!notbase64', 'AAAA', 'bWVtYmVyczo', Buffer.from('audit:0').toString('base64url'), Buffer.from('members:').toString('base64url'), '%%%', '='),
  fc.string({ unit: 'binary', maxLength: 30 }).map((t) => Buffer.from(t).toString('base64url')),
  fc.constantFrom('members', 'invites', 'audit').chain((kind) => fc.string({ maxLength: 20 }).map((t) => Buffer.from(`${kind}:${t}`).toString('base64url'))),
  fc.constant(null).map(() => realCursors[0] ?? 'x'),
);

const queryArb = fc.option(
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom('limit', 'cursor', 'role', 'status', 'action', 'format', 'email', 'x'), fc.string({ maxLength: 6 })),
        fc.oneof(
          fc.constantFrom('0', '1', '1000', '1001', '-1', '1.5', 'abc', '', 'owner', 'open', 'csv', 'json', 'member@acme.example', 'AAAA', '!!!', 'x'.repeat(3000)),
          fc.string({ maxLength: 20 }),
          cursorArb,
        ),
      ),
      { maxLength: 4 },
    )
    .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')),
  { nil: undefined },
);

const tokenArb = fc.constantFrom<'super' | 'owner' | 'read' | 'none' | 'bad'>('super', 'super', 'owner', 'owner', 'read', 'none', 'bad');

const requestArb = fc.nat({ max: ROUTES.length - 1 }).chain((i) => {
  const route = ROUTES[i]!;
  const names = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  return fc.record({
    route: fc.constant(route),
    params: fc.tuple(...names.map((n) => paramArb(n === 'id' && route.path.includes('/lease/') ? 'leaseId' : n === 'id' && route.path.includes('/tokens/') ? 'tokenId' : n))),
    query: route.method === 'GET' ? queryArb : fc.option(queryArb.map((q) => q ?? ''), { nil: undefined, freq: 8 }),
    // fetch sends no body with GET (and the server would ignore one).
    body: route.method === 'GET' ? fc.constant(undefined) : bodyArb(route),
    token: tokenArb,
    accept: fc.constantFrom(undefined, 'text/csv', '*/*', 'application/json'),
    idempotencyKey: route.method === 'GET' ? fc.constant(undefined) : fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined, freq: 2 }),
  });
});
type Request = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

let sent = 0;
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
/** Whether a cursor is one the list could have made: canonical base64url of `<kind>:<key>`, the key of the kind's shape. */
function wellFormedCursor(kind: string, cursor: string): boolean {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor) || Buffer.from(cursor, 'base64url').toString('base64url') !== cursor) return false;
  const bytes = Buffer.from(cursor, 'base64url');
  const text = bytes.toString('utf8');
  if (!Buffer.from(text).equals(bytes) || !text.startsWith(`${kind}:`)) return false;
  const key = text.slice(kind.length + 1);
  if (kind === 'members') return key.length > 0;
  if (kind === 'invites') return /^[^\u0000]+\u0000[1-9][0-9]{0,15}$/.test(key);
  return /^[1-9][0-9]{0,15}$/.test(key);
}

/** Each organization's state version. */
function versions(): Map<string, number> {
  const rows = h.platform.ctx.db.prepare('SELECT name, version FROM orgs').raw().all() as [string, number][];
  return new Map(rows);
}

/** Every address the platform stores, that is not what the rule allows or not in its normal form. */
function badStoredEmails(): string[] {
  const emails = h.platform.ctx.db
    .prepare('SELECT email FROM users UNION SELECT email FROM memberships UNION SELECT email FROM invites UNION SELECT to_email FROM outbox')
    .pluck()
    .all() as string[];
  return emails.filter((e) => emailProblem(e) !== undefined || normalizeEmail(e) !== e);
}

async function send(r: Request): Promise<{ status: number; text: string; contentType: string }> {
  let i = 0;
  const path = r.route.path.replace(/:\w+/g, () => r.params[i++]!);
  const url = `${h.url}${path}${r.query ? `?${r.query}` : ''}`;
  const headers: Record<string, string> = {};
  if (r.token === 'super') headers.authorization = `Bearer ${h.superToken}`;
  else if (r.token === 'owner') headers.authorization = `Bearer ${ownerToken}`;
  else if (r.token === 'read') headers.authorization = `Bearer ${readToken}`;
  else if (r.token === 'bad') headers.authorization = 'Bearer not-a-token';
  if (r.body?.contentType !== undefined) headers['content-type'] = r.body.contentType;
  if (r.accept) headers.accept = r.accept;
  // Fresh per request: a key seen before would replay that answer instead of exercising this request.
  if (r.idempotencyKey !== undefined) headers['idempotency-key'] = `${r.idempotencyKey}-${++sent}`;
  const res = await fetch(url, { method: r.route.method, headers, body: r.body?.text, signal: AbortSignal.timeout(REQUEST_CAP_MS) });
  return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') ?? '' };
}

function describeRequest(r: Request): string {
  return `${r.route.method} ${r.route.path} params=${JSON.stringify(r.params)} query=${r.query ?? ''} token=${r.token} key=${r.idempotencyKey ?? ''} type=${r.body?.contentType} body=${(r.body?.text ?? '').slice(0, 300)}`;
}

// ---------------------------------------------------------------------------------------------------------

describe('routes: hostile requests', () => {
  it('the route list covers every route the app registers', () => {
    const registered = registeredRoutes(h);
    expect(registered.length).toBeGreaterThan(40);
    expect(ROUTES.map((r) => `${r.method} ${r.path}`).sort()).toEqual(registered);
  });

  it('the snapshot sees a write (so the no-write check below can fail)', async () => {
    const before = snapshot();
    const r = await h.su.post(`/api/v1/orgs/${h.org}/groups`, { name: 'snapshot-probe' });
    expect(r.status, r.text).toBe(201);
    expect(snapshot()).not.toBe(before);
  });

  it('every route answers any request without a 5xx, errors in the documented shape, and a rejected request writes nothing', async () => {
    const seen = new Map<string, Set<number>>();
    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        await reseed();
        const before = snapshot();
        const versionsBefore = versions();
        const res = await send(r);
        const shown = `${describeRequest(r)}\n-> ${res.status} ${res.text.slice(0, 500)}`;
        const key = `${r.route.method} ${r.route.path}`;
        if (!seen.has(key)) seen.set(key, new Set());
        seen.get(key)!.add(res.status);

        expect(res.status, shown).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.contentType, shown).toMatch(/^application\/json/);
          const body = JSON.parse(res.text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
          expect(Object.keys(body), shown).toEqual(['error']);
          expect(typeof body.error!.code === 'string' && body.error!.code.length > 0, shown).toBe(true);
          expect(typeof body.error!.message === 'string' && body.error!.message.length > 0, shown).toBe(true);
          expect(body.error!.details !== null && typeof body.error!.details === 'object' && !Array.isArray(body.error!.details), shown).toBe(true);
          expect(snapshot(), `a rejected request changed the database: ${shown}`).toBe(before);
        }
        // A request about one organization (digit-only names included) changes no other organization.
        const orgIndex = r.route.path.split('/').indexOf(':org');
        if (orgIndex !== -1) {
          const named = safeDecode(r.params[[...r.route.path.matchAll(/:(\w+)/g)].findIndex((m) => m[1] === 'org')]!);
          const after = versions();
          for (const [name, version] of versionsBefore) {
            if (name !== named) expect(after.get(name), `${shown}\nchanged organization "${name}"`).toBe(version);
          }
        }
        // A cursor the list did not make is refused, never read as a page.
        const list = /^\/api\/v1\/orgs\/:org\/(members|invites|audit)$/.exec(r.route.path)?.[1];
        if (list && r.route.method === 'GET' && res.status === 200) {
          for (const cursor of new URLSearchParams(r.query ?? '').getAll('cursor')) {
            if (cursor !== '') expect(wellFormedCursor(list, cursor), `${shown}\nread a page at a forged cursor`).toBe(true);
          }
        }
        // A read-scoped token never writes: any write route it reaches answers 403 insufficient_scope.
        const readOnlyPost = r.route.path === '/api/v1/orgs/:org/integrations/:name/verify-credentials'; // writes nothing: open to it
        if (r.token === 'read' && r.route.method !== 'GET' && r.route.path !== '/api/v1/invites/accept' && !readOnlyPost && res.status !== 404 && res.status !== 400) {
          expect(res.status, shown).toBe(403);
          expect(res.text, shown).toContain('insufficient_scope');
        }
        // Whatever address got stored is allowed by the rule and in its normal form (NFC, lower case).
        expect(badStoredEmails(), shown).toEqual([]);
      }),
      { numRuns: 2000 },
    );
    // Every route was exercised, and most were also rejected at least once (the property is not vacuous).
    expect([...seen.keys()].sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    const rejected = [...seen.values()].filter((s) => [...s].some((c) => c >= 400)).length;
    expect(rejected).toBeGreaterThan(ROUTES.length - 2);
  }, 120_000);
});

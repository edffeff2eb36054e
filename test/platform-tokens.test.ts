/**
 * Issue 18, the platform's side: token scopes, expiry, listing and revocation, over HTTP against the real
 * server. A read-scoped token reads and never writes (checked on every write route of the route table);
 * an expired or revoked token is refused at once; lists never show a secret; who may revoke whose token.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, registeredRoutes, startPlatform, type Client, type Harness } from './helpers/platform.js';

const DAY = 86_400_000;
const enc = encodeURIComponent;

/** Every table's rows, hashed (the idempotency table included): equal snapshots mean nothing was written. */
function snapshot(h: Harness): string {
  const db = h.platform.ctx.db;
  const hash = createHash('sha256');
  for (const t of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]) {
    hash.update(`\u0000${t}\u0000`);
    for (const row of db.prepare(`SELECT * FROM "${t}"`).raw().all()) hash.update(JSON.stringify(row, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v)));
  }
  return hash.digest('hex');
}

describe('a read-scoped token reads everything its role allows and writes nothing', () => {
  let h: Harness;
  let readToken = '';
  let read: Client;
  beforeAll(async () => {
    h = await startPlatform();
    await addMember(h, 'member@acme.example', 'member');
    await h.su.post('/api/v1/orgs/acme/integrations', { name: 'store', type: 's3', options: { bucket: 'b' }, credentials: { key: 'k' } });
    await h.su.post('/api/v1/orgs/acme/groups', { name: 'team' });
    // The superuser's own read token: the role allows everything, so only the scope can refuse.
    readToken = h.platform.identity.createToken(h.superEmail, 'plan', { scope: 'read' }).token;
    read = h.as(readToken);
  });
  afterAll(() => h.close());

  it('reads what plan, diff and export read, and more', async () => {
    for (const path of ['/api/v1/me', '/api/v1/orgs', '/api/v1/orgs/acme', '/api/v1/orgs/acme/members', '/api/v1/orgs/acme/invites?status=open', '/api/v1/orgs/acme/integrations', '/api/v1/orgs/acme/audit', '/api/v1/tokens', '/api/v1/orgs/acme/groups']) {
      const r = await read.get(path);
      expect(r.status, `${path}: ${r.text}`).toBe(200);
    }
  });

  it('every write route of the route table refuses it: 403 insufficient_scope naming the scope, nothing written', async () => {
    const writes = registeredRoutes(h).filter((r) => !r.startsWith('GET '));
    expect(writes.length).toBeGreaterThan(25);
    // Accepting an invite by its link is the one write that takes no bearer token: the link is the credential.
    // Comparing credentials is a POST that writes nothing: a read-only token's plan needs it.
    const exempt = ['POST /api/v1/invites/accept', 'POST /api/v1/orgs/:org/integrations/:name/verify-credentials'];
    expect(writes).toEqual(expect.arrayContaining(exempt));
    await read.get('/api/v1/me'); // its last use is recorded now, so the requests below may write nothing at all
    const values: Record<string, string> = { org: 'acme', email: enc('member@acme.example'), name: 'store', id: '1', taskId: '1' };
    for (const route of writes.filter((r) => !exempt.includes(r))) {
      const [method, pattern] = route.split(' ') as [string, string];
      const path = pattern.replace(/:(\w+)/g, (_, p: string) => values[p] ?? 'x');
      const before = snapshot(h);
      const r = await read.request(method, path, { email: 'new@acme.example', role: 'member', name: 'n', displayName: 'd' }, { headers: { 'idempotency-key': `scope-${route}` } });
      expect(r.status, `${route}: ${r.text}`).toBe(403);
      expect(r.body.error, route).toMatchObject({ code: 'insufficient_scope', details: { scope: 'read', required: 'write' } });
      expect(r.body.error.message, route).toBe(`this token is read-only (scope "read"); ${method} ${pattern} needs a token with scope "write"`);
      expect(snapshot(h), `${route} wrote something`).toBe(before);
    }
    // Comparing credentials is open to it, and writes nothing, Idempotency-Key and all.
    const before = snapshot(h);
    const compared = await read.request('POST', '/api/v1/orgs/acme/integrations/none/verify-credentials', { credentials: { a: 'b' } }, { headers: { 'idempotency-key': 'verify-1' } });
    expect(compared.status, compared.text).toBe(404);
    expect(snapshot(h)).toBe(before);
    // The same user's write token does write: the refusal was the scope's.
    const write = await h.su.post('/api/v1/orgs/acme/invites', { email: 'new@acme.example', role: 'member' });
    expect(write.status, write.text).toBe(201);
  });

  it('an unknown route is still a 404 for it', async () => {
    const r = await read.post('/api/v1/nowhere', {});
    expect(r.status).toBe(404);
  });
});

describe('expiry and revocation take effect at once', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startPlatform();
  });
  afterAll(() => h.close());

  it('a token works until its expiry, then gets 401 saying it expired', async () => {
    const { token } = h.platform.identity.createToken('temp@acme.example', 'short', { expiresInMs: DAY });
    h.clock.advance(DAY - 1);
    expect((await h.as(token).get('/api/v1/me')).status).toBe(200);
    h.clock.advance(1);
    const r = await h.as(token).get('/api/v1/me');
    expect(r.status).toBe(401);
    expect(r.body.error).toMatchObject({ code: 'unauthorized', details: { reason: 'expired' } });
    expect(r.body.error.message).toContain('this token expired at');
  });

  it("the server's default expiry applies to tokens created without one; an explicit never overrides it", async () => {
    h.platform.tokens.setDefaultExpiry(2 * DAY, 'ops@platform.example');
    const defaulted = h.platform.identity.createToken('def@acme.example', 'ci');
    const forever = h.platform.identity.createToken('def@acme.example', 'forever', { expiresInMs: null });
    expect(defaulted.view.expiresAt).toBe(new Date(h.clock.now() + 2 * DAY).toISOString());
    expect(forever.view.expiresAt).toBeNull();
    h.clock.advance(2 * DAY);
    expect((await h.as(defaulted.token).get('/api/v1/me')).status).toBe(401);
    expect((await h.as(forever.token).get('/api/v1/me')).status).toBe(200);
    h.platform.tokens.setDefaultExpiry(null, 'ops@platform.example');
  });

  it('a token revoked over REST gets 401 on its very next request; revoking again changes nothing', async () => {
    const token = await addMember(h, 'rev@acme.example', 'member');
    const c = h.as(token);
    const mine = await c.get('/api/v1/tokens');
    expect(mine.status).toBe(200);
    const current = mine.body.items.find((t: { current: boolean }) => t.current);
    expect(current).toMatchObject({ user: 'rev@acme.example', scope: 'write', status: 'active' });
    const r = await c.delete(`/api/v1/tokens/${current.id}`);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ id: current.id, status: 'revoked' });
    const after = await c.get('/api/v1/me');
    expect(after.status).toBe(401);
    expect(after.body.error).toMatchObject({ details: { reason: 'revoked' } });
    const again = await h.su.delete(`/api/v1/tokens/${current.id}`);
    expect(again.status).toBe(200);
    expect(again.body.revokedAt).toBe(r.body.revokedAt);
  });

  it("a token's last use is written at most once a minute", async () => {
    const { token, view } = h.platform.identity.createToken('busy@acme.example', 'ci');
    const lastUsed = async () => (await h.su.get(`/api/v1/tokens?user=${enc('busy@acme.example')}`)).body.items.find((t: { id: number }) => t.id === view.id).lastUsedAt;
    expect(await lastUsed()).toBeNull();
    const t0 = h.clock.now();
    await h.as(token).get('/api/v1/me');
    expect(await lastUsed()).toBe(new Date(t0).toISOString());
    h.clock.advance(59_999);
    await h.as(token).get('/api/v1/me');
    expect(await lastUsed()).toBe(new Date(t0).toISOString());
    h.clock.advance(1);
    await h.as(token).get('/api/v1/me');
    expect(await lastUsed()).toBe(new Date(t0 + 60_000).toISOString());
  });
});

describe('who may list and revoke whose tokens', () => {
  let h: Harness;
  const t: Record<string, string> = {};
  const idOf = async (email: string) => (await h.su.get(`/api/v1/tokens?user=${enc(email)}`)).body.items[0].id as number;
  beforeAll(async () => {
    h = await startPlatform();
    t.owner = await addMember(h, 'owner@acme.example', 'owner');
    t.admin = await addMember(h, 'admin@acme.example', 'admin');
    t.member = await addMember(h, 'member@acme.example', 'member');
    t.member2 = await addMember(h, 'member2@acme.example', 'member');
    t.outsider = h.platform.identity.createToken('out@elsewhere.example', 'test').token;
  });
  afterAll(() => h.close());

  it('a list never shows a secret, nor its hash', async () => {
    for (const [who, token] of Object.entries(t)) {
      const r = await h.as(token).get('/api/v1/tokens');
      expect(r.status, who).toBe(200);
      expect(r.body.items.length, who).toBeGreaterThan(0);
      for (const secret of Object.values(t)) {
        expect(r.text).not.toContain(secret);
        expect(r.text).not.toContain(createHash('sha256').update(secret).digest('hex'));
      }
      for (const item of r.body.items) expect(Object.keys(item).sort()).toEqual(['createdAt', 'current', 'expiresAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'scope', 'status', 'user']);
    }
  });

  it('an admin cannot revoke (or list) an owner\'s token: 403, and the token still works', async () => {
    const ownerTokenId = await idOf('owner@acme.example');
    const r = await h.as(t.admin!).delete(`/api/v1/tokens/${ownerTokenId}`);
    expect(r.status, r.text).toBe(403);
    expect(r.body.error.message).toContain('an admin may not manage the tokens of an owner');
    expect((await h.as(t.admin!).get(`/api/v1/tokens?user=${enc('owner@acme.example')}`)).status).toBe(403);
    expect((await h.as(t.owner!).get('/api/v1/me')).status).toBe(200);
    // Nor a superuser's (the platform's operator), even as an owner.
    const suId = (await h.su.get('/api/v1/tokens')).body.items[0].id;
    expect((await h.as(t.owner!).delete(`/api/v1/tokens/${suId}`)).status).toBe(403);
  });

  it('someone with no say gets 404, the same as for a token that does not exist', async () => {
    const memberTokenId = await idOf('member2@acme.example');
    for (const who of ['outsider', 'member'] as const) {
      const r = await h.as(t[who]).delete(`/api/v1/tokens/${memberTokenId}`);
      expect(r.status, who).toBe(404);
      expect(r.body.error.message).toBe(`token ${memberTokenId} not found`);
      expect((await h.as(t[who]).get(`/api/v1/tokens?user=${enc('member2@acme.example')}`)).status, who).toBe(404);
    }
    expect((await h.as(t.outsider!).delete('/api/v1/tokens/99999')).body.error.message).toBe('token 99999 not found');
    expect((await h.as(t.member2!).get('/api/v1/me')).status).toBe(200);
  });

  it("an admin revokes a member's token: audited in the platform's log and acme's, without moving acme's state version", async () => {
    const before = await h.su.get('/api/v1/orgs/acme');
    const id = await idOf('member2@acme.example');
    expect((await h.as(t.admin!).get(`/api/v1/tokens?user=${enc('member2@acme.example')}`)).status).toBe(200);
    const r = await h.as(t.admin!).delete(`/api/v1/tokens/${id}`);
    expect(r.status, r.text).toBe(200);
    expect((await h.as(t.member2!).get('/api/v1/me')).status).toBe(401);
    const platformLog = await h.su.get('/api/v1/audit?action=token.revoke');
    expect(platformLog.body.items.at(-1)).toMatchObject({ actor: 'admin@acme.example', target: 'member2@acme.example', details: { tokenId: id, via: 'admin of acme' } });
    const acmeLog = await h.su.get('/api/v1/orgs/acme/audit?action=token.revoke');
    expect(acmeLog.body.items.at(-1)).toMatchObject({ actor: 'admin@acme.example', target: 'member2@acme.example' });
    expect((await h.su.get('/api/v1/orgs/acme')).body.stateVersion).toBe(before.body.stateVersion);
    // Creation is audited too (the platform's log: tokens belong to no organization).
    const created = await h.su.get('/api/v1/audit?action=token.create');
    expect(created.body.items.map((e: { target: string }) => e.target)).toEqual(expect.arrayContaining(['member2@acme.example', 'out@elsewhere.example']));
    expect(JSON.stringify(created.body)).not.toMatch(/orgctl_[A-Za-z0-9_-]{20}/);
    // The platform's log is the superusers'.
    expect((await h.as(t.owner!).get('/api/v1/audit')).status).toBe(403);
  });

  it("an owner revokes an admin's token; anyone revokes their own", async () => {
    const adminId = await idOf('admin@acme.example');
    expect((await h.as(t.owner!).delete(`/api/v1/tokens/${adminId}`)).status).toBe(200);
    expect((await h.as(t.admin!).get('/api/v1/me')).status).toBe(401);
    const own = (await h.as(t.member!).get('/api/v1/tokens')).body.items[0].id;
    expect((await h.as(t.member!).delete(`/api/v1/tokens/${own}`)).status).toBe(200);
    expect((await h.as(t.member!).get('/api/v1/me')).status).toBe(401);
  });
});

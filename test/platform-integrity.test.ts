/**
 * Issue 21, the platform's side: names are never ids, one organization never writes another, nothing an
 * outsider sends tells them which organizations exist, and hostile input (deep JSON, forged cursors, look-alike
 * addresses, a locked, read-only or full database) gets a 4xx or a 503/507 saying why, never a 500. Every test
 * runs against the real server over HTTP on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../src/server/sqlite.js';
import { orgctl, tempDir as e2eTempDir } from './e2e/cli.js';
import { startOrgctl, until } from './e2e/proc.js';
import { serve, type Served } from './e2e/server.js';
import { addMember, seedMembers, startPlatform, tempDir, type Harness } from './helpers/platform.js';

const enc = encodeURIComponent;

describe('item 1: organizations are looked up by name only', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startPlatform(); // "acme" is the organization with id 1
  });
  afterAll(() => h.close());

  it('an organization named "1" is that organization, never the one with id 1', async () => {
    const acme = await h.su.get('/api/v1/orgs/acme');
    expect(acme.body.id).toBe(1);
    const digits = h.as(h.platform.identity.createToken('digits@one.example', 'test').token);
    const created = await digits.post('/api/v1/orgs', { name: '1', displayName: 'One' });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ name: '1', displayName: 'One' });

    const got = await digits.get('/api/v1/orgs/1');
    expect(got.status, got.text).toBe(200);
    expect(got.body).toMatchObject({ name: '1', displayName: 'One' });
    // Its writes land in it: the rename and the invite the issue saw go to acme.
    expect((await digits.patch('/api/v1/orgs/1', { displayName: 'Uno' })).status).toBe(200);
    const invite = await digits.post('/api/v1/orgs/1/invites', { email: 'new@one.example', role: 'member' });
    expect(invite.status, invite.text).toBe(201);
    const lease = await digits.post('/api/v1/orgs/1/lease', { id: 'run-1', holder: 'digits', ttlSeconds: 60 });
    expect(lease.status, lease.text).toBe(200);

    const after = await h.su.get('/api/v1/orgs/acme');
    expect(after.body).toMatchObject({ name: 'acme', displayName: 'acme', stateVersion: acme.body.stateVersion });
    const acmeInvites = await h.su.get('/api/v1/orgs/acme/invites');
    expect(acmeInvites.body.items).toEqual([]);
    expect((await h.su.get('/api/v1/orgs/acme/lease')).status).toBe(404);
    // The superuser sees both, each under its own name.
    expect((await h.su.get('/api/v1/orgs/1')).body.displayName).toBe('Uno');
  });

  it('a number that is no organization\'s name is not found, and the answer names no other organization', async () => {
    await h.su.post('/api/v1/orgs', { name: 'beta' });
    const beta = await h.su.get('/api/v1/orgs/beta');
    const outsider = h.as(h.platform.identity.createToken('outsider@else.example', 'test').token);
    for (const path of [`/api/v1/orgs/${beta.body.id}`, `/api/v1/orgs/${beta.body.id}/members`, `/api/v1/orgs/${beta.body.id}/audit`]) {
      const r = await outsider.get(path);
      expect(r.status, r.text).toBe(404);
      expect(r.text).not.toContain('beta');
      expect(r.body.error.message).toBe(`organization "${beta.body.id}" not found`);
    }
    // The superuser (who sees every organization) gets 404 for an id as well.
    expect((await h.su.get(`/api/v1/orgs/${beta.body.id}`)).status).toBe(404);
    const me = await h.su.put('/api/v1/me', { activeOrganization: String(beta.body.id) });
    expect(me.status).toBe(404);
  });
});

describe('item 2: a profile belongs to its person; an organization sets only its own copy', () => {
  let h: Harness;
  let mayaToken = '';
  let betaOwner: ReturnType<Harness['as']>;
  const maya = 'maya@people.example';
  const shown = async (org: string) => {
    const r = await h.su.get(`/api/v1/orgs/${org}/members`);
    return r.body.items.find((m: { email: string }) => m.email === maya) as { firstName: string; lastName: string; description: string };
  };
  const audit = async (org: string) => (await h.su.get(`/api/v1/orgs/${org}/audit?action=member.profile`)).body.items as { actor: string; target: string; details: Record<string, unknown> }[];
  beforeAll(async () => {
    h = await startPlatform();
    const ownerToken = h.platform.identity.createToken('owner@beta.example', 'test').token;
    betaOwner = h.as(ownerToken);
    expect((await betaOwner.post('/api/v1/orgs', { name: 'beta' })).status).toBe(201);
    mayaToken = await addMember(h, maya, 'member');
    await addMember(h, maya, 'member', { org: 'beta', inviter: betaOwner });
    expect((await h.su.patch(`/api/v1/orgs/acme/members/${enc(maya)}`, { firstName: 'Maya', lastName: 'Moreau' })).status).toBe(200);
  });
  afterAll(() => h.close());

  it("beta's owner changes what beta shows; acme's view, acme's log and acme's state version do not move", async () => {
    const acmeBefore = await h.su.get('/api/v1/orgs/acme');
    const acmeAudit = await audit('acme');
    const r = await betaOwner.patch(`/api/v1/orgs/beta/members/${enc(maya)}`, { firstName: 'Mallory', description: 'renamed by beta' });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ firstName: 'Mallory', lastName: '', description: 'renamed by beta' });
    expect(await shown('acme')).toMatchObject({ firstName: 'Maya', lastName: 'Moreau', description: '' });
    expect((await h.su.get('/api/v1/orgs/acme')).body.stateVersion).toBe(acmeBefore.body.stateVersion);
    expect(await audit('acme')).toEqual(acmeAudit);
    expect((await audit('beta')).at(-1)).toMatchObject({ actor: 'owner@beta.example', target: maya, details: { fields: ['first_name', 'description'] } });
    // Her own profile is hers: neither organization changed it.
    expect((await h.as(mayaToken).get('/api/v1/me')).body).toMatchObject({ firstName: '', lastName: '', description: '' });
  });

  it('the person changes their own profile: it shows wherever no organization set that field, and is logged there only', async () => {
    const acmeAudit = await audit('acme');
    const betaAudit = (await audit('beta')).length;
    const r = await h.as(mayaToken).put('/api/v1/me', { firstName: 'Maïa', lastName: 'Li' });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ firstName: 'Maïa', lastName: 'Li' });
    expect(await shown('acme')).toMatchObject({ firstName: 'Maya', lastName: 'Moreau' }); // acme set both
    expect(await audit('acme')).toEqual(acmeAudit);
    expect(await shown('beta')).toMatchObject({ firstName: 'Mallory', lastName: 'Li' }); // beta set the first name only
    const betaEntries = await audit('beta');
    expect(betaEntries).toHaveLength(betaAudit + 1);
    expect(betaEntries.at(-1)).toMatchObject({ actor: maya, target: maya, details: { fields: ['last_name'], by: 'self' } });
    // Another organization cannot change it: PUT /me is the caller's own.
    expect((await betaOwner.get('/api/v1/me')).body.email).toBe('owner@beta.example');
  });

  it("an invite's names are the inviting organization's copy, not the person's profile", async () => {
    const gammaOwner = h.as(h.platform.identity.createToken('owner@gamma.example', 'test').token);
    expect((await gammaOwner.post('/api/v1/orgs', { name: 'gamma' })).status).toBe(201);
    expect((await gammaOwner.post('/api/v1/orgs/gamma/invites', { email: maya, role: 'worker', firstName: 'Gamma' })).status).toBe(201);
    expect((await h.as(mayaToken).post(`/api/v1/orgs/gamma/invites/${enc(maya)}/accept`)).status).toBe(200);
    expect(await shown('gamma')).toMatchObject({ firstName: 'Gamma', lastName: 'Li' });
    expect(await shown('acme')).toMatchObject({ firstName: 'Maya' });
    expect((await h.as(mayaToken).get('/api/v1/me')).body.firstName).toBe('Maïa');
  });
});

describe('item 3: accepting an invite tells an outsider nothing about which organizations exist', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startPlatform();
    await h.su.post('/api/v1/orgs/acme/invites', { email: 'invited@acme.example', role: 'member' });
  });
  afterAll(() => h.close());

  it('an outsider gets the same answer for an existing and a missing organization', async () => {
    const outsider = h.as(h.platform.identity.createToken('nosy@else.example', 'test').token);
    const existing = await outsider.post(`/api/v1/orgs/acme/invites/${enc('invited@acme.example')}/accept`);
    const missing = await outsider.post(`/api/v1/orgs/no-such-org/invites/${enc('invited@acme.example')}/accept`);
    expect(existing.status).toBe(404);
    expect(missing.status).toBe(404);
    const shape = (r: typeof existing) => JSON.stringify(r.body).replace(/acme|no-such-org/g, 'ORG');
    expect(shape(existing)).toBe(shape(missing));
    // Accepting for oneself where there is no invite: the same answer again.
    const self = await outsider.post(`/api/v1/orgs/acme/invites/${enc('nosy@else.example')}/accept`);
    const selfMissing = await outsider.post(`/api/v1/orgs/no-such-org/invites/${enc('nosy@else.example')}/accept`);
    expect([self.status, selfMissing.status]).toEqual([404, 404]);
    expect(shape(self)).toBe(shape(selfMissing));
    // Nothing was accepted.
    const invites = await h.su.get('/api/v1/orgs/acme/invites?status=pending');
    expect(invites.body.items.map((i: { email: string }) => i.email)).toEqual(['invited@acme.example']);
  });

  it('a member of the organization is told why (403), and the invitee still accepts', async () => {
    const member = await addMember(h, 'member@acme.example', 'member');
    const r = await h.as(member).post(`/api/v1/orgs/acme/invites/${enc('invited@acme.example')}/accept`);
    expect(r.status, r.text).toBe(403);
    const invitee = h.platform.identity.createToken('invited@acme.example', 'test').token;
    const ok = await h.as(invitee).post(`/api/v1/orgs/acme/invites/${enc('invited@acme.example')}/accept`);
    expect(ok.status, ok.text).toBe(200);
  });
});

describe('item 4: deep JSON is refused before anything recursive runs on it', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startPlatform();
    await addMember(h, 'deep@acme.example', 'member');
  });
  afterAll(() => h.close());

  it('20,000 levels with an Idempotency-Key: 400 naming the limit, nothing written', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const before = await h.su.get('/api/v1/orgs/acme');
    for (const [method, path] of [
      ['DELETE', `/api/v1/orgs/acme/members/${enc('deep@acme.example')}`],
      ['POST', `/api/v1/orgs/acme/invites/${enc('deep@acme.example')}/accept`],
      ['POST', '/api/v1/orgs/acme/invites'],
    ] as const) {
      const r = await h.su.request(method, path, undefined, { rawBody: deep, headers: { 'idempotency-key': `deep-${method}-${path}` } });
      expect(r.status, `${method} ${path}: ${r.text}`).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'invalid_request', details: { field: 'body', limit: 64 } });
      expect(r.body.error.message).toContain('nested deeper than 64 levels');
    }
    // Objects count as much as arrays; brackets inside strings do not.
    const objects = `${'{"a":'.repeat(65)}1${'}'.repeat(65)}`;
    expect((await h.su.request('DELETE', `/api/v1/orgs/acme/members/${enc('deep@acme.example')}`, undefined, { rawBody: objects })).status).toBe(400);
    const inString = JSON.stringify({ email: `${'['.repeat(100)}@acme.example`, role: 'not-a-role' });
    const r = await h.su.request('POST', '/api/v1/orgs/acme/invites', undefined, { rawBody: inString });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('body.role');
    expect((await h.su.get('/api/v1/orgs/acme')).body.stateVersion).toBe(before.body.stateVersion);
    const members = await h.su.get('/api/v1/orgs/acme/members');
    expect(members.body.items.map((m: { email: string }) => m.email)).toContain('deep@acme.example');
  });
});

/** Makes `file` unwritable for this process (root ignores modes: it gets the immutable attribute); returns the undo. */
function makeReadOnly(file: string): () => void {
  let undo: () => void;
  if (process.getuid?.() === 0) {
    execFileSync('chattr', ['+i', file]);
    undo = () => execFileSync('chattr', ['-i', file]);
  } else {
    chmodSync(file, 0o444);
    undo = () => chmodSync(file, 0o600);
  }
  try {
    closeSync(openSync(file, 'r+'));
  } catch {
    return undo; // as wanted: it cannot be opened for writing
  }
  undo();
  throw new Error(`could not make ${file} read-only on this machine`);
}

describe('item 5: a read-only database is refused at start, and a database that turns read-only answers 503 on writes', () => {
  it('orgctl platform serve refuses a database it cannot write, saying why', async () => {
    const dir = e2eTempDir('orgctl-readonly-');
    const db = join(dir, 'ro.db');
    const init = await orgctl(['platform', 'init', '--db', db, '--org', 'acme', '--owner', 'ops@platform.example'], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
    const undo = makeReadOnly(db);
    try {
      const serve = startOrgctl(['platform', 'serve', '--db', db, '--port', '0'], { cwd: dir });
      let exited = false;
      void serve.done.then(() => (exited = true));
      await until(() => exited || serve.stdout().includes('listening'), 'serve to exit or listen');
      if (!exited) serve.child.kill('SIGTERM');
      const r = await serve.done;
      expect(serve.stdout()).not.toContain('listening');
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`cannot serve ${db}: the database cannot be written`);
    } finally {
      undo();
    }
  });

  it('while serving: reads keep working, writes are 503 database_read_only, nothing is written', async () => {
    const h = await startPlatform();
    try {
      const reader = h.platform.identity.createToken('reader@acme.example', 'test').token;
      await addMember(h, 'reader@acme.example', 'admin');
      h.clock.advance(120_000); // the next request records a connection: a write, which must not fail the read
      h.platform.db.pragma('query_only = 1'); // what a file system remounted read-only does to SQLite
      const members = await h.as(reader).get('/api/v1/orgs/acme/members');
      expect(members.status, members.text).toBe(200);
      const invite = await h.as(reader).post('/api/v1/orgs/acme/invites', { email: 'new@acme.example', role: 'member' }, { headers: { 'idempotency-key': 'ro-1' } });
      expect(invite.status, invite.text).toBe(503);
      expect(invite.body.error.code).toBe('database_read_only');
      expect(invite.body.error.message).toContain('cannot be written');
      h.platform.db.pragma('query_only = 0');
      // Nothing was written (the retry with the same key is done for real now).
      const retry = await h.as(reader).post('/api/v1/orgs/acme/invites', { email: 'new@acme.example', role: 'member' }, { headers: { 'idempotency-key': 'ro-1' } });
      expect(retry.status, retry.text).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBeNull();
    } finally {
      await h.close();
    }
  });
});

describe('item 6: another process holding the write lock gets 503 with Retry-After, and the server keeps answering', () => {
  it('a write waits briefly, then 503 database_busy; reads and /healthz answer meanwhile; after the lock, the retry works', async () => {
    const tmp = tempDir();
    const h = await startPlatform({ dbFile: join(tmp.dir, 'busy.db') });
    const other = new Database(h.dbFile);
    try {
      other.exec('BEGIN IMMEDIATE'); // another process (a CLI beside the server) writing
      const write = h.su.post('/api/v1/orgs/acme/invites', { email: 'locked@acme.example', role: 'member' });
      const [health, read] = await Promise.all([h.as().get('/healthz'), h.su.get('/api/v1/orgs/acme/members')]);
      expect(health.status).toBe(200);
      expect(read.status, read.text).toBe(200);
      const r = await write;
      expect(r.status, r.text).toBe(503);
      expect(r.body.error.code).toBe('database_busy');
      expect(r.headers.get('retry-after')).toBe('1');
      other.exec('ROLLBACK');
      const again = await h.su.post('/api/v1/orgs/acme/invites', { email: 'locked@acme.example', role: 'member' });
      expect(again.status, again.text).toBe(201);
    } finally {
      other.close();
      await h.close();
      tmp.remove();
    }
  });
});

describe('item 7: a full disk is a 507 saying so', () => {
  it('a write that needs space the database cannot get: 507 disk_full, nothing written; with space again it works', async () => {
    const tmp = tempDir();
    const h = await startPlatform({ dbFile: join(tmp.dir, 'full.db') });
    try {
      const before = await h.su.get('/api/v1/orgs/acme');
      // SQLite answers a database at its page limit exactly as it answers a full disk (SQLITE_FULL).
      h.platform.db.pragma(`max_page_count = ${h.platform.db.pragma('page_count', { simple: true }) as number}`);
      const invites = Array.from({ length: 200 }, (_, i) => ({ email: `full-${i}@acme.example`, role: 'member', description: 'x'.repeat(900) }));
      const r = await h.su.post('/api/v1/orgs/acme/invites/batch', { invites });
      expect(r.status, r.text).toBe(507);
      expect(r.body.error).toMatchObject({ code: 'disk_full' });
      expect(r.body.error.message).toContain('disk full');
      expect((await h.su.get('/api/v1/orgs/acme')).body.stateVersion).toBe(before.body.stateVersion);
      h.platform.db.pragma('max_page_count = 1073741823');
      const ok = await h.su.post('/api/v1/orgs/acme/invites/batch', { invites });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body.results.every((x: { ok: boolean }) => x.ok)).toBe(true);
    } finally {
      await h.close();
      tmp.remove();
    }
  });
});

describe('item 8: invalid cursors are refused, not read as the first or the last page', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startPlatform();
    for (let i = 0; i < 5; i++) await h.su.post('/api/v1/orgs/acme/invites', { email: `p${i}@acme.example`, role: 'worker' });
    seedMembers(h, ['m1@acme.example', 'm2@acme.example', 'm3@acme.example']);
  });
  afterAll(() => h.close());

  const lists = ['/api/v1/orgs/acme/members', '/api/v1/orgs/acme/invites', '/api/v1/orgs/acme/audit'];

  it('garbage, another list\'s cursor and a forged key are 400 naming the cursor', async () => {
    const invitesCursor = (await h.su.get('/api/v1/orgs/acme/invites?limit=1')).body.nextCursor as string;
    const forged = [
      '!!!notbase64',
      'AAAA',
      Buffer.from('abc').toString('base64url'),
      Buffer.from('audit:0').toString('base64url'),
      Buffer.from('audit:-5').toString('base64url'),
      Buffer.from('members:').toString('base64url'),
      `${Buffer.from('audit:1').toString('base64url')}=`,
      Buffer.from([0x61, 0x75, 0xff, 0xfe]).toString('base64url'),
    ];
    for (const list of lists) {
      for (const cursor of [...forged, ...(list.endsWith('/invites') ? [] : [invitesCursor])]) {
        const r = await h.su.get(`${list}?cursor=${enc(cursor)}`);
        expect(r.status, `${list} cursor=${cursor}: ${r.text}`).toBe(400);
        expect(r.body.error).toMatchObject({ code: 'invalid_request', details: { field: 'cursor' } });
      }
    }
  });

  it('real cursors still page through every list to its end', async () => {
    for (const list of lists) {
      const seen: unknown[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r = await h.su.get(`${list}?limit=2${cursor ? `&cursor=${enc(cursor)}` : ''}`);
        expect(r.status, r.text).toBe(200);
        seen.push(...r.body.items);
        cursor = r.body.nextCursor;
        pages++;
      } while (cursor);
      const all = await h.su.get(`${list}?limit=1000`);
      expect(seen).toEqual(all.body.items);
      expect(pages).toBeGreaterThan(1);
    }
  });
});

describe('item 9: addresses are compared in NFC; invisible characters and mixed scripts are refused', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startPlatform();
  });
  afterAll(() => h.close());

  it('the NFC and NFD forms of one address are one invite', async () => {
    const nfc = 'jos\u00e9@acme.example';
    const nfd = 'jose\u0301@acme.example';
    expect(nfc).not.toBe(nfd);
    const first = await h.su.post('/api/v1/orgs/acme/invites', { email: nfd, role: 'member' });
    expect(first.status, first.text).toBe(201);
    expect(first.body.email).toBe(nfc);
    const second = await h.su.post('/api/v1/orgs/acme/invites', { email: nfc, role: 'member' });
    expect(second.status, second.text).toBe(409);
    expect(second.body.error.code).toBe('invite_exists');
    // Lookups normalise too: cancelling by the other form finds it.
    const cancel = await h.su.delete(`/api/v1/orgs/acme/invites/${enc(nfd.toUpperCase())}`);
    expect(cancel.status, cancel.text).toBe(200);
  });

  it('control, invisible and replacement characters and mixed scripts are a 400 saying which and where', async () => {
    const cases: [string, RegExp][] = [
      ['ada\u200b@acme.example', /invisible character U\+200B at character 4/],
      ['ada\u0000@acme.example', /control character U\+0000 at character 4/],
      ['\u202eada@acme.example', /invisible character U\+202E at character 1/],
      ['ada@acme\u00ad.example', /invisible character U\+00AD/],
      ['p\u0430ul@acme.example', /mixes scripts before "@": U\+0430 at character 2 is Cyrillic, after Latin letters/],
      ['paul@\u0430cme.example', /mixes scripts in the domain label/],
      ['ada\ufffd@acme.example', /U\+FFFD at character 4/],
    ];
    const before = await h.su.get('/api/v1/orgs/acme');
    for (const [email, message] of cases) {
      const r = await h.su.post('/api/v1/orgs/acme/invites', { email, role: 'member' });
      expect(r.status, `${JSON.stringify(email)}: ${r.text}`).toBe(400);
      expect(r.body.error.details.field).toBe('email');
      expect(r.body.error.message).toMatch(message);
      // The message shows the character escaped, not invisibly.
      expect(r.body.error.message).not.toMatch(/[\u200b\u202e\u00ad\u0000]/);
    }
    // In a batch, each bad address fails alone.
    const batch = await h.su.post('/api/v1/orgs/acme/invites/batch', {
      invites: [{ email: 'ok-one@acme.example', role: 'member' }, { email: 'zw\u200bj@acme.example', role: 'member' }],
    });
    expect(batch.status).toBe(200);
    expect(batch.body.results.map((r: { ok: boolean }) => r.ok)).toEqual([true, false]);
    expect(batch.body.results[1].error.status).toBe(400);
    // Users are made by the same rule (an organization created on behalf of someone).
    const onBehalf = await h.su.post('/api/v1/orgs', { name: 'nul-org', creator: 'x\u0000y@acme.example' });
    expect(onBehalf.status).toBe(400);
    expect((await h.su.get('/api/v1/orgs/nul-org')).status).toBe(404);
    expect((await h.su.get('/api/v1/orgs/acme')).body.stateVersion).toBe(before.body.stateVersion + 1);
  });

  it('bytes that are not UTF-8 in the body are refused, not stored as U+FFFD', async () => {
    const body = Buffer.concat([Buffer.from('{"email":"ada'), Buffer.from([0xff, 0xfe]), Buffer.from('@acme.example","role":"member"}')]);
    const res = await fetch(`${h.url}/api/v1/orgs/acme/invites`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.superToken}`, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('not valid UTF-8');
  });

  it('addresses in one script, or in scripts that are written together, are fine', async () => {
    for (const email of ['\u0438\u0432\u0430\u043d@acme.example', '\u5c71\u7530\u305f\u308d\u3046@acme.example', 'm\u00fcller@acme.example', 'o\u2019brien@acme.example'.replace('\u2019', "'")]) {
      const r = await h.su.post('/api/v1/orgs/acme/invites', { email, role: 'worker' });
      expect(r.status, `${email}: ${r.text}`).toBe(201);
    }
  });
});

describe('item 13: database files are private, and invite links are kept nowhere', () => {
  it('platform init and serve create the database, its -wal and -shm 0600, like the key file', async () => {
    const dir = e2eTempDir('orgctl-modes-');
    // What the files would get without care: a usual umask (0644), inherited by the CLI processes.
    const umask = process.umask(0o022);
    let server: Served | undefined;
    try {
      server = await serve(dir, { db: 'modes.db' });
      const r = await fetch(`${server.url}/api/v1/orgs/bootstrap/invites`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'x@modes.example', role: 'member' }),
      });
      expect(r.status).toBe(201);
      const db = join(dir, 'modes.db');
      // While the server runs, the -wal and -shm files exist.
      for (const file of [db, `${db}-wal`, `${db}-shm`, `${db}.key`]) {
        expect((statSync(file).mode & 0o777).toString(8), file).toBe('600');
      }
    } finally {
      process.umask(umask);
      await server?.stop();
    }
  });

  it('serve warns about a database others can read (one made before), naming the fix', async () => {
    const dir = e2eTempDir('orgctl-modes-old-');
    const db = join(dir, 'old.db');
    expect((await orgctl(['platform', 'init', '--db', db, '--org', 'acme', '--owner', 'ops@platform.example'], { cwd: dir })).code).toBe(0);
    chmodSync(db, 0o644);
    const server = await serve(dir, { db: 'old.db', init: false });
    let stderr = '';
    server.child.stderr!.on('data', (d) => (stderr += d));
    await server.stop();
    expect(stderr).toMatch(new RegExp(`warning: ${db}(, ${db}-(wal|shm))* can be read by other users; run: chmod 600 ${db}( ${db}-(wal|shm))*\\n`));
  });

  it('the outbox records that an invite was sent, never its link; the link still works', async () => {
    const tmp = tempDir();
    const h = await startPlatform({ dbFile: join(tmp.dir, 'outbox.db') });
    try {
      expect((await h.su.post('/api/v1/orgs/acme/invites', { email: 'linked@acme.example', role: 'member' })).status).toBe(201);
      expect((await h.su.post(`/api/v1/orgs/acme/invites/${enc('linked@acme.example')}/resend`)).status).toBe(200);
      const links = h.mailbox.filter((m) => m.to === 'linked@acme.example').map((m) => m.token);
      expect(links).toHaveLength(2);
      const outbox = await h.su.get(`/api/v1/outbox?email=${enc('linked@acme.example')}`);
      expect(outbox.body.items).toHaveLength(2);
      // No row of any table holds a link, and neither do the files (the -wal included).
      const db = h.platform.db;
      for (const table of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]) {
        const rows = JSON.stringify(db.prepare(`SELECT * FROM "${table}"`).raw().all(), (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v));
        for (const link of links) expect(rows, table).not.toContain(link);
      }
      for (const file of [h.dbFile, `${h.dbFile}-wal`]) {
        const bytes = readFileSync(file);
        for (const link of links) expect(bytes.includes(Buffer.from(link)), file).toBe(false);
      }
      const accept = await h.as().post('/api/v1/invites/accept', { token: links[1] });
      expect(accept.status, accept.text).toBe(200);
    } finally {
      await h.close();
      tmp.remove();
    }
  });
});

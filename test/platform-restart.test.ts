/**
 * Durability of the organization platform: a file-backed SQLite database (WAL) in a temporary directory,
 * served over HTTP, closed and reopened on a new ephemeral port. A restart loses nothing; a process that
 * dies without closing loses nothing committed; a different credentials key still starts (see below).
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/server/clock.js';
import { SecretBox } from '../src/server/crypto.js';
import { openPlatform } from '../src/server/platform.js';
import type { InviteMail } from '../src/server/service/members.js';
import { addMember, DAY_MS, latestInviteToken, startPlatform, tempDir, type Harness } from './helpers/platform.js';

const CANARY = 'CANARY-restart-4e2f9d';
const enc = encodeURIComponent;

/** Everything the API shows about the organization, as the superuser sees it. */
async function snapshot(h: Harness) {
  const o = `/api/v1/orgs/acme`;
  const get = async (path: string) => {
    const r = await h.su.get(path);
    expect(r.status, `${path}: ${r.text}`).toBe(200);
    return r.body;
  };
  return {
    org: await get(o),
    members: await get(`${o}/members?limit=1000`),
    invites: await get(`${o}/invites?limit=1000`),
    integrations: await get(`${o}/integrations`),
    audit: await get(`${o}/audit?limit=1000`),
    beta: await get('/api/v1/orgs/beta'),
    betaMembers: await get('/api/v1/orgs/beta/members'),
    orgs: await get('/api/v1/orgs'),
  };
}

function sealedCredentials(dbFile: string, name: string): Buffer {
  const p = openPlatform({ db: dbFile, key: randomBytes(32), env: {} });
  try {
    const row = p.db.prepare('SELECT credentials FROM integrations WHERE name = ?').get(name) as { credentials: Buffer };
    return Buffer.from(row.credentials);
  } finally {
    p.close();
  }
}

describe('restart: a file-backed platform reopened from the same file', () => {
  const tmp = tempDir();
  const dbFile = join(tmp.dir, 'platform.db');
  const keyFile = `${dbFile}.key`;
  const clock = new ManualClock();
  // Mail sent before the restart stays in the recipients' mailbox.
  const mailbox: InviteMail[] = [];
  const creds = { accessKeyId: 'AKIARESTART', secretAccessKey: CANARY };
  let superToken = '';
  const tokens: Record<string, string> = {};
  let before: Awaited<ReturnType<typeof snapshot>>;
  let firstUrl = '';
  let fingerprint = '';

  beforeAll(async () => {
    const h = await startPlatform({ dbFile, clock, mailbox });
    firstUrl = h.url;
    superToken = h.superToken;
    const o = '/api/v1/orgs/acme';
    tokens.owner = await addMember(h, 'owner2@acme.example', 'owner');
    tokens.admin = await addMember(h, 'admin@acme.example', 'admin');
    tokens.worker = await addMember(h, 'worker@acme.example', 'worker', { acceptAs: 'superuser' });
    const owner = h.as(tokens.owner);
    expect((await owner.post(`${o}/invites`, { email: 'pending@acme.example', role: 'member', expiresInDays: 3 })).status).toBe(201);
    expect((await owner.post(`${o}/invites`, { email: 'later@acme.example', role: 'admin' })).status).toBe(201);
    expect((await owner.post(`${o}/invites`, { email: 'gone@acme.example', role: 'worker' })).status).toBe(201);
    expect((await owner.delete(`${o}/invites/${enc('gone@acme.example')}`)).status).toBe(200);
    expect((await owner.patch(o, { displayName: 'Acme Corporation', plan: 'premium', cache: { enabled: true, podType: 'medium' } })).status).toBe(200);
    expect((await owner.patch(`${o}/members/${enc('worker@acme.example')}`, { role: 'member', firstName: 'Wanda' })).status).toBe(200);
    const integ = await owner.post(`${o}/integrations`, { name: 'raw', type: 's3', options: { bucket: 'raw' }, credentials: creds });
    expect(integ.status, integ.text).toBe(201);
    fingerprint = integ.body.credentialsFingerprint;
    const bea = h.platform.identity.createToken('bea@beta.example', 'test').token;
    tokens.bea = bea;
    expect((await h.as(bea).post('/api/v1/orgs', { name: 'beta', displayName: 'Beta' })).status).toBe(201);
    expect((await h.as(tokens.admin).put('/api/v1/me', { activeOrganization: 'acme' })).status).toBe(200);
    clock.advance(DAY_MS);
    before = await snapshot(h);
    await h.close();
  });
  afterAll(() => tmp.remove());

  it('keeps the database in WAL mode and the credentials key in <db>.key (mode 0600)', () => {
    expect(existsSync(keyFile)).toBe(true);
    expect(Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64')).toHaveLength(32);
    if (process.platform !== 'win32') expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const p = openPlatform({ db: dbFile, env: {} });
    try {
      expect(p.db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      p.close();
    }
  });

  it('reopened on a new port: everything is there, tokens still work, the fingerprint is unchanged', async () => {
    const h = await startPlatform({ dbFile, clock, init: false, org: 'acme', superToken, mailbox });
    try {
      expect(h.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(firstUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const after = await snapshot(h);
      expect(after).toEqual(before);
      expect(after.org).toMatchObject({ displayName: 'Acme Corporation', plan: 'premium', cache: { enabled: true, podType: 'medium', state: 'ready' } });
      expect(after.members.items.map((m: { email: string; role: string }) => `${m.email}:${m.role}`)).toEqual([
        'admin@acme.example:admin',
        'ops@platform.example:owner',
        'owner2@acme.example:owner',
        'worker@acme.example:member',
      ]);
      expect(after.invites.items.map((i: { email: string; status: string }) => `${i.email}:${i.status}`)).toEqual([
        'admin@acme.example:accepted',
        'gone@acme.example:cancelled',
        'later@acme.example:pending',
        'owner2@acme.example:accepted',
        'pending@acme.example:pending',
        'worker@acme.example:accepted',
      ]);
      expect(after.integrations.items[0].credentialsFingerprint).toBe(fingerprint);
      expect((await h.su.post('/api/v1/orgs/acme/integrations/raw/verify-credentials', { credentials: creds })).body).toEqual({ match: true });

      // Every token still authenticates, and the active organization survived.
      for (const [who, token] of Object.entries(tokens)) {
        const me = await h.as(token).get('/api/v1/me');
        expect(me.status, who).toBe(200);
      }
      expect((await h.as(tokens.admin).get('/api/v1/me')).body.activeOrganization).toBe('acme');
      expect((await h.as(tokens.worker).get('/api/v1/orgs/acme/members')).status).toBe(200); // now a member
      expect((await h.as(tokens.owner).get('/api/v1/orgs/acme/integrations/raw')).body.credentialsFingerprint).toBe(fingerprint);

      // The platform is initialised already.
      expect(() => h.platform.identity.init({ org: 'again', ownerEmail: 'x@y.example' })).toThrow(/already/);

      // Invite links mailed before the restart work after it, and expiry is where it was.
      const link = await latestInviteToken(h, 'later@acme.example');
      const accepted = await h.as().post('/api/v1/invites/accept', { token: link });
      expect(accepted.status, accepted.text).toBe(200);
      h.clock.advance(2 * DAY_MS); // 3 days after sending the 3-day invite
      const inv = await h.su.get('/api/v1/orgs/acme/invites?status=expired');
      expect(inv.body.items.map((i: { email: string }) => i.email)).toEqual(['pending@acme.example']);

      // The sealed credentials open with the key file's key, and hold what was sent.
      const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
      expect(JSON.parse(new SecretBox(key).open(sealedCredentials(dbFile, 'raw')))).toEqual(creds);
    } finally {
      await h.close();
    }
  });

  it('a process that dies without closing loses nothing committed (copy of the live .db and -wal)', async () => {
    const h = await startPlatform({ dbFile, clock, init: false, org: 'acme', superToken });
    const crash = tempDir();
    try {
      expect((await h.su.post('/api/v1/orgs/acme/invites', { email: 'crash@acme.example', role: 'worker' })).status).toBe(201);
      expect((await h.su.patch('/api/v1/orgs/acme', { displayName: 'Acme After Crash' })).status).toBe(200);
      const live = await snapshot(h);
      // Copy the files as they are while the server still holds the database open: what a crash leaves.
      const copy = join(crash.dir, 'platform.db');
      // The recent writes are in the write-ahead log, not yet checkpointed into the main file.
      expect(statSync(`${dbFile}-wal`).size).toBeGreaterThan(0);
      copyFileSync(dbFile, copy);
      copyFileSync(`${dbFile}-wal`, `${copy}-wal`);
      copyFileSync(keyFile, `${copy}.key`);
      const revived = await startPlatform({ dbFile: copy, clock, init: false, org: 'acme', superToken });
      try {
        const got = await snapshot(revived);
        expect(got).toEqual(live);
        expect(got.org.displayName).toBe('Acme After Crash');
      } finally {
        await revived.close();
      }
    } finally {
      await h.close();
      crash.remove();
    }
  });

  /*
   * A different key (the `key` option, or ORGCTL_PLATFORM_KEY): the platform never decrypts credentials on
   * any path (reads show the stored fingerprint, which needs no key), so it starts and serves as usual and
   * nothing signals the wrong key. The sealed values cannot be opened with it (AES-GCM authentication fails);
   * they stay readable with the original key until someone PATCHes new credentials, which seals them with
   * the key in use. The key file is left alone.
   */
  it('a different key: the platform still starts and serves, but the stored credentials cannot be read with it', async () => {
    const fileKeyText = readFileSync(keyFile, 'utf8');
    const fileKey = Buffer.from(fileKeyText.trim(), 'base64');
    const otherKey = randomBytes(32);
    const h = await startPlatform({ dbFile, clock, init: false, org: 'acme', superToken, key: otherKey });
    try {
      const got = await h.su.get('/api/v1/orgs/acme/integrations/raw');
      expect(got.status, got.text).toBe(200);
      expect(got.body.credentialsFingerprint).toBe(fingerprint);
      expect((await h.as(tokens.owner).get('/api/v1/orgs/acme/members')).status).toBe(200);

      const sealed = sealedCredentials(dbFile, 'raw');
      expect(() => new SecretBox(otherKey).open(sealed)).toThrow();
      expect(JSON.parse(new SecretBox(fileKey).open(sealed))).toEqual(creds);

      // Replacing the credentials seals them with the key in use.
      const rotated = { accessKeyId: 'AKIAROTATED', secretAccessKey: `${CANARY}-2` };
      const upd = await h.su.patch('/api/v1/orgs/acme/integrations/raw', { credentials: rotated });
      expect(upd.status, upd.text).toBe(200);
      expect((await h.su.post('/api/v1/orgs/acme/integrations/raw/verify-credentials', { credentials: rotated })).body).toEqual({ match: true });
      const resealed = sealedCredentials(dbFile, 'raw');
      expect(JSON.parse(new SecretBox(otherKey).open(resealed))).toEqual(rotated);
      expect(() => new SecretBox(fileKey).open(resealed)).toThrow();
    } finally {
      await h.close();
    }
    expect(readFileSync(keyFile, 'utf8')).toBe(fileKeyText);
  });

  it('ORGCTL_PLATFORM_KEY takes precedence over the key file; a malformed one refuses to start', async () => {
    const fileKeyText = readFileSync(keyFile, 'utf8');
    const envKey = randomBytes(32);
    const h = await startPlatform({ dbFile, clock, init: false, org: 'acme', superToken, env: { ORGCTL_PLATFORM_KEY: envKey.toString('base64') } });
    try {
      expect((await h.su.get('/api/v1/orgs/acme/integrations')).status).toBe(200);
      const creds2 = { token: `${CANARY}-env` };
      expect((await h.su.post('/api/v1/orgs/acme/integrations', { name: 'kv', type: 'key_value', credentials: creds2 })).status).toBe(201);
    } finally {
      await h.close();
    }
    expect(JSON.parse(new SecretBox(envKey).open(sealedCredentials(dbFile, 'kv')))).toEqual({ token: `${CANARY}-env` });
    expect(readFileSync(keyFile, 'utf8')).toBe(fileKeyText);
    expect(() => openPlatform({ db: dbFile, env: { ORGCTL_PLATFORM_KEY: randomBytes(16).toString('base64') } })).toThrow(/32 bytes/);
  });

  it('the files on disk never hold a credential in plain text', () => {
    const bytes = Buffer.concat([dbFile, `${dbFile}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
    expect(bytes.includes(Buffer.from('Acme Corporation')) || bytes.includes(Buffer.from('Acme After Crash'))).toBe(true);
    expect(bytes.includes(Buffer.from('CANARY'))).toBe(false);
    expect(bytes.includes(Buffer.from('AKIARESTART'))).toBe(false);
  });
});

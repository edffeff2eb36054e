/**
 * Members, invites, me, validation, pagination and integrations of the organization platform, over real
 * HTTP on 127.0.0.1 against an in-process platform with a ManualClock (invite expiry without waiting).
 *
 * Most tests start their own platform (an in-memory database is cheap), so moving the clock or filling an
 * organization in one test never leaks into another.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  addMember,
  DAY_MS,
  latestInviteToken,
  seedMembers,
  startPlatform,
  stateVersion,
  tempDir,
  type Client,
  type Harness,
  type Res,
} from './helpers/platform.js';

const enc = encodeURIComponent;
const ERROR_SHAPE = { error: { code: expect.any(String), message: expect.any(String), details: expect.any(Object) } };

/** A platform per test. */
function perTest(opts: Parameters<typeof startPlatform>[0] = {}): { readonly h: Harness; readonly o: string } {
  const ref: { h?: Harness } = {};
  beforeEach(async () => {
    ref.h = await startPlatform(opts);
  });
  afterEach(async () => ref.h?.close());
  return {
    get h() {
      return ref.h!;
    },
    get o() {
      return `/api/v1/orgs/${ref.h!.org}`;
    },
  };
}

async function invite(c: Client, o: string, body: Record<string, unknown>): Promise<Res> {
  return c.post(`${o}/invites`, body);
}

async function invitesOf(h: Harness, query = ''): Promise<{ email: string; status: string; sendCount: number; expiresAt: string; role: string }[]> {
  const r = await h.su.get(`/api/v1/orgs/${h.org}/invites${query}`);
  expect(r.status, r.text).toBe(200);
  return r.body.items;
}

async function membersOf(h: Harness, org: string = h.org): Promise<{ email: string; role: string; creator: boolean }[]> {
  const r = await h.su.get(`/api/v1/orgs/${org}/members?limit=1000`);
  expect(r.status, r.text).toBe(200);
  return r.body.items;
}

async function auditOf(h: Harness, action?: string): Promise<{ action: string; target: string; actor: string; details: Record<string, unknown> }[]> {
  const r = await h.su.get(`/api/v1/orgs/${h.org}/audit?limit=1000${action ? `&action=${enc(action)}` : ''}`);
  expect(r.status, r.text).toBe(200);
  return r.body.items;
}

// ---------------------------------------------------------------------------------------------------------

describe('invite lifecycle', () => {
  const t = perTest();

  it('pending -> expired after 7 days -> resent (new expiry, sendCount+1, audited) -> accepted', async () => {
    const { h, o } = t;
    const created = await invite(h.su, o, { email: 'carol@acme.example', role: 'admin', firstName: 'Carol' });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ email: 'carol@acme.example', role: 'admin', status: 'pending', sendCount: 1, firstName: 'Carol', createdBy: h.superEmail });
    const start = h.clock.now();
    expect(created.body.expiresAt).toBe(new Date(start + 7 * DAY_MS).toISOString());

    // One millisecond before expiry it is still pending; at expiry it is expired.
    h.clock.advance(7 * DAY_MS - 1);
    expect((await invitesOf(h))[0]).toMatchObject({ email: 'carol@acme.example', status: 'pending' });
    h.clock.advance(1);
    expect((await invitesOf(h))[0]).toMatchObject({ email: 'carol@acme.example', status: 'expired', sendCount: 1 });
    const oldToken = await latestInviteToken(h, 'carol@acme.example');

    h.clock.advance(DAY_MS);
    const resent = await h.su.post(`${o}/invites/${enc('carol@acme.example')}/resend`, {});
    expect(resent.status, resent.text).toBe(200);
    expect(resent.body).toMatchObject({ status: 'pending', sendCount: 2, role: 'admin' });
    expect(resent.body.expiresAt).toBe(new Date(h.clock.now() + 7 * DAY_MS).toISOString());
    expect(resent.body.lastSentAt).toBe(new Date(h.clock.now()).toISOString());
    const resendAudit = await auditOf(h, 'invite.resend');
    expect(resendAudit).toHaveLength(1);
    expect(resendAudit[0]).toMatchObject({ action: 'invite.resend', target: 'carol@acme.example', actor: h.superEmail });

    // A resend mails a new link: the old one is dead, the new one works.
    const newToken = await latestInviteToken(h, 'carol@acme.example');
    expect(newToken).not.toBe(oldToken);
    const stale = await h.as().post('/api/v1/invites/accept', { token: oldToken });
    expect(stale.status, stale.text).toBe(404);
    const accepted = await h.as().post('/api/v1/invites/accept', { token: newToken });
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body).toEqual({ organization: 'acme', email: 'carol@acme.example', role: 'admin' });

    expect((await invitesOf(h))[0]).toMatchObject({ email: 'carol@acme.example', status: 'accepted' });
    expect(await membersOf(h)).toContainEqual(expect.objectContaining({ email: 'carol@acme.example', role: 'admin', creator: false }));
    expect((await auditOf(h, 'invite.accept')).map((e) => e.target)).toEqual(['carol@acme.example']);

    // Accepting again: 409.
    const again = await h.as().post('/api/v1/invites/accept', { token: newToken });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('invite_accepted');
  });

  it('accepting an expired invite is 410 (by token and by email) and makes no member', async () => {
    const { h, o } = t;
    expect((await invite(h.su, o, { email: 'late@acme.example', role: 'member' })).status).toBe(201);
    const token = await latestInviteToken(h, 'late@acme.example');
    h.clock.advance(7 * DAY_MS);
    const byToken = await h.as().post('/api/v1/invites/accept', { token });
    expect(byToken.status, byToken.text).toBe(410);
    expect(byToken.body).toMatchObject({ error: { code: 'invite_expired' } });
    const byEmail = await h.su.post(`${o}/invites/${enc('late@acme.example')}/accept`);
    expect(byEmail.status, byEmail.text).toBe(410);
    expect((await membersOf(h)).map((m) => m.email)).not.toContain('late@acme.example');
    expect((await invitesOf(h))[0]).toMatchObject({ status: 'expired' });
  });

  it('cancel: the invite is cancelled, accepting it by token is 409, and it can be invited afresh', async () => {
    const { h, o } = t;
    expect((await invite(h.su, o, { email: 'dan@acme.example', role: 'worker' })).status).toBe(201);
    const token = await latestInviteToken(h, 'dan@acme.example');
    const cancelled = await h.su.delete(`${o}/invites/${enc('dan@acme.example')}`);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body).toMatchObject({ email: 'dan@acme.example', status: 'cancelled' });
    expect((await auditOf(h, 'invite.cancel')).map((e) => e.target)).toEqual(['dan@acme.example']);

    const accept = await h.as().post('/api/v1/invites/accept', { token });
    expect(accept.status, accept.text).toBe(409);
    expect(accept.body).toMatchObject({ error: { code: 'invite_cancelled' } });
    expect((await membersOf(h)).map((m) => m.email)).not.toContain('dan@acme.example');

    // Cancelling or resending a cancelled invite: there is no open invite any more.
    expect((await h.su.delete(`${o}/invites/${enc('dan@acme.example')}`)).status).toBe(404);
    expect((await h.su.post(`${o}/invites/${enc('dan@acme.example')}/resend`, {})).status).toBe(404);

    // A cancelled invite does not block a new one.
    expect((await invite(h.su, o, { email: 'dan@acme.example', role: 'member' })).status).toBe(201);
  });

  it('accepting a cancelled invite by email is 409 too', async () => {
    const { h, o } = t;
    const { token } = h.platform.identity.createToken('erin@acme.example', 'test');
    expect((await invite(h.su, o, { email: 'erin@acme.example', role: 'member' })).status).toBe(201);
    expect((await h.su.delete(`${o}/invites/${enc('erin@acme.example')}`)).status).toBe(200);
    const r = await h.as(token).post(`${o}/invites/${enc('erin@acme.example')}/accept`);
    expect(r.status, r.text).toBe(409);
    expect(r.body.error.code).toBe('invite_cancelled');
  });

  it('inviting an existing member is 409 already_member; inviting twice is 409 invite_exists', async () => {
    const { h, o } = t;
    await addMember(h, 'frank@acme.example', 'member');
    const member = await invite(h.su, o, { email: 'frank@acme.example', role: 'admin' });
    expect(member.status, member.text).toBe(409);
    expect(member.body).toMatchObject({ error: { code: 'already_member' } });
    // The creator too, and case does not help.
    const creator = await invite(h.su, o, { email: 'OPS@platform.example', role: 'member' });
    expect(creator.status).toBe(409);
    expect(creator.body.error.code).toBe('already_member');

    expect((await invite(h.su, o, { email: 'gina@acme.example', role: 'member' })).status).toBe(201);
    const twice = await invite(h.su, o, { email: 'gina@acme.example', role: 'admin' });
    expect(twice.status, twice.text).toBe(409);
    expect(twice.body).toMatchObject({ error: { code: 'invite_exists' } });
    // An expired invite is still open: resend or cancel it rather than invite again.
    h.clock.advance(8 * DAY_MS);
    expect((await invite(h.su, o, { email: 'gina@acme.example', role: 'member' })).body.error.code).toBe('invite_exists');
    expect((await invitesOf(h)).filter((i) => i.email === 'gina@acme.example')).toHaveLength(1);
  });

  it('expiresInDays sets the expiry per invite and per resend; out of range is 400', async () => {
    const { h, o } = t;
    const r = await invite(h.su, o, { email: 'hank@acme.example', role: 'member', expiresInDays: 2 });
    expect(r.status, r.text).toBe(201);
    expect(r.body.expiresAt).toBe(new Date(h.clock.now() + 2 * DAY_MS).toISOString());
    h.clock.advance(2 * DAY_MS);
    expect((await invitesOf(h))[0]!.status).toBe('expired');
    const resent = await h.su.post(`${o}/invites/${enc('hank@acme.example')}/resend`, { expiresInDays: 30 });
    expect(resent.status, resent.text).toBe(200);
    expect(resent.body.expiresAt).toBe(new Date(h.clock.now() + 30 * DAY_MS).toISOString());

    for (const bad of [0, 366, 1.5, '3']) {
      const b = await invite(h.su, o, { email: 'ivy@acme.example', role: 'member', expiresInDays: bad });
      expect(b.status, `expiresInDays=${JSON.stringify(bad)}`).toBe(400);
      expect(b.body.error.details.field).toBe('body.expiresInDays');
    }
  });

  it('the status filter: pending, expired, open, accepted, cancelled', async () => {
    const { h, o } = t;
    for (const email of ['a@acme.example', 'b@acme.example', 'c@acme.example', 'd@acme.example']) {
      expect((await invite(h.su, o, { email, role: 'member', expiresInDays: email === 'a@acme.example' ? 1 : 7 })).status).toBe(201);
    }
    expect((await h.su.post(`${o}/invites/${enc('b@acme.example')}/accept`)).status).toBe(200);
    expect((await h.su.delete(`${o}/invites/${enc('c@acme.example')}`)).status).toBe(200);
    h.clock.advance(DAY_MS); // a@ expires

    const emails = async (status: string) => (await invitesOf(h, `?status=${status}`)).map((i) => `${i.email}:${i.status}`);
    expect(await emails('pending')).toEqual(['d@acme.example:pending']);
    expect(await emails('expired')).toEqual(['a@acme.example:expired']);
    expect(await emails('open')).toEqual(['a@acme.example:expired', 'd@acme.example:pending']);
    expect(await emails('accepted')).toEqual(['b@acme.example:accepted']);
    expect(await emails('cancelled')).toEqual(['c@acme.example:cancelled']);
    expect((await invitesOf(h)).map((i) => i.email)).toEqual(['a@acme.example', 'b@acme.example', 'c@acme.example', 'd@acme.example']);
    const bad = await h.su.get(`${o}/invites?status=bogus`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('querystring.status');
  });

  it('accepting by token: the link comes by mail; the outbox says it was sent, never what it was; accept without authentication', async () => {
    const { h, o } = t;
    expect((await invite(h.su, o, { email: 'jill@acme.example', role: 'worker' })).status).toBe(201);
    const outbox = await h.su.get(`/api/v1/outbox?email=${enc('jill@acme.example')}`);
    expect(outbox.status, outbox.text).toBe(200);
    expect(outbox.body.items).toHaveLength(1);
    expect(outbox.body.items[0]).toEqual({ at: expect.any(String), to: 'jill@acme.example', organization: 'acme', inviteId: expect.any(Number) });
    const link = await latestInviteToken(h, 'jill@acme.example');
    expect(link).toMatch(/^invite_/);
    expect(outbox.text).not.toContain(link);
    const accept = await h.as().post('/api/v1/invites/accept', { token: link });
    expect(accept.status, accept.text).toBe(200);
    expect(accept.body).toEqual({ organization: 'acme', email: 'jill@acme.example', role: 'worker' });
    expect(await membersOf(h)).toContainEqual(expect.objectContaining({ email: 'jill@acme.example', role: 'worker' }));

    // An unknown token is 404; a missing one is 400; the outbox is the superuser's only.
    expect((await h.as().post('/api/v1/invites/accept', { token: 'invite_nope' })).status).toBe(404);
    const missing = await h.as().post('/api/v1/invites/accept', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.field).toBe('body.token');
    const memberToken = await addMember(h, 'kim@acme.example', 'admin');
    expect((await h.as(memberToken).get(`/api/v1/outbox?email=${enc('jill@acme.example')}`)).status).toBe(403);
  });

  it('accepting by email: the invited person or a superuser, nobody else', async () => {
    const { h, o } = t;
    const admin = await addMember(h, 'lee@acme.example', 'admin');
    const { token: mo } = h.platform.identity.createToken('mo@acme.example', 'test');
    expect((await invite(h.su, o, { email: 'mo@acme.example', role: 'member' })).status).toBe(201);
    const byAdmin = await h.as(admin).post(`${o}/invites/${enc('mo@acme.example')}/accept`);
    expect(byAdmin.status, byAdmin.text).toBe(403);
    // The invited person, whatever the case of the address in the path.
    const self = await h.as(mo).post(`${o}/invites/${enc('Mo@ACME.example')}/accept`);
    expect(self.status, self.text).toBe(200);
    expect(self.body).toEqual({ organization: 'acme', email: 'mo@acme.example', role: 'member' });
  });

  it('accepting adds the person to the pre-assigned projects', async () => {
    const { h, o } = t;
    // There is no project API yet: make two projects directly in the database.
    const db = h.platform.db;
    const orgRow = db.prepare('SELECT id, creator_id FROM orgs WHERE name = ?').get('acme') as { id: number; creator_id: number };
    const addProject = (name: string) =>
      Number(
        db
          .prepare('INSERT INTO projects (org_id, name, paying_org_id, created_by, created_at) VALUES (?, ?, ?, ?, ?)')
          .run(orgRow.id, name, orgRow.id, orgRow.creator_id, h.clock.now()).lastInsertRowid,
      );
    const vision = addProject('vision');
    const audio = addProject('audio');

    const r = await invite(h.su, o, {
      email: 'nora@acme.example',
      role: 'worker',
      projects: [
        { project: 'vision', role: 'annotator' },
        { project: 'audio', role: 'reviewer' },
      ],
    });
    expect(r.status, r.text).toBe(201);
    expect(r.body.projects).toEqual([
      { project: 'vision', role: 'annotator' },
      { project: 'audio', role: 'reviewer' },
    ]);
    expect((await h.su.post(`${o}/invites/${enc('nora@acme.example')}/accept`)).status).toBe(200);
    const rows = db
      .prepare('SELECT pm.project_id AS project, pm.role FROM project_members pm JOIN users u ON u.id = pm.user_id WHERE u.email = ? ORDER BY pm.project_id')
      .all('nora@acme.example');
    expect(rows).toEqual([
      { project: vision, role: 'annotator' },
      { project: audio, role: 'reviewer' },
    ]);

    // An unknown project is refused (400) and nothing is written.
    const before = await stateVersion(h);
    const bad = await invite(h.su, o, { email: 'otto@acme.example', role: 'member', projects: [{ project: 'nope', role: 'annotator' }] });
    expect(bad.status, bad.text).toBe(400);
    expect(await stateVersion(h)).toBe(before);
    expect((await invitesOf(h)).map((i) => i.email)).not.toContain('otto@acme.example');
  });

  it('a 400 for an unknown pre-assigned project names the field', async () => {
    const { h, o } = t;
    const bad = await invite(h.su, o, { email: 'pia@acme.example', role: 'member', projects: [{ project: 'nope', role: 'annotator' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('projects');
  });

  it('resending needs no body', async () => {
    const { h, o } = t;
    expect((await invite(h.su, o, { email: 'bare@acme.example', role: 'member' })).status).toBe(201);
    const bare = await h.su.post(`${o}/invites/${enc('bare@acme.example')}/resend`);
    expect(bare.status, bare.text).toBe(200);
    expect(bare.body.sendCount).toBe(2);
    const empty = await h.su.post(`${o}/invites/${enc('bare@acme.example')}/resend`, undefined, { rawBody: '' });
    expect(empty.status, empty.text).toBe(200);
    expect(empty.body.sendCount).toBe(3);
  });

  it('an admin may not cancel or resend an owner invite; an owner may', async () => {
    const { h, o } = t;
    const admin = h.as(await addMember(h, 'quinn@acme.example', 'admin'));
    const owner = h.as(await addMember(h, 'rita@acme.example', 'owner'));
    expect((await invite(owner, o, { email: 'sam@acme.example', role: 'owner' })).status).toBe(201);
    expect((await admin.post(`${o}/invites/${enc('sam@acme.example')}/resend`, {})).status).toBe(403);
    expect((await admin.delete(`${o}/invites/${enc('sam@acme.example')}`)).status).toBe(403);
    // Nor turn a member invite into an owner one on resend.
    expect((await invite(admin, o, { email: 'tom@acme.example', role: 'member' })).status).toBe(201);
    expect((await admin.post(`${o}/invites/${enc('tom@acme.example')}/resend`, { role: 'owner' })).status).toBe(403);
    expect((await owner.post(`${o}/invites/${enc('sam@acme.example')}/resend`, {})).status).toBe(200);
    expect((await owner.delete(`${o}/invites/${enc('sam@acme.example')}`)).status).toBe(200);
    // A resend may fix the role of a pending invite.
    const fixed = await admin.post(`${o}/invites/${enc('tom@acme.example')}/resend`, { role: 'admin' });
    expect(fixed.status).toBe(200);
    expect(fixed.body).toMatchObject({ role: 'admin', sendCount: 2 });
  });
});

describe('the platform invite expiry is configurable', () => {
  const t = perTest({ inviteExpiryDays: 3 });

  it('defaults to the configured number of days', async () => {
    const { h, o } = t;
    const r = await invite(h.su, o, { email: 'uma@acme.example', role: 'member' });
    expect(r.status).toBe(201);
    expect(r.body.expiresAt).toBe(new Date(h.clock.now() + 3 * DAY_MS).toISOString());
    h.clock.advance(3 * DAY_MS);
    expect((await invitesOf(h))[0]!.status).toBe('expired');
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('email normalisation', () => {
  const t = perTest();

  it('addresses are lower-cased: invite Alice@X.Example, she is alice@x.example everywhere', async () => {
    const { h, o } = t;
    const r = await invite(h.su, o, { email: 'Alice@X.Example', role: 'member' });
    expect(r.status, r.text).toBe(201);
    expect(r.body.email).toBe('alice@x.example');
    expect((await invite(h.su, o, { email: 'ALICE@x.example', role: 'member' })).body.error.code).toBe('invite_exists');
    expect((await h.su.post(`${o}/invites/${enc('aLiCe@X.eXaMpLe')}/accept`)).status).toBe(200);
    expect((await membersOf(h)).map((m) => m.email)).toContain('alice@x.example');
    expect((await membersOf(h)).map((m) => m.email)).not.toContain('Alice@X.Example');
    // One user, whatever the case used to make a token.
    const { token } = h.platform.identity.createToken('ALICE@X.EXAMPLE', 'test');
    const me = await h.as(token).get('/api/v1/me');
    expect(me.body.email).toBe('alice@x.example');
    expect(me.body.organizations.map((x: { name: string }) => x.name)).toEqual(['acme']);
    // Members are found by any case of their address.
    expect((await h.su.patch(`${o}/members/${enc('ALICE@X.EXAMPLE')}`, { role: 'worker' })).status).toBe(200);
    expect((await h.su.delete(`${o}/members/${enc('Alice@x.Example')}`)).status).toBe(200);
  });

  it("addresses are trimmed: invite ' Alice@X.Example ', she appears as alice@x.example", async () => {
    const { h, o } = t;
    const r = await invite(h.su, o, { email: ' Alice@X.Example ', role: 'member' });
    expect(r.status, r.text).toBe(201);
    expect(r.body.email).toBe('alice@x.example');
    expect((await h.su.post(`${o}/invites/${enc('alice@x.example')}/accept`)).status).toBe(200);
    expect((await membersOf(h)).map((m) => m.email)).toContain('alice@x.example');
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('batches', () => {
  const t = perTest();

  it('batch invite: one result per email, mixed outcomes, the good ones written', async () => {
    const { h, o } = t;
    await addMember(h, 'member@acme.example', 'member');
    const admin = h.as(await addMember(h, 'admin@acme.example', 'admin'));
    const r = await admin.post(`${o}/invites/batch`, {
      invites: [
        { email: 'New1@acme.example', role: 'member' },
        { email: 'member@acme.example', role: 'worker' },
        { email: 'new2@acme.example', role: 'worker' },
        { email: 'new1@acme.example', role: 'admin' },
        { email: 'boss@acme.example', role: 'owner' },
        { email: 'proj@acme.example', role: 'member', projects: [{ project: 'missing', role: 'annotator' }] },
      ],
      expiresInDays: 3,
    });
    expect(r.status, r.text).toBe(200);
    const summary = (r.body.results as { email: string; ok: boolean; error?: { status: number; code: string } }[]).map((x) => [
      x.email,
      x.ok ? 'ok' : `${x.error!.status} ${x.error!.code}`,
    ]);
    expect(summary).toEqual([
      ['new1@acme.example', 'ok'],
      ['member@acme.example', '409 already_member'],
      ['new2@acme.example', 'ok'],
      ['new1@acme.example', '409 invite_exists'],
      ['boss@acme.example', '403 forbidden'],
      ['proj@acme.example', '400 invalid_request'],
    ]);
    expect(r.body.results[0].result).toMatchObject({ status: 'pending', expiresAt: new Date(h.clock.now() + 3 * DAY_MS).toISOString() });
    expect(r.body.stateVersion).toBe(await stateVersion(h));
    expect((await invitesOf(h, '?status=pending')).map((i) => `${i.email}:${i.role}`)).toEqual(['new1@acme.example:member', 'new2@acme.example:worker']);
  });

  it('batch-update, batch-remove, batch-cancel, batch-resend: per-email results', async () => {
    const { h, o } = t;
    const owner = h.as(await addMember(h, 'owner2@acme.example', 'owner'));
    await addMember(h, 'm1@acme.example', 'member');
    await addMember(h, 'm2@acme.example', 'member');
    await addMember(h, 'm3@acme.example', 'worker');
    for (const email of ['p1@acme.example', 'p2@acme.example', 'p3@acme.example']) {
      expect((await invite(owner, o, { email, role: 'member' })).status).toBe(201);
    }
    const outcome = (r: Res) => (r.body.results as { email: string; ok: boolean; error?: { status: number; code: string } }[]).map((x) => `${x.email} ${x.ok ? 'ok' : x.error!.status}`);

    const upd = await owner.post(`${o}/members/batch-update`, {
      members: [
        { email: 'M1@acme.example', role: 'admin' },
        { email: h.superEmail, role: 'admin' }, // the creator stays owner
        { email: 'ghost@acme.example', role: 'member' },
        { email: 'm2@acme.example', firstName: 'Emm', lastName: 'Two' },
      ],
    });
    expect(upd.status, upd.text).toBe(200);
    expect(outcome(upd)).toEqual(['m1@acme.example ok', `${h.superEmail} 403`, 'ghost@acme.example 404', 'm2@acme.example ok']);
    expect(upd.body.results[3].result).toMatchObject({ email: 'm2@acme.example', firstName: 'Emm', lastName: 'Two', role: 'member' });
    expect(upd.body.stateVersion).toBe(await stateVersion(h));

    const rem = await owner.post(`${o}/members/batch-remove`, { emails: ['m3@acme.example', h.superEmail, 'ghost@acme.example'] });
    expect(rem.status, rem.text).toBe(200);
    expect(outcome(rem)).toEqual(['m3@acme.example ok', `${h.superEmail} 403`, 'ghost@acme.example 404']);

    const can = await owner.post(`${o}/invites/batch-cancel`, { emails: ['p1@acme.example', 'ghost@acme.example', 'p1@acme.example'] });
    expect(can.status, can.text).toBe(200);
    expect(outcome(can)).toEqual(['p1@acme.example ok', 'ghost@acme.example 404', 'p1@acme.example 404']);

    h.clock.advance(DAY_MS);
    const res = await owner.post(`${o}/invites/batch-resend`, {
      invites: [{ email: 'p2@acme.example' }, { email: 'p1@acme.example' }, { email: 'p3@acme.example', role: 'worker' }],
      expiresInDays: 10,
    });
    expect(res.status, res.text).toBe(200);
    expect(outcome(res)).toEqual(['p2@acme.example ok', 'p1@acme.example 404', 'p3@acme.example ok']);
    expect(res.body.results[2].result).toMatchObject({ role: 'worker', sendCount: 2, expiresAt: new Date(h.clock.now() + 10 * DAY_MS).toISOString() });

    const members = await membersOf(h);
    expect(members.map((m) => `${m.email}:${m.role}`)).toEqual([
      'm1@acme.example:admin',
      'm2@acme.example:member',
      `${h.superEmail}:owner`,
      'owner2@acme.example:owner',
    ]);
    expect((await invitesOf(h)).map((i) => `${i.email}:${i.status}:${i.sendCount}`)).toEqual(
      expect.arrayContaining(['p1@acme.example:cancelled:1', 'p2@acme.example:pending:2', 'p3@acme.example:pending:2']),
    );
  });

  it('a batch of 1000 is taken; 1001 is 413 on every batch endpoint and nothing is written', async () => {
    const { h, o } = t;
    const emails = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${String(i).padStart(4, '0')}@bulk.example`);
    const ok = await h.su.post(`${o}/invites/batch`, { invites: emails(1000, 'ok').map((email) => ({ email, role: 'member' })) });
    expect(ok.status, ok.text.slice(0, 300)).toBe(200);
    expect(ok.body.results).toHaveLength(1000);
    expect(ok.body.results.every((r: { ok: boolean }) => r.ok)).toBe(true);

    const before = await stateVersion(h);
    const invitesBefore = (await h.su.get(`${o}/invites?limit=1000`)).text;
    const big = emails(1001, 'ok'); // all real, open invites: anything that slipped through would show
    const calls: [string, unknown][] = [
      ['/invites/batch', { invites: emails(1001, 'x').map((email) => ({ email, role: 'member' })) }],
      ['/invites/batch-resend', { invites: big.map((email) => ({ email })) }],
      ['/invites/batch-cancel', { emails: big }],
      ['/members/batch-update', { members: big.map((email) => ({ email, role: 'worker' })) }],
      ['/members/batch-remove', { emails: big }],
    ];
    for (const [path, body] of calls) {
      const r = await h.su.post(`${o}${path}`, body);
      expect(r.status, path).toBe(413);
      expect(r.body, path).toEqual({ error: { code: 'batch_too_large', message: expect.any(String), details: expect.objectContaining({ limit: 1000 }) } });
    }
    expect(await stateVersion(h)).toBe(before);
    expect((await h.su.get(`${o}/invites?limit=1000`)).text).toBe(invitesBefore);
  });

  it('a body over 1 MiB is 413 (even a batch within the item limit) and nothing is written', async () => {
    const { h, o } = t;
    const before = await stateVersion(h);
    // 1000 invites (allowed) with 1000-character descriptions (allowed): about 1.06 MB, over 1 MiB.
    const invites = Array.from({ length: 1000 }, (_, i) => ({ email: `big${i}@bulk.example`, role: 'member', description: 'd'.repeat(1000) }));
    const body = JSON.stringify({ invites });
    expect(Buffer.byteLength(body)).toBeGreaterThan(1024 * 1024);
    const r = await h.su.post(`${o}/invites/batch`, undefined, { rawBody: body });
    expect(r.status, r.text).toBe(413);
    expect(r.body).toMatchObject({ error: { code: 'body_too_large' } });

    const single = await h.su.post(`${o}/invites`, { email: 'huge@bulk.example', role: 'member', description: 'x'.repeat(2 * 1024 * 1024) });
    expect(single.status).toBe(413);
    expect(single.body).toEqual({ error: { code: 'body_too_large', message: expect.any(String), details: {} } });
    expect(await stateVersion(h)).toBe(before);
    expect(await invitesOf(h)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('validation and authentication', () => {
  const t = perTest();

  it('unknown fields are 400 naming the field, at any depth, in bodies and queries', async () => {
    const { h, o } = t;
    const before = await stateVersion(h);
    const cases: [string, string, unknown, string][] = [
      ['POST', `${o}/invites`, { email: 'a@b.example', role: 'member', bogus: 1 }, 'body.bogus'],
      ['POST', `${o}/invites/batch`, { invites: [{ email: 'a@b.example', role: 'member', nope: true }] }, 'body.invites.0.nope'],
      ['PATCH', o, { displayName: 'X', colour: 'red' }, 'body.colour'],
      ['PATCH', o, { cache: { enabled: true, size: 3 } }, 'body.cache.size'],
      ['POST', `${o}/integrations`, { name: 'i', type: 's3', secret: 'x' }, 'body.secret'],
      ['PUT', '/api/v1/me', { activeOrganization: 'acme', theme: 'dark' }, 'body.theme'],
      ['GET', `${o}/members?colour=red`, undefined, 'querystring.colour'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await h.su.request(method, path, body);
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(r.body, `${method} ${path}`).toEqual({ error: { code: 'invalid_request', message: expect.stringContaining(field), details: { field } } });
    }
    expect(await stateVersion(h)).toBe(before);
  });

  it('missing, wrong-typed and out-of-range fields are 400 naming the field', async () => {
    const { h, o } = t;
    const cases: [string, string, unknown, string][] = [
      ['POST', `${o}/invites`, { email: 'a@b.example' }, 'body.role'],
      ['POST', `${o}/invites`, { email: 'not-an-email', role: 'member' }, 'body.email'],
      ['POST', `${o}/invites`, { email: 'a@b.example', role: 'boss' }, 'body.role'],
      ['PATCH', `${o}/members/${enc(h.superEmail)}`, {}, 'body'],
      ['PATCH', o, { plan: 'gold' }, 'body.plan'],
      ['POST', `${o}/integrations`, { name: 'i', type: 's3', credentials: { secret: 42 } }, 'body.credentials.secret'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await h.su.request(method, path, body);
      expect(r.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
      expect(r.body.error.details.field, `${method} ${path} ${JSON.stringify(body)}`).toBe(field);
    }
    const malformed = await h.su.post(`${o}/invites`, undefined, { rawBody: '{"email": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual(ERROR_SHAPE);
  });

  it('a missing or invalid bearer token is 401, and nothing is written', async () => {
    const { h, o } = t;
    const before = await stateVersion(h);
    const variants: Record<string, string> = { 'wrong token': 'Bearer orgctl_nope', 'wrong scheme': `Basic ${h.superToken}`, 'empty bearer': 'Bearer ' };
    const requests: [string, string, unknown][] = [
      ['GET', '/api/v1/me', undefined],
      ['GET', o, undefined],
      ['GET', `${o}/members`, undefined],
      ['POST', `${o}/invites`, { email: 'z@acme.example', role: 'owner' }],
      ['DELETE', `${o}/members/${enc(h.superEmail)}`, undefined],
      ['GET', '/api/v1/orgs/no-such-org', undefined],
    ];
    for (const [method, path, body] of requests) {
      const none = await h.as().request(method, path, body);
      expect(none.status, `${method} ${path} without a token`).toBe(401);
      expect(none.body).toMatchObject({ error: { code: 'unauthorized' } });
      for (const [what, header] of Object.entries(variants)) {
        const r = await h.as().request(method, path, body, { headers: { authorization: header } });
        expect(r.status, `${method} ${path} with ${what}`).toBe(401);
      }
    }
    expect(await stateVersion(h)).toBe(before);
    expect(await invitesOf(h)).toEqual([]);
  });

  it('an outsider cannot tell an organization they are not in from one that does not exist', async () => {
    const { h, o } = t;
    const outsider = h.as(h.platform.identity.createToken('out@elsewhere.example', 'test').token);
    const mine = await outsider.get(o);
    const none = await outsider.get('/api/v1/orgs/no-such-org');
    expect(mine.status).toBe(404);
    expect(none.status).toBe(404);
    expect(mine.body.error.code).toBe(none.body.error.code);
    expect((await outsider.get('/api/v1/orgs')).body.items.map((x: { name: string }) => x.name)).not.toContain('acme');
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('one transaction per request', () => {
  const t = perTest();

  it('a request refused half-way leaves nothing behind: an admin renaming and changing the plan at once', async () => {
    const { h, o } = t;
    const admin = h.as(await addMember(h, 'adm@acme.example', 'admin'));
    const before = (await h.su.get(o)).body;
    // The rename is applied first inside the request, then the plan change is refused: all rolled back.
    const r = await admin.patch(o, { displayName: 'Renamed By Admin', plan: before.plan === 'premium' ? 'freemium' : 'premium' });
    expect(r.status, r.text).toBe(403);
    const after = (await h.su.get(o)).body;
    expect(after).toEqual(before);
    expect((await auditOf(h, 'org.rename'))).toEqual([]);
    // The same request from an owner applies both, with one audit entry each.
    const owner = h.as(await addMember(h, 'own@acme.example', 'owner'));
    const ok = await owner.patch(o, { displayName: 'Renamed By Owner', plan: 'premium', cache: { enabled: true } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ displayName: 'Renamed By Owner', plan: 'premium', cache: { enabled: true, podType: 'small', state: 'pending' } });
    expect((await auditOf(h)).map((e) => e.action).slice(-3)).toEqual(['org.rename', 'org.plan', 'org.cache.apply']);
    // Platform time moves the cache to ready.
    h.clock.advance(5_000);
    expect((await h.su.get(o)).body.cache.state).toBe('ready');
  });

  it('organizations cannot be deleted', async () => {
    const { h, o } = t;
    const r = await h.su.delete(o);
    expect(r.status).toBe(405);
    expect(r.body).toEqual(ERROR_SHAPE);
    expect((await h.su.get(o)).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('owners and the creator', () => {
  const t = perTest();

  it('nobody can remove or demote the creator (403), not even themselves or another owner', async () => {
    const { h, o } = t;
    const owner = h.as(await addMember(h, 'owner2@acme.example', 'owner'));
    const admin = h.as(await addMember(h, 'admin@acme.example', 'admin'));
    const creator = enc(h.superEmail);
    const before = await stateVersion(h);
    for (const [who, c] of [
      ['the creator (a superuser)', h.su],
      ['another owner', owner],
      ['an admin', admin],
    ] as const) {
      for (const role of ['admin', 'member', 'worker']) {
        const r = await c.patch(`${o}/members/${creator}`, { role });
        expect(r.status, `${who} demotes the creator to ${role}`).toBe(403);
        expect(r.body.error.code).toBe('forbidden');
      }
      const del = await c.delete(`${o}/members/${creator}`);
      expect(del.status, `${who} removes the creator`).toBe(403);
    }
    expect(await stateVersion(h)).toBe(before);
    expect((await membersOf(h)).find((m) => m.creator)).toMatchObject({ email: h.superEmail, role: 'owner' });
  });

  it('a creator who is not a superuser is protected the same way', async () => {
    const { h } = t;
    const bea = h.as(h.platform.identity.createToken('bea@beta.example', 'test').token);
    const made = await bea.post('/api/v1/orgs', { name: 'beta', displayName: 'Beta' });
    expect(made.status, made.text).toBe(201);
    expect(made.body).toMatchObject({ name: 'beta', creator: 'bea@beta.example' });
    const cy = h.as(await addMember(h, 'cy@beta.example', 'owner', { org: 'beta', inviter: bea }));
    expect((await cy.patch(`/api/v1/orgs/beta/members/${enc('bea@beta.example')}`, { role: 'member' })).status).toBe(403);
    expect((await cy.delete(`/api/v1/orgs/beta/members/${enc('bea@beta.example')}`)).status).toBe(403);
    expect((await bea.delete(`/api/v1/orgs/beta/members/${enc('bea@beta.example')}`)).status).toBe(403);
    // The creator may remove the other owner.
    expect((await bea.delete(`/api/v1/orgs/beta/members/${enc('cy@beta.example')}`)).status).toBe(200);
  });

  it('the last owner: unreachable through the API (the creator always stays owner), so demoting or removing other owners always works', async () => {
    const { h, o } = t;
    const o2 = h.as(await addMember(h, 'o2@acme.example', 'owner'));
    await addMember(h, 'o3@acme.example', 'owner');
    // An owner may demote and remove another owner, and step down themselves; the creator remains owner.
    expect((await o2.patch(`${o}/members/${enc('o3@acme.example')}`, { role: 'admin' })).status).toBe(200);
    expect((await o2.patch(`${o}/members/${enc('o2@acme.example')}`, { role: 'member' })).status).toBe(200);
    const owners = await h.su.get(`${o}/members?role=owner`);
    expect(owners.body.items.map((m: { email: string }) => m.email)).toEqual([h.superEmail]);
    // The creator is now the only owner: still 403 (creator), never a state without an owner.
    const demote = await h.su.patch(`${o}/members/${enc(h.superEmail)}`, { role: 'admin' });
    expect(demote.status).toBe(403);
  });

  it('the last-owner guard holds where the creator is no longer a member (legacy data): 409 last_owner', async () => {
    const { h, o } = t;
    const solo = h.as(await addMember(h, 'solo@acme.example', 'owner'));
    await addMember(h, 'adm@acme.example', 'admin');
    // Not reachable through the API: take the creator's membership away in the database.
    h.platform.db.prepare("DELETE FROM memberships WHERE org_id = (SELECT id FROM orgs WHERE name = 'acme') AND email = ?").run(h.superEmail);
    const before = await stateVersion(h);
    const demote = await solo.patch(`${o}/members/${enc('solo@acme.example')}`, { role: 'admin' });
    expect(demote.status, demote.text).toBe(409);
    expect(demote.body).toMatchObject({ error: { code: 'last_owner' } });
    const leave = await solo.delete(`${o}/members/${enc('solo@acme.example')}`);
    expect(leave.status, leave.text).toBe(409);
    expect(leave.body.error.code).toBe('last_owner');
    expect(await stateVersion(h)).toBe(before);
    // Once someone else is owner, the former last owner may step down.
    expect((await solo.patch(`${o}/members/${enc('adm@acme.example')}`, { role: 'owner' })).status).toBe(200);
    expect((await solo.patch(`${o}/members/${enc('solo@acme.example')}`, { role: 'member' })).status).toBe(200);
  });

  it('an admin may not touch an owner: role, profile or removal', async () => {
    const { h, o } = t;
    await addMember(h, 'own@acme.example', 'owner');
    const admin = h.as(await addMember(h, 'adm@acme.example', 'admin'));
    expect((await admin.patch(`${o}/members/${enc('own@acme.example')}`, { role: 'admin' })).status).toBe(403);
    expect((await admin.patch(`${o}/members/${enc('own@acme.example')}`, { firstName: 'Renamed' })).status).toBe(403);
    expect((await admin.delete(`${o}/members/${enc('own@acme.example')}`)).status).toBe(403);
    expect((await admin.patch(`${o}/members/${enc('adm@acme.example')}`, { role: 'owner' })).status).toBe(403);
    expect((await membersOf(h)).find((m) => m.email === 'own@acme.example')?.role).toBe('owner');
  });

  it('members and workers may leave on their own; the change is audited', async () => {
    const { h, o } = t;
    const m = h.as(await addMember(h, 'mem@acme.example', 'member'));
    const w = h.as(await addMember(h, 'wor@acme.example', 'worker'));
    expect((await m.delete(`${o}/members/${enc('wor@acme.example')}`)).status).toBe(403);
    expect((await w.delete(`${o}/members/${enc('wor@acme.example')}`)).status).toBe(200);
    expect((await m.delete(`${o}/members/${enc('mem@acme.example')}`)).status).toBe(200);
    expect((await auditOf(h, 'member.remove')).map((e) => `${e.actor}:${e.target}`)).toEqual(['wor@acme.example:wor@acme.example', 'mem@acme.example:mem@acme.example']);
    // Gone: their old token now sees acme as an outsider.
    expect((await m.get(o)).status).toBe(404);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('every user keeps an organization; the active organization', () => {
  const t = perTest();

  it('someone whose only organization removes them ends up owner of a new "Untitled Organization", which is active', async () => {
    const { h, o } = t;
    // Accepting by the superuser makes the user: acme is their only organization.
    expect((await invite(h.su, o, { email: 'vic@acme.example', role: 'member' })).status).toBe(201);
    expect((await h.su.post(`${o}/invites/${enc('vic@acme.example')}/accept`)).status).toBe(200);
    const vic = h.as(h.platform.identity.createToken('vic@acme.example', 'test').token);
    const before = await vic.get('/api/v1/me');
    expect(before.body).toMatchObject({ email: 'vic@acme.example', superuser: false, activeOrganization: 'acme', organizations: [{ name: 'acme', role: 'member' }] });

    expect((await h.su.delete(`${o}/members/${enc('vic@acme.example')}`)).status).toBe(200);
    const after = await vic.get('/api/v1/me');
    expect(after.status).toBe(200);
    expect(after.body.organizations).toHaveLength(1);
    const untitled = after.body.organizations[0] as { name: string; displayName: string; role: string };
    expect(untitled).toMatchObject({ displayName: 'Untitled Organization', role: 'owner' });
    expect(untitled.name).not.toBe('acme');
    expect(after.body.activeOrganization).toBe(untitled.name);
    const org = await vic.get(`/api/v1/orgs/${untitled.name}`);
    expect(org.status).toBe(200);
    expect(org.body).toMatchObject({ displayName: 'Untitled Organization', creator: 'vic@acme.example', plan: 'freemium' });
  });

  it('leaving on their own has the same outcome', async () => {
    const { h, o } = t;
    expect((await invite(h.su, o, { email: 'wes@acme.example', role: 'worker' })).status).toBe(201);
    expect((await h.su.post(`${o}/invites/${enc('wes@acme.example')}/accept`)).status).toBe(200);
    const wes = h.as(h.platform.identity.createToken('wes@acme.example', 'test').token);
    expect((await wes.delete(`${o}/members/${enc('wes@acme.example')}`)).status).toBe(200);
    const me = await wes.get('/api/v1/me');
    expect(me.body.organizations).toEqual([{ name: me.body.activeOrganization, displayName: 'Untitled Organization', role: 'owner' }]);
  });

  it('someone with another organization falls back to it; no new one is made', async () => {
    const { h, o } = t;
    const token = await addMember(h, 'xan@acme.example', 'admin'); // has an Untitled Organization from the token
    const xan = h.as(token);
    const own = (await xan.get('/api/v1/me')).body.organizations.find((x: { name: string }) => x.name !== 'acme').name as string;
    expect((await xan.put('/api/v1/me', { activeOrganization: 'acme' })).body.activeOrganization).toBe('acme');
    expect((await h.su.delete(`${o}/members/${enc('xan@acme.example')}`)).status).toBe(200);
    const me = await xan.get('/api/v1/me');
    expect(me.body.activeOrganization).toBe(own);
    expect(me.body.organizations.map((x: { name: string }) => x.name)).toEqual([own]);
  });

  it('GET/PUT /api/v1/me switches the active organization; 404 for one you are not in or that does not exist', async () => {
    const { h } = t;
    const yo = h.as(await addMember(h, 'yo@acme.example', 'member'));
    const me = await yo.get('/api/v1/me');
    expect(me.status).toBe(200);
    const names = (me.body.organizations as { name: string }[]).map((x) => x.name);
    expect(names).toContain('acme');
    expect(names).toHaveLength(2);
    const other = names.find((n) => n !== 'acme')!;

    const toAcme = await yo.put('/api/v1/me', { activeOrganization: 'acme' });
    expect(toAcme.status, toAcme.text).toBe(200);
    expect(toAcme.body.activeOrganization).toBe('acme');
    expect((await yo.get('/api/v1/me')).body.activeOrganization).toBe('acme');
    expect((await yo.put('/api/v1/me', { activeOrganization: other })).body.activeOrganization).toBe(other);

    // Someone else's Untitled Organization, and one that does not exist: both 404, nothing changes.
    const zed = h.platform.identity.createToken('zed@elsewhere.example', 'test');
    const zedOrg = (await h.as(zed.token).get('/api/v1/me')).body.activeOrganization as string;
    for (const target of [zedOrg, 'no-such-org']) {
      const r = await yo.put('/api/v1/me', { activeOrganization: target });
      expect(r.status, target).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
    expect((await yo.get('/api/v1/me')).body.activeOrganization).toBe(other);
    const missing = await yo.put('/api/v1/me', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.field).toBe('body');
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('pagination over 2,500 members', () => {
  let h: Harness;
  let o: string;
  const N = 2500;
  beforeAll(async () => {
    h = await startPlatform();
    o = `/api/v1/orgs/${h.org}`;
    // Shuffled insertion order, so a sorted listing is the server's doing.
    const emails = Array.from({ length: N }, (_, i) => `p${String((i * 7919) % N).padStart(5, '0')}@many.example`);
    seedMembers(h, emails, 'member');
  });
  afterAll(async () => h?.close());

  async function readAll(path: string, limit: number): Promise<{ pages: Res[]; items: unknown[] }> {
    const pages: Res[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const r: Res = await h.su.get(`${path}${sep}limit=${limit}${cursor ? `&cursor=${enc(cursor)}` : ''}`);
      expect(r.status, r.text.slice(0, 300)).toBe(200);
      pages.push(r);
      cursor = r.body.nextCursor;
      expect(pages.length).toBeLessThan(20);
    } while (cursor);
    return { pages, items: pages.flatMap((p) => p.body.items) };
  }

  it('limit=1000 gives 3 pages, sorted by email, no duplicates, all with the same stateVersion', async () => {
    const { pages, items } = await readAll(`${o}/members`, 1000);
    expect(pages.map((p) => p.body.items.length)).toEqual([1000, 1000, N + 1 - 2000]);
    expect(pages.map((p) => p.body.nextCursor === null)).toEqual([false, false, true]);
    const emails = (items as { email: string }[]).map((m) => m.email);
    expect(new Set(emails).size).toBe(N + 1);
    expect(emails).toEqual([...emails].sort());
    expect(emails).toContain(h.superEmail);
    const versions = new Set(pages.map((p) => p.body.stateVersion));
    expect(versions.size).toBe(1);
    expect([...versions][0]).toBe(await stateVersion(h));
  });

  it('the role filter pages too', async () => {
    const owners = await readAll(`${o}/members?role=owner`, 1000);
    expect((owners.items as { email: string }[]).map((m) => m.email)).toEqual([h.superEmail]);
    const members = await readAll(`${o}/members?role=member`, 1000);
    expect(members.items).toHaveLength(N);
  });

  it('accepted invites and the audit log page the same way', async () => {
    const invites = await readAll(`${o}/invites?status=accepted`, 1000);
    expect(invites.pages.map((p) => p.body.items.length)).toEqual([1000, 1000, 500]);
    const inviteEmails = (invites.items as { email: string }[]).map((i) => i.email);
    expect(new Set(inviteEmails).size).toBe(N);
    expect(inviteEmails).toEqual([...inviteEmails].sort());

    const audit = await readAll(`${o}/audit`, 1000);
    const ids = (audit.items as { id: number }[]).map((e) => e.id);
    expect(ids.length).toBe(1 + 2 * N); // org.create, then an invite.send and an invite.accept each
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(audit.pages.map((p) => p.body.stateVersion)).size).toBe(1);
  });

  it('a write between pages moves the stateVersion, so a client can tell its read was not consistent', async () => {
    const first = await h.su.get(`${o}/members?limit=1000`);
    await addMember(h, 'late-joiner@many.example', 'worker');
    const second = await h.su.get(`${o}/members?limit=1000&cursor=${enc(first.body.nextCursor)}`);
    expect(second.status).toBe(200);
    expect(second.body.stateVersion).toBeGreaterThan(first.body.stateVersion);
    expect(await stateVersion(h)).toBe(second.body.stateVersion);
  });

  it('limit must be 1..1000', async () => {
    for (const limit of ['0', '1001', '5000']) {
      const r = await h.su.get(`${o}/members?limit=${limit}`);
      expect(r.status, `limit=${limit}`).toBe(400);
      expect(r.body.error.details.field).toBe('limit');
    }
    for (const limit of ['-1', 'ten', '1.5', '10000']) {
      const r = await h.su.get(`${o}/members?limit=${enc(limit)}`);
      expect(r.status, `limit=${limit}`).toBe(400);
      expect(r.body.error.details.field).toMatch(/limit$/);
    }
    for (const path of ['invites', 'audit']) {
      expect((await h.su.get(`${o}/${path}?limit=0`)).status).toBe(400);
      expect((await h.su.get(`${o}/${path}?limit=1001`)).status).toBe(400);
    }
    const one = await h.su.get(`${o}/members?limit=1`);
    expect(one.body.items).toHaveLength(1);
    const dflt = await h.su.get(`${o}/members`);
    expect(dflt.body.items).toHaveLength(100);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('integrations: credentials never leave, only a fingerprint', () => {
  const CANARY = 'CANARY-6f1d2c-secret-value';
  const CANARY2 = 'CANARY-9a8b7c-rotated-value';
  let tmp: ReturnType<typeof tempDir>;
  let h: Harness;
  let o: string;
  /** Every response body this suite sees, to scan for the canaries. */
  const seen: string[] = [];
  let su: Client;

  beforeAll(async () => {
    tmp = tempDir();
    h = await startPlatform({ dbFile: join(tmp.dir, 'platform.db') });
    o = `/api/v1/orgs/${h.org}`;
    const record = (c: Client): Client => {
      const wrap =
        <A extends unknown[]>(f: (...a: A) => Promise<Res>) =>
        async (...a: A) => {
          const r = await f(...a);
          seen.push(r.text);
          return r;
        };
      return { token: c.token, request: wrap(c.request), get: wrap(c.get), post: wrap(c.post), patch: wrap(c.patch), put: wrap(c.put), delete: wrap(c.delete) };
    };
    su = record(h.su);
  });
  afterAll(async () => {
    await h?.close();
    tmp?.remove();
  });

  it('create, read, list, update, audit: keyed fingerprints only, shown to managers; the platform confirms values', async () => {
    const verify = async (c: Client, name: string, credentials: Record<string, string>) => c.post(`${o}/integrations/${name}/verify-credentials`, { credentials });
    const creds = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: CANARY };
    const created = await su.post(`${o}/integrations`, { name: 'raw', type: 's3', options: { bucket: 'raw-data', region: 'eu-west-1' }, credentials: creds });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ name: 'raw', type: 's3', options: { bucket: 'raw-data', region: 'eu-west-1' }, createdBy: h.superEmail });
    expect(Object.keys(created.body).sort()).toEqual(['createdAt', 'createdBy', 'credentialsFingerprint', 'id', 'name', 'options', 'type', 'updatedAt']);
    const fp1 = created.body.credentialsFingerprint as string;
    // Keyed by the platform: no published salt, so nobody can test a guessed secret against it offline.
    expect(fp1).toMatch(/^hmac-sha256-v2:[0-9a-f]{64}$/);
    expect((await verify(su, 'raw', creds)).body).toEqual({ match: true });
    expect((await verify(su, 'raw', { ...creds, secretAccessKey: 'other' })).body).toEqual({ match: false });

    const got = await su.get(`${o}/integrations/raw`);
    expect(got.status).toBe(200);
    expect(got.body.credentialsFingerprint).toBe(fp1);
    const listed = await su.get(`${o}/integrations`);
    expect(listed.body.items.map((i: { name: string; credentialsFingerprint: string }) => [i.name, i.credentialsFingerprint])).toEqual([['raw', fp1]]);
    expect(listed.body.stateVersion).toBe(await stateVersion(h));

    // Options only: the fingerprint stays.
    const opts = await su.patch(`${o}/integrations/raw`, { options: { bucket: 'raw-data-2' } });
    expect(opts.status, opts.text).toBe(200);
    expect(opts.body.options).toEqual({ bucket: 'raw-data-2' });
    expect(opts.body.credentialsFingerprint).toBe(fp1);

    // New credentials: a new fingerprint that matches them and not the old ones.
    const rotated = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: CANARY2 };
    const upd = await su.patch(`${o}/integrations/raw`, { credentials: rotated });
    expect(upd.status, upd.text).toBe(200);
    const fp2 = upd.body.credentialsFingerprint as string;
    expect(fp2).not.toBe(fp1);
    expect((await verify(su, 'raw', rotated)).body).toEqual({ match: true });
    expect((await verify(su, 'raw', creds)).body).toEqual({ match: false });
    expect((await su.get(`${o}/integrations/raw`)).body.credentialsFingerprint).toBe(fp2);

    // Without credentials there is no fingerprint.
    const bare = await su.post(`${o}/integrations`, { name: 'public', type: 'gcs', options: { bucket: 'open' } });
    expect(bare.status).toBe(201);
    expect(bare.body.credentialsFingerprint).toBeNull();
    // Same name again: 409.
    expect((await su.post(`${o}/integrations`, { name: 'raw', type: 's3', credentials: { secretAccessKey: CANARY } })).status).toBe(409);
    // A member reads them too, without the fingerprint, and may not ask whether values match.
    const member = await addMember(h, 'reader@acme.example', 'member');
    const asMember = await h.as(member).get(`${o}/integrations/raw`);
    seen.push(asMember.text);
    expect(asMember.body.credentialsFingerprint).toBeNull();
    expect((await h.as(member).get(`${o}/integrations`)).body.items[0].credentialsFingerprint).toBeNull();
    expect((await verify(h.as(member), 'raw', rotated)).status).toBe(403);

    const audit = await su.get(`${o}/audit?limit=1000`);
    const actions = (audit.body.items as { action: string }[]).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['integration.create', 'integration.update']));
    await su.get(`${o}/audit?action=integration.update`);
    await su.get(`${o}/members`);
    await su.get(o);

    // Delete, then it is gone.
    expect((await su.delete(`${o}/integrations/public`)).status).toBe(204);
    expect((await su.get(`${o}/integrations/public`)).status).toBe(404);

    expect(seen.length).toBeGreaterThan(10);
    for (const text of seen) {
      expect(text).not.toContain(CANARY);
      expect(text).not.toContain(CANARY2);
      expect(text).not.toContain('CANARY');
    }
  });

  it('the audit log in the database holds no credential values', () => {
    const rows = h.platform.db.prepare('SELECT action, details FROM audit').all() as { action: string; details: string }[];
    expect(rows.some((r) => r.action === 'integration.create')).toBe(true);
    expect(JSON.stringify(rows)).not.toContain('CANARY');
  });

  it('the SQLite files on disk never hold the credentials in plain text', () => {
    const file = h.dbFile;
    const bytes = [file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f));
    const all = Buffer.concat(bytes);
    // The scan sees the data (sanity): the integration's name and options are there.
    expect(all.includes(Buffer.from('raw-data-2'))).toBe(true);
    expect(all.includes(Buffer.from('AKIAEXAMPLE'))).toBe(false);
    expect(all.includes(Buffer.from(CANARY))).toBe(false);
    expect(all.includes(Buffer.from(CANARY2))).toBe(false);
    expect(all.includes(Buffer.from('CANARY'))).toBe(false);
    expect(h.platform.db.pragma('journal_mode', { simple: true })).toBe('wal');
  });
});

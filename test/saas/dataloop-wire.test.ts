import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataloopPlatform, openDataloop, type DataloopOptions } from '../../src/platform/dataloop/platform.js';
import { PlatformError } from '../../src/platform/types.js';
import { FakeDataloop, fakeJwt, type FakeOrg } from '../fakes/dataloop.js';
import { QUICK_RETRY } from './subjects.js';

/** Every wire call of the Dataloop adapter, checked against the fake's record of what it received. */

const OWNER = 'owner@acme.example';
const ROOT = 'root@dataloop.example';

let fake: FakeDataloop;
let org: FakeOrg;
let platform: DataloopPlatform | undefined;
const sleeps: number[] = [];

beforeEach(async () => {
  fake = await new FakeDataloop().start();
  org = fake.addOrg('Acme Vision', OWNER, 'freemium');
  fake.addMember(org, 'ann@acme.example', 'member', { firstName: 'Ann', lastName: 'Lee' });
  sleeps.length = 0;
});
afterEach(async () => {
  await platform?.close();
  platform = undefined;
  await fake.stop();
});

function open(token: string, opts: DataloopOptions & { refresh?: string } = {}): DataloopPlatform {
  platform = openDataloop(fake.base, token, opts.refresh, { retry: QUICK_RETRY, sleep: async (ms) => void sleeps.push(ms), ...opts });
  return platform;
}

const superuser = () => open(fake.token(ROOT, { superuser: true }));
const owner = () => open(fake.token(OWNER));
const api = (path: string) => `/api/v1${path}`;
const ref = () => ({ externalId: org.id });

describe('Dataloop: reading an organization', () => {
  it('finds it by name with GET /orgs (a superuser), then lists members and integrations: plain arrays, bearer token', async () => {
    const token = fake.token(ROOT, { superuser: true });
    const p = open(token);
    const state = await p.read('Acme Vision');
    expect(fake.server.log()).toEqual(['GET /api/v1/orgs', `GET ${api(`/orgs/${org.id}/members`)}`, `GET ${api(`/orgs/${org.id}/integrations`)}`]);
    for (const r of fake.requests) {
      expect(r.headers.authorization).toBe(`Bearer ${token}`);
      expect(r.headers.accept).toBe('application/json');
      expect(r.headers['content-type']).toBeUndefined();
      expect(r.raw).toBe('');
    }
    expect(state!.externalId).toBe(org.id);
    expect(state!.plan).toBe('freemium');
    expect(state!.creator).toBe(OWNER);
    expect(state!.invites.size).toBe(0);
    expect([...state!.members.values()].map((m) => `${m.email} ${m.role} ${m.firstName} ${m.creator}`)).toEqual([`${OWNER} owner  true`, 'ann@acme.example member Ann false']);
    expect(p.capabilities.organizations.plan).toBe(true);
  });

  it('by id (orgctl.dev/external-id) a superuser reads GET /orgs/{id}; an owner skips it, and may not manage the plan', async () => {
    const s = superuser();
    await s.read('acme', ref());
    expect(fake.server.log()).toEqual(['GET /api/v1/orgs', `GET ${api(`/orgs/${org.id}`)}`, `GET ${api(`/orgs/${org.id}/members`)}`, `GET ${api(`/orgs/${org.id}/integrations`)}`]);
    await s.close();

    fake.server.requests.length = 0;
    const p = owner();
    const state = await p.read('acme', ref());
    expect(fake.server.log()).toEqual(['GET /api/v1/orgs', `GET ${api(`/orgs/${org.id}/members`)}`, `GET ${api(`/orgs/${org.id}/integrations`)}`]);
    expect(fake.requests[0]!.status).toBe(403);
    expect(state!.name).toBe('acme');
    expect(p.capabilities.organizations.plan).toBe(false);
    expect(p.capabilities.why?.['spec.plan']).toMatch(/needs a Dataloop superuser token/);
  });

  it('says what to do when an owner names the organization only by name, or the name matches nothing', async () => {
    await expect(owner().read('acme')).rejects.toThrow(/cannot find organization "acme" on dataloop\+http:\/\/127\.0\.0\.1:\d+\/api\/v1 by name: that needs GET \/orgs, which Dataloop allows superusers only.*orgctl\.dev\/external-id/);
    await platform!.close();
    await expect(superuser().read('acme-vision')).rejects.toThrow(/no organization named "acme-vision".*a name differs only in case or punctuation: "Acme Vision" \(id [0-9a-f-]+\): set orgctl\.dev\/external-id/);
    fake.addOrg('Acme Vision', 'other@acme.example');
    await platform!.close();
    await expect(superuser().read('Acme Vision')).rejects.toThrow(/2 organizations are named "Acme Vision"/);
    await platform!.close();
    await expect(owner().read('acme', { externalId: 'no-such-id' })).rejects.toThrow(/no organization with id no-such-id.*cannot create organizations on Dataloop/);
  });

  it('the actor is the email GET /users/me answers', async () => {
    expect(await owner().actor()).toBe(OWNER);
    expect(fake.server.log()).toEqual(['GET /api/v1/orgs', 'GET /api/v1/users/me']);
  });

  it('members without an email are left alone, and the plan is told', async () => {
    const p = owner();
    const users = fake.users.get('ann@acme.example')!;
    users.email = '' as string; // the SDK's own sample shows members with email None
    const state = await p.read('acme', ref());
    expect(state!.members.has('ann@acme.example')).toBe(false);
    expect(state!.notes?.join('\n')).toMatch(/1 member\(s\) of dataloop\+.* have no email in the member list/);
  });
});

describe('Dataloop: writes, each as dtlpy sends it', () => {
  it('invites with POST /orgs/{id}/members {emails, role}, one call per role; JSON body, no Idempotency-Key', async () => {
    const p = owner();
    await p.read('acme', ref());
    const results = await p.invite('acme', [
      { email: 'a@acme.example', role: 'admin' },
      { email: 'b@acme.example', role: 'worker' },
      { email: 'c@acme.example', role: 'admin' },
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    const calls = fake.server.calls(`POST ${api(`/orgs/${org.id}/members`)}`);
    expect(calls.map((c) => c.body)).toEqual([
      { emails: ['a@acme.example', 'c@acme.example'], role: 'admin' },
      { emails: ['b@acme.example'], role: 'worker' },
    ]);
    for (const c of calls) {
      expect(c.headers['content-type']).toBe('application/json');
      expect(c.headers['idempotency-key']).toBeUndefined();
    }
    expect([...org.invites]).toEqual([
      ['a@acme.example', 'admin'],
      ['c@acme.example', 'admin'],
      ['b@acme.example', 'worker'],
    ]);
  });

  it('splits invites into batches of batchSize', async () => {
    const p = open(fake.token(OWNER), { batchSize: 2 });
    await p.read('acme', ref());
    await p.invite('acme', ['a', 'b', 'c', 'd', 'e'].map((x) => ({ email: `${x}@acme.example`, role: 'member' as const })));
    expect(fake.server.calls(`POST ${api(`/orgs/${org.id}/members`)}`).map((c) => (c.body as { emails: string[] }).emails.length)).toEqual([2, 2, 1]);
  });

  it('changes a role with PATCH /orgs/{id}/members {email, role}, one member a call; removes with DELETE .../members/{userId}', async () => {
    fake.addMember(org, 'bob@acme.example', 'admin');
    const p = owner();
    await p.read('acme', ref());
    expect(await p.updateMembers('acme', [{ email: 'ann@acme.example', role: 'admin' }, { email: 'bob@acme.example', role: 'member' }, { email: 'nobody@acme.example', role: 'member' }])).toEqual([
      { email: 'ann@acme.example', ok: true },
      { email: 'bob@acme.example', ok: true },
      { email: 'nobody@acme.example', ok: false, error: expect.stringMatching(/PATCH \/orgs\/[^:]+\/members: Member not found \(404\)/) },
    ]);
    expect(fake.server.calls(`PATCH ${api(`/orgs/${org.id}/members`)}`).map((c) => c.body)).toEqual([
      { email: 'ann@acme.example', role: 'admin' },
      { email: 'bob@acme.example', role: 'member' },
      { email: 'nobody@acme.example', role: 'member' },
    ]);
    const bobId = fake.users.get('bob@acme.example')!.id;
    expect(await p.removeMembers('acme', ['bob@acme.example'])).toEqual([{ email: 'bob@acme.example', ok: true }]);
    const del = fake.server.calls(`DELETE ${api(`/orgs/${org.id}/members/${bobId}`)}`);
    expect(del).toHaveLength(1);
    expect(del[0]!.raw).toBe('');
    expect(org.members.has('bob@acme.example')).toBe(false);
    // The creator cannot be removed: the platform's {message} comes back per person.
    expect(await p.removeMembers('acme', [OWNER])).toEqual([{ email: OWNER, ok: false, error: expect.stringMatching(/The organization creator cannot be removed \(400\)/) }]);
  });

  it('has no call to resend or cancel an invite, and says so per person', async () => {
    const p = owner();
    expect(await p.resendInvites('acme', [{ email: 'a@acme.example', role: 'member' }])).toEqual([{ email: 'a@acme.example', ok: false, error: expect.stringMatching(/cannot resend an invite/) }]);
    expect(await p.cancelInvites('acme', ['a@acme.example'])).toEqual([{ email: 'a@acme.example', ok: false, error: expect.stringMatching(/cannot cancel an invite/) }]);
    expect(fake.requests).toEqual([]);
  });

  it('changes the plan with PATCH /orgs/{id}/plan {plan} (superuser)', async () => {
    const p = superuser();
    await p.read('Acme Vision');
    await p.updateOrganization('Acme Vision', { plan: 'premium' });
    expect(fake.server.calls(`PATCH ${api(`/orgs/${org.id}/plan`)}`).map((c) => c.body)).toEqual([{ plan: 'premium' }]);
    expect(org.plan).toBe('premium');
    await expect(p.updateOrganization('Acme Vision', { displayName: 'X' })).rejects.toThrow(/no call that renames/);
    await expect(p.createOrganization('new', { displayName: 'new', plan: 'freemium' })).rejects.toThrow(/no call that creates organizations/);
  });

  it('switches the cache with the documented sequence, polling fs-cache?mode=get at 1, 2, 4... s until READY', async () => {
    fake.cachePolls = 3;
    const p = superuser();
    await p.read('Acme Vision');
    fake.server.requests.length = 0;
    await p.updateOrganization('Acme Vision', { cache: { enabled: true, podType: 'medium' } });
    expect(fake.requests.map((r) => `${r.method} ${r.path}?mode=${r.query.mode}`)).toEqual([
      'POST /api/v1/services/fs-cache?mode=apply-filestore',
      'POST /api/v1/services/fs-cache?mode=get',
      'POST /api/v1/services/fs-cache?mode=get',
      'POST /api/v1/services/fs-cache?mode=get',
      'POST /api/v1/services/fs-cache?mode=get',
      'POST /api/v1/services/fs-cache?mode=apply',
      'POST /api/v1/services/cache?mode=apply',
    ]);
    for (const r of fake.requests) expect(r.body).toEqual({ org: { name: 'Acme Vision', id: org.id }, runner: { podType: 'medium' } });
    expect(sleeps).toEqual([1000, 2000, 4000]);
    expect(org.cache).toEqual({ enabled: true, podType: 'medium' });

    fake.server.requests.length = 0;
    await p.updateOrganization('Acme Vision', { cache: { enabled: false } });
    expect(fake.requests.map((r) => `${r.path}?mode=${r.query.mode}`)).toEqual(['/api/v1/services/fs-cache?mode=destroy', '/api/v1/services/cache?mode=destroy']);
    expect(org.cache.enabled).toBe(false);
  });

  it('integrations: create with {type, name, options}, cross-account options by a following PATCH, update and delete by id', async () => {
    const p = owner();
    await p.read('acme', ref());
    await p.createIntegration('acme', { name: 'raw', type: 's3', options: {}, credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } });
    await p.createIntegration('acme', { name: 'cross', type: 'aws-cross', options: { roleArn: 'arn:aws:iam::1:role/r' } });
    await p.createIntegration('acme', { name: 'kv', type: 'key_value', options: {}, credentials: { key: 'TOKEN', value: 'v' } });
    await p.createIntegration('acme', { name: 'reg', type: 'private-registry', options: { server: 'ghcr.io', username: 'bot' }, credentials: { password: 'pw' } });
    const posts = fake.server.calls(`POST ${api(`/orgs/${org.id}/integrations`)}`).map((c) => c.body);
    expect(posts.slice(0, 3)).toEqual([
      { type: 's3', name: 'raw', options: { key: 'AK', secret: 'SK' } },
      { type: 'aws-cross', name: 'cross', options: {} },
      { type: 'key_value', name: 'kv', options: { key: 'TOKEN', value: 'v' } },
    ]);
    const reg = posts[3] as { options: { name: string; spec: { password: string } } };
    expect(reg.options.name).toBe('_json_key');
    expect(JSON.parse(Buffer.from(reg.options.spec.password, 'base64').toString())).toEqual({ auths: { 'ghcr.io': { username: 'bot', password: 'pw', auth: Buffer.from('bot:pw').toString('base64') } } });
    const cross = [...org.integrations.values()].find((i) => i.name === 'cross')!;
    expect(fake.server.calls(`PATCH ${api(`/orgs/${org.id}/integrations`)}`).map((c) => c.body)).toEqual([
      { integrationId: cross.id, credentials: { options: { roleArn: 'arn:aws:iam::1:role/r' }, type: 'aws-cross' } },
    ]);

    const state = await p.read('acme', ref());
    expect(state!.integrations.get('raw')).toEqual({ name: 'raw', type: 's3', options: {}, credentialsFingerprint: null });
    await p.updateIntegration('acme', { name: 'raw', type: 's3', options: {}, credentials: { key: 'AK2', secret: 'SK2' } });
    const raw = [...org.integrations.values()].find((i) => i.name === 'raw')!;
    expect(raw.options).toEqual({ key: 'AK2', secret: 'SK2' });
    await p.deleteIntegration('acme', 'raw');
    expect(fake.server.calls(`DELETE ${api(`/orgs/${org.id}/integrations/${raw.id}`)}`)).toHaveLength(1);

    await expect(p.createIntegration('acme', { name: 'x', type: 's3', options: {}, credentials: { accessKeyId: 'AK' } })).rejects.toThrow(/need the credential field secret or secretAccessKey$/);
    await expect(p.createIntegration('acme', { name: 'x', type: 's3', options: {}, credentials: { accessKeyId: 'AK', secretAccessKey: 'S', token: 'T' } })).rejects.toThrow(/take no credential field token/);
  });
});

describe('Dataloop: errors and tokens', () => {
  it('maps {message} errors with their status; 401, 403 and 404 are not retried', async () => {
    const p = open('not-a-known-token');
    const err = (await p.read('acme', ref()).catch((e: unknown) => e)) as PlatformError;
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.message).toBe('GET /orgs: Unauthorized (401)');
    expect(err.status).toBe(401);
    expect(fake.requests).toHaveLength(1);
  });

  it('retries a read after a 5xx and a 429; never retries a write after a 500, which may have been done', async () => {
    const p = owner();
    await p.read('acme', ref());
    fake.server.requests.length = 0;
    fake.server.failNext = { match: (r) => r.method === 'GET', reply: { status: 502, body: { message: 'bad gateway' } } };
    await p.read('acme', ref());
    expect(fake.requests.filter((r) => r.path.endsWith('/members')).map((r) => r.status)).toEqual([502, 200]);

    fake.server.failNext = { match: (r) => r.method === 'POST', reply: { status: 429, body: { message: 'slow down' } } };
    expect((await p.invite('acme', [{ email: 'z@acme.example', role: 'member' }]))[0]!.ok).toBe(true);
    expect(fake.server.calls(`POST ${api(`/orgs/${org.id}/members`)}`).map((r) => r.status)).toEqual([429, 200]);

    fake.server.failNext = { match: (r) => r.method === 'PATCH', reply: { status: 500, body: { message: 'boom' } } };
    const [r] = await p.updateMembers('acme', [{ email: 'ann@acme.example', role: 'admin' }]);
    expect(r!.ok).toBe(false);
    expect(r!.error).toMatch(/PATCH \/orgs\/[^:]+\/members: boom \(500\) \(the answer was lost: it may have been done/);
    expect(fake.server.calls(`PATCH ${api(`/orgs/${org.id}/members`)}`)).toHaveLength(1);
  });

  it('a write whose connection drops after the work is not sent again: it fails as ambiguous', async () => {
    const p = owner();
    await p.read('acme', ref());
    fake.server.dropAfterWork = (r) => r.method === 'POST';
    const results = await p.invite('acme', [{ email: 'new@acme.example', role: 'member' }]);
    expect(fake.server.calls(`POST ${api(`/orgs/${org.id}/members`)}`)).toHaveLength(1);
    expect(org.invites.get('new@acme.example')).toBe('member');
    expect(results[0]!.ok).toBe(false);
    expect(results[0]!.error).toMatch(/the answer was lost: it may have been done/);
  });

  it('renews a JWT with under 60 s left at POST /token?default, as dtlpy does, and uses the new one', async () => {
    const refresh = fake.refreshToken(OWNER);
    const expiring = fake.token(OWNER, { ttlSeconds: 30 });
    const p = open(expiring, { refresh });
    await p.read('acme', ref());
    const renewal = fake.requests[0]!;
    expect(`${renewal.method} ${renewal.path}`).toBe('POST /token');
    expect(renewal.query).toEqual({ default: '' });
    expect(renewal.body).toEqual({ type: 'refresh_token', refresh_token: refresh });
    expect(renewal.headers.authorization).toBeUndefined();
    const used = new Set(fake.requests.slice(1).map((r) => r.headers.authorization));
    expect(used.size).toBe(1);
    expect([...used][0]).not.toBe(`Bearer ${expiring}`);
    expect(fake.server.calls('POST /token')).toHaveLength(1);
  });

  it('an expiring JWT without a refresh token fails before any request, naming no token', async () => {
    const expiring = fake.token(OWNER, { ttlSeconds: 10 });
    const err = (await open(expiring).read('acme', ref()).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^the Dataloop token expires at \S+ .*set ORGCTL_REFRESH_TOKEN/);
    expect(err.message).not.toContain(expiring);
    expect(fake.requests).toEqual([]);
  });

  it('an opaque (non-JWT) token is sent as is; a token a header cannot hold is refused unshown', async () => {
    expect(() => open('bad token\nline')).toThrow(/holds characters a bearer token cannot; it is not shown/);
    const opaque = 'opaque-api-key';
    await open(opaque).read('acme', ref()).catch(() => undefined);
    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${opaque}`);
  });

  it('never puts a token in a message, even when the platform echoes it', async () => {
    const canary = fakeJwt({ exp: Math.floor(Date.now() / 1000) + 3600 }, 'CANARYSIGNATURE');
    const p = open(canary);
    fake.server.failNext = { match: () => true, reply: { status: 400, body: { message: `bad token ${canary}` } } };
    const err = (await p.read('acme', ref()).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe('GET /orgs: bad token [redacted] (400)');
  });
});

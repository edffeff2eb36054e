import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AngoPlatform, openAngo, type AngoOptions } from '../../src/platform/ango/platform.js';
import { PlatformError } from '../../src/platform/types.js';
import { FakeAngo, type FakeAngoOrg } from '../fakes/ango.js';
import { QUICK_RETRY } from './subjects.js';

/** Every wire call of the Ango Hub adapter, checked against the fake's record of what it received. */

const ADMIN = 'admin@acme.example';

let fake: FakeAngo;
let org: FakeAngoOrg;
let key: string;
let platform: AngoPlatform | undefined;

beforeEach(async () => {
  fake = await new FakeAngo().start();
  org = fake.addOrg(ADMIN);
  key = fake.apiKey(ADMIN, org);
});
afterEach(async () => {
  await platform?.close();
  platform = undefined;
  await fake.stop();
});

/** In-process and quick: the client's rate limit is tested on its own below, with the fake's window shortened. */
function open(opts: AngoOptions = {}, apiKey = key): AngoPlatform {
  platform = openAngo(fake.base, apiKey, { user: ADMIN, rateLimitPerMinute: 1_000_000, retry: QUICK_RETRY, ...opts });
  return platform;
}

const ref = () => ({ externalId: org.id });
const orgPath = () => `/v2/organization/${org.id}`;

describe('Ango Hub: reading an organization', () => {
  it('pages users and pending invites 100 at a time until a short page, then storages; the raw key in `apikey`', async () => {
    for (let i = 0; i < 249; i++) fake.addMember(org, `m${String(i).padStart(3, '0')}@acme.example`, i % 7 ? 'Member' : 'Admin');
    const p = open();
    const state = await p.read('acme', ref());
    expect(fake.requests.map((r) => `${r.method} ${r.path}?${new URLSearchParams(r.query).toString()}`)).toEqual([
      `GET ${orgPath()}/users?page=1&limit=100`,
      `GET ${orgPath()}/users?page=2&limit=100`,
      `GET ${orgPath()}/users?page=3&limit=100`,
      `GET ${orgPath()}/invites?status=pending&page=1&limit=100`,
      'GET /v2/storages?page=1&limit=100',
    ]);
    for (const r of fake.requests) {
      expect(r.headers.apikey).toBe(key);
      expect(r.headers.authorization).toBeUndefined();
      expect(r.raw).toBe('');
    }
    expect(state!.members.size).toBe(250);
    expect(state!.members.get('m001@acme.example')!.role).toBe('member');
    expect(state!.members.get('m000@acme.example')!.role).toBe('admin');
    expect(state!.externalId).toBe(org.id);
  });

  it('an exact multiple of 100 costs one more, empty page', async () => {
    for (let i = 0; i < 99; i++) fake.addMember(org, `m${i}@acme.example`, 'Member');
    await open().read('acme', ref());
    expect(fake.server.calls(`GET ${orgPath()}/users`).map((r) => r.query.page)).toEqual(['1', '2']);
  });

  it('compares organizationRole case-insensitively; a Guest is a worker, and the plan is told', async () => {
    fake.addMember(org, 'g@acme.example', 'Guest');
    fake.addMember(org, 'low@acme.example', 'member' as never); // lower-case, as the SDK sends roles
    const state = await open().read('acme', ref());
    expect(state!.members.get(ADMIN)!.role).toBe('admin');
    expect(state!.members.get('low@acme.example')!.role).toBe('member');
    expect(state!.members.get('g@acme.example')!.role).toBe('worker');
    expect(state!.notes?.join('\n')).toMatch(/1 guest\(s\) .* appear as role worker/);
  });

  it('an invite past its expiresAt is expired; others are pending', async () => {
    const p = open({ now: () => fake.now(), organization: org.id });
    await p.invite('acme', [{ email: 'old@acme.example', role: 'member' }]);
    fake.advance(8 * 24 * 3600 * 1000);
    await p.invite('acme', [{ email: 'new@acme.example', role: 'admin' }]);
    const state = await p.read('acme', ref());
    expect([...state!.invites.values()].map((i) => `${i.email} ${i.role} ${i.status}`).sort()).toEqual(['new@acme.example admin pending', 'old@acme.example member expired']);
  });

  it('storages of other organizations in the key\'s list are not this organization\'s', async () => {
    const other = fake.addOrg('x@other.example');
    fake.addMember(other, ADMIN, 'Admin');
    await open({ organization: org.id }).createIntegration('acme', { name: 'mine', type: 's3', options: { bucket: 'b' }, credentials: { accessKeyId: 'A', secretAccessKey: 'S' } });
    fake.storages.set('s-other', { _id: 's-other', name: 'theirs', type: 'aws', bucket: 't', organization: other.id, createdAt: 1, credentials: {} });
    const state = await platform!.read('acme');
    expect([...state!.integrations.values()]).toEqual([{ name: 'mine', type: 's3', options: { bucket: 'b' }, credentialsFingerprint: null }]);
  });
});

describe('Ango Hub: which organization', () => {
  it('takes the annotation, else the context, else a name that is an id; disagreement is an error', async () => {
    await open({ organization: org.id }).read('acme');
    expect(fake.requests[0]!.path).toBe(`${orgPath()}/users`);
    await platform!.close();
    await expect(open({ organization: org.id }).read('acme', { externalId: 'aaaaaaaaaaaaaaaaaaaaaaaa' })).rejects.toThrow(
      /organization "acme": its annotation orgctl.dev\/external-id says Ango organization a{24}, but the context names [0-9a-f]{24}; make them agree/,
    );
    await platform!.close();
    await expect(open().read('acme')).rejects.toThrow(/Ango Hub addresses organizations by id, and none is given: set metadata.annotations\["orgctl.dev\/external-id"\]/);
    await platform!.close();
    expect((await open().read(org.id))!.externalId).toBe(org.id);
  });

  it('refuses to map two manifest organizations onto one Ango organization', async () => {
    const p = open({ organization: org.id });
    await p.read('acme');
    await expect(p.read('globex')).rejects.toThrow(/organizations "acme" and "globex" both map to Ango organization/);
  });

  it('an unknown id is a 404 that says orgctl cannot create organizations there', async () => {
    await expect(open().read('acme', { externalId: 'bbbbbbbbbbbbbbbbbbbbbbbb' })).rejects.toThrow(/Ango Hub has no organization b{24}.*cannot create organizations there/);
  });
});

describe('Ango Hub: writes, each as the SDK sends it', () => {
  it('invites with POST .../invites {to, organizationRole, projectAssignments?}, one call per role and projects', async () => {
    const p = open();
    await p.read('acme', ref());
    const results = await p.invite('acme', [
      { email: 'a@acme.example', role: 'member' },
      { email: 'b@acme.example', role: 'admin' },
      { email: 'c@acme.example', role: 'member', projects: [{ project: 'p1', role: 'annotator' }, { project: 'p2', role: 'reviewer' }] },
      { email: 'd@acme.example', role: 'member' },
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    const calls = fake.server.calls(`POST ${orgPath()}/invites`);
    expect(calls.map((c) => c.body)).toEqual([
      { to: ['a@acme.example', 'd@acme.example'], organizationRole: 'member' },
      { to: ['b@acme.example'], organizationRole: 'admin' },
      { to: ['c@acme.example'], organizationRole: 'member', projectAssignments: [{ projectId: 'p1', projectRole: 'Labeler' }, { projectId: 'p2', projectRole: 'Reviewer' }] },
    ]);
    for (const c of calls) {
      expect(c.headers['content-type']).toBe('application/json');
      expect(c.headers['idempotency-key']).toBeUndefined();
    }
    expect(org.invites.get('c@acme.example')!.projectAssignments).toHaveLength(2);
  });

  it('resends as DELETE .../invites with a JSON body {invites: [email]}, then a new invite; cancels with the same DELETE', async () => {
    const p = open({ organization: org.id });
    await p.invite('acme', [{ email: 'a@acme.example', role: 'member' }]);
    const first = org.invites.get('a@acme.example')!._id;
    fake.server.requests.length = 0;
    expect(await p.resendInvites('acme', [{ email: 'a@acme.example', role: 'admin' }])).toEqual([{ email: 'a@acme.example', ok: true }]);
    expect(fake.server.log()).toEqual([`DELETE ${orgPath()}/invites`, `POST ${orgPath()}/invites`]);
    expect(fake.requests[0]!.body).toEqual({ invites: ['a@acme.example'] });
    expect(fake.requests[0]!.headers['content-type']).toBe('application/json');
    expect(org.invites.get('a@acme.example')!._id).not.toBe(first);
    expect(org.invites.get('a@acme.example')!.organizationRole).toBe('admin');

    expect(await p.cancelInvites('acme', ['a@acme.example'])).toEqual([{ email: 'a@acme.example', ok: true }]);
    expect(org.invites.size).toBe(0);
  });

  it('changes roles with POST .../users {users: [{email, organizationRole}]} and reads the per-email results', async () => {
    fake.addMember(org, 'm@acme.example', 'Member');
    const p = open({ organization: org.id });
    expect(await p.updateMembers('acme', [{ email: 'm@acme.example', role: 'admin' }, { email: 'ghost@acme.example', role: 'member' }, { email: 'w@acme.example', role: 'worker' }])).toEqual([
      { email: 'w@acme.example', ok: false, error: 'Ango Hub has no organization role worker' },
      { email: 'm@acme.example', ok: true },
      { email: 'ghost@acme.example', ok: false, error: 'Ango Hub: failed' },
    ]);
    expect(fake.server.calls(`POST ${orgPath()}/users`).map((c) => c.body)).toEqual([
      { users: [{ email: 'm@acme.example', organizationRole: 'admin' }, { email: 'ghost@acme.example', organizationRole: 'member' }] },
    ]);
    expect(org.members.get('m@acme.example')!.role).toBe('Admin');
  });

  it('removes with DELETE .../users and a JSON body; when the counts say some failed, reads the list to tell whose', async () => {
    fake.addMember(org, 'm@acme.example', 'Member');
    const p = open({ organization: org.id });
    expect(await p.removeMembers('acme', ['m@acme.example', ADMIN])).toEqual([
      { email: 'm@acme.example', ok: true },
      { email: ADMIN, ok: false, error: expect.stringMatching(/did not remove them \(it counted 1 failure/) },
    ]);
    const del = fake.server.calls(`DELETE ${orgPath()}/users`);
    expect(del.map((c) => c.body)).toEqual([{ users: ['m@acme.example', ADMIN] }]);
    expect(fake.server.log().at(-1)).toBe(`GET ${orgPath()}/users`);
  });

  it('creates an AWS storage with the API docs\' body, deletes it by id, and has no update', async () => {
    const p = open();
    await p.read('acme', ref());
    await p.createIntegration('acme', { name: 'raw', type: 's3', options: { bucket: 'acme-raw', region: 'eu-west-1' }, credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } });
    const post = fake.server.calls('POST /v2/storages');
    expect(post.map((c) => c.body)).toEqual([{ name: 'raw', type: 'aws', bucket: 'acme-raw', region: 'eu-west-1', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } }]);
    expect(post[0]!.status).toBe(201);
    const state = await p.read('acme', ref());
    expect(state!.integrations.get('raw')!.options).toEqual({ bucket: 'acme-raw', region: 'eu-west-1' });
    await expect(p.updateIntegration('acme', { name: 'raw', type: 's3', options: { bucket: 'other' } })).rejects.toThrow(/no storage update.*Give it a new name/);
    const id = [...fake.storages.keys()][0]!;
    await p.deleteIntegration('acme', 'raw');
    expect(fake.server.calls(`DELETE /v2/storages/${id}`)).toHaveLength(1);
    expect(fake.storages.size).toBe(0);
  });

  it('says so when Ango put a storage in the key\'s other organization', async () => {
    const other = fake.addOrg('x@other.example');
    fake.addMember(other, ADMIN, 'Admin');
    const p = open({}, fake.apiKey(ADMIN, other));
    await p.read('acme', ref());
    await expect(p.createIntegration('acme', { name: 'raw', type: 's3', options: { bucket: 'b' }, credentials: { accessKeyId: 'A', secretAccessKey: 'S' } })).rejects.toThrow(
      new RegExp(`storage "raw" was created in Ango organization ${other.id}, not ${org.id}: Ango puts a storage in the API key's organization`),
    );
  });

  it('writes to an organization it has not read need its id from somewhere', async () => {
    await expect(open().invite('acme', [{ email: 'a@acme.example', role: 'member' }])).rejects.toThrow(/Ango Hub addresses organizations by id, and none is given/);
    expect(fake.requests).toEqual([]);
  });

  it('has no organization creation or update', async () => {
    const p = open();
    await expect(p.createOrganization('acme', { displayName: 'a', plan: 'freemium' })).rejects.toThrow(/no call that creates organizations/);
    await expect(p.updateOrganization('acme', { plan: 'premium' })).rejects.toThrow(/no call that renames it or sets a plan/);
  });
});

describe('Ango Hub: errors, limits and keys', () => {
  it('maps the error envelope with its status: 401, 403, 404', async () => {
    const e401 = (await open({}, 'wrong-key').read('acme', ref()).catch((e: unknown) => e)) as PlatformError;
    expect(e401.message).toBe(`GET /v2/organization/${org.id}/users: Missing or invalid API key (401)`);
    expect(e401.status).toBe(401);
    await platform!.close();
    const member = 'm@acme.example';
    fake.addMember(org, member, 'Member');
    const e403 = (await open({}, fake.apiKey(member, org)).read('acme', ref()).catch((e: unknown) => e)) as PlatformError;
    expect(e403.message).toMatch(/Insufficient permissions \(403\)$/);
    await platform!.close();
    fake.server.requests.length = 0;
    await open().read('acme', ref());
    await expect(platform!.deleteIntegration('acme', 'nope')).rejects.toThrow(/storage "nope" of "acme" does not exist/);
    expect(fake.requests.filter((r) => r.status !== undefined && r.status >= 400)).toEqual([]);
  });

  it('retries reads after 5xx; a write after a 500 is not repeated and fails as possibly done', async () => {
    const p = open();
    fake.server.failNext = { match: (r) => r.method === 'GET', reply: { status: 500, body: { error: { statusCode: 500 }, message: 'oops' } } };
    await p.read('acme', ref());
    expect(fake.server.calls(`GET ${orgPath()}/users`).map((r) => r.status)).toEqual([500, 200]);
    fake.server.failNext = { match: (r) => r.method === 'POST', reply: { status: 500, body: { error: { statusCode: 500 }, message: 'oops' } } };
    const [r] = await p.invite('acme', [{ email: 'a@acme.example', role: 'member' }]);
    expect(r!.error).toMatch(/POST \/v2\/organization\/[0-9a-f]+\/invites: oops \(500\) \(the answer was lost: it may have been done/);
    expect(fake.server.calls(`POST ${orgPath()}/invites`)).toHaveLength(1);
  });

  it('a write whose connection drops after the work is not sent twice; the next read sees the invite', async () => {
    const p = open();
    await p.read('acme', ref());
    fake.server.dropAfterWork = (r) => r.method === 'POST' && r.path.endsWith('/invites');
    const [r] = await p.invite('acme', [{ email: 'a@acme.example', role: 'member' }]);
    expect(r!.ok).toBe(false);
    expect(r!.error).toMatch(/the answer was lost/);
    expect(fake.server.calls(`POST ${orgPath()}/invites`)).toHaveLength(1);
    expect((await p.read('acme', ref()))!.invites.get('a@acme.example')?.status).toBe('pending');
  });

  it('the fake answers 429 past its limit; a 429 is retried (it was not processed)', async () => {
    fake.rate = { limit: 2, windowMs: 60_000 };
    const p = open();
    const err = (await p.read('acme', ref()).catch((e: unknown) => e)) as PlatformError;
    // 2 allowed, then 429s (without Retry-After: none is documented) until the client's attempts run out.
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200, 429, 429, 429]);
    expect(fake.requests[2]!.raw).toBe('');
    expect(err.message).toMatch(/GET \/v2\/storages: Rate limit exceeded \(429\)/);
    expect(err.status).toBe(429);
    expect(fake.rejected).toBe(3);
  });

  it('the client limiter spaces requests so a window never holds more than the limit (window shortened, limit scaled alike)', async () => {
    // 20 requests per 1 s window is 1,200 a minute; the client keeps to 80% of it (a window of 20 leaves less
    // room for timing than one of 100, so the margin is wider than the adapter's 5%). 29 requests: more than a window.
    fake.rate = { limit: 20, windowMs: 1000 };
    for (let i = 0; i < 2600; i++) fake.addMember(org, `m${i}@acme.example`, 'Member');
    const p = openAngo(fake.base, key, { user: ADMIN, rateLimitPerMinute: 1200 * 0.8, retry: QUICK_RETRY });
    platform = p;
    await p.read('acme', ref());
    expect(fake.requests).toHaveLength(29);
    expect(fake.rejected).toBe(0);
  });

  it('never puts the key in a message, even when the platform echoes it', async () => {
    const p = open();
    fake.server.failNext = { match: () => true, reply: { status: 400, body: { message: `bad key ${key}` } } };
    const err = (await p.read('acme', ref()).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(`GET /v2/organization/${org.id}/users: bad key [redacted] (400)`);
  });

  it('keeps to the documented 100 a minute by default, with a margin', async () => {
    expect(openAngo(fake.base, key).capabilities.rateLimitPerMinute).toBe(100);
    await platform?.close();
  });
});

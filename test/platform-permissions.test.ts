/**
 * The role x operation permission matrix of the organization platform, every cell, over real HTTP.
 *
 * Actors: a second owner who is NOT a superuser (the init owner is a superuser and passes every check as an
 * owner, so it is only the last, reference row), an admin, a member, a worker, and an outsider (a user with
 * a token who is not in the organization: org-scoped calls answer 404 so they cannot learn what exists).
 *
 * Every cell is independent: its targets (emails, integration names, members to change) are fresh and made
 * by the superuser just before the call, so the order the cells run in does not matter. A refused call must
 * also leave the organization's state version where it was (nothing written).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, freshEmail, freshName, seedMembers, startPlatform, stateVersion, type Client, type Harness, type Res } from './helpers/platform.js';

type Actor = 'owner' | 'admin' | 'member' | 'worker' | 'outsider' | 'superuser';
const ACTORS: readonly Actor[] = ['owner', 'admin', 'member', 'worker', 'outsider', 'superuser'];

interface Operation {
  name: string;
  /** Whether a successful call writes (moves the organization's state version). */
  writes: boolean;
  /** Makes the cell's fresh targets, as the superuser; returns what `call` needs (a path). */
  setup?: (h: Harness) => Promise<string>;
  /** The call under test, made as the actor. */
  call: (h: Harness, c: Client, target: string) => Promise<Res>;
  /** Expected HTTP status per actor. */
  expect: Record<Actor, number>;
}

/** A fresh member of the organization with `role`, added by the superuser through the service. */
async function freshMember(h: Harness, role: 'owner' | 'admin' | 'member' | 'worker'): Promise<string> {
  const email = freshEmail(`target-${role}`);
  seedMembers(h, [email], role);
  return email;
}

async function freshIntegration(h: Harness): Promise<string> {
  const name = freshName('integ');
  const r = await h.su.post(`/api/v1/orgs/${h.org}/integrations`, { name, type: 's3', options: { bucket: 'b' }, credentials: { secret: 'x' } });
  if (r.status !== 201) throw new Error(`seed integration: ${r.status} ${r.text}`);
  return name;
}

const org = (h: Harness) => `/api/v1/orgs/${h.org}`;
const enc = encodeURIComponent;

const row = (owner: number, admin: number, member: number, worker: number, outsider: number, superuser: number): Record<Actor, number> => ({
  owner,
  admin,
  member,
  worker,
  outsider,
  superuser,
});

// prettier-ignore
const OPERATIONS: Operation[] = [
  //                                                    owner admin member worker outsider superuser
  { name: 'get org',                 writes: false, expect: row(200, 200, 200, 200, 404, 200),
    call: (h, c) => c.get(org(h)) },
  { name: 'list members',            writes: false, expect: row(200, 200, 200, 403, 404, 200),
    call: (h, c) => c.get(`${org(h)}/members`) },
  { name: 'list invites',            writes: false, expect: row(200, 200, 403, 403, 404, 200),
    call: (h, c) => c.get(`${org(h)}/invites`) },
  { name: 'invite member',           writes: true,  expect: row(201, 201, 403, 403, 404, 201),
    setup: async () => freshEmail('invitee'),
    call: (h, c, email) => c.post(`${org(h)}/invites`, { email, role: 'member' }) },
  { name: 'invite owner',            writes: true,  expect: row(201, 403, 403, 403, 404, 201),
    setup: async () => freshEmail('invitee'),
    call: (h, c, email) => c.post(`${org(h)}/invites`, { email, role: 'owner' }) },
  { name: "change a member's role",  writes: true,  expect: row(200, 200, 403, 403, 404, 200),
    setup: (h) => freshMember(h, 'member'),
    call: (h, c, email) => c.patch(`${org(h)}/members/${enc(email)}`, { role: 'worker' }) },
  { name: 'promote to owner',        writes: true,  expect: row(200, 403, 403, 403, 404, 200),
    setup: (h) => freshMember(h, 'member'),
    call: (h, c, email) => c.patch(`${org(h)}/members/${enc(email)}`, { role: 'owner' }) },
  { name: 'demote an owner',         writes: true,  expect: row(200, 403, 403, 403, 404, 200),
    setup: (h) => freshMember(h, 'owner'),
    call: (h, c, email) => c.patch(`${org(h)}/members/${enc(email)}`, { role: 'admin' }) },
  { name: 'remove a member',         writes: true,  expect: row(200, 200, 403, 403, 404, 200),
    setup: (h) => freshMember(h, 'member'),
    call: (h, c, email) => c.delete(`${org(h)}/members/${enc(email)}`) },
  { name: 'remove an owner',         writes: true,  expect: row(200, 403, 403, 403, 404, 200),
    setup: (h) => freshMember(h, 'owner'),
    call: (h, c, email) => c.delete(`${org(h)}/members/${enc(email)}`) },
  { name: 'rename (displayName)',    writes: true,  expect: row(200, 200, 403, 403, 404, 200),
    setup: async () => freshName('Acme Corp'),
    call: (h, c, displayName) => c.patch(org(h), { displayName }) },
  // Always a real change: an unchanged plan is a no-op that nobody is refused.
  { name: 'change plan',             writes: true,  expect: row(200, 403, 403, 403, 404, 200),
    setup: async (h) => ((await h.su.get(org(h))).body.plan === 'premium' ? 'freemium' : 'premium'),
    call: (h, c, plan) => c.patch(org(h), { plan }) },
  // Always a real change: a new pod type for an enabled cache.
  { name: 'cache apply',             writes: true,  expect: row(200, 200, 403, 403, 404, 200),
    setup: async (h) => {
      const cache = (await h.su.get(org(h))).body.cache as { enabled: boolean; podType: string | null };
      return cache.enabled && cache.podType === 'small' ? 'medium' : 'small';
    },
    call: (h, c, podType) => c.patch(org(h), { cache: { enabled: true, podType } }) },
  { name: 'list integrations',       writes: false, expect: row(200, 200, 200, 403, 404, 200),
    call: (h, c) => c.get(`${org(h)}/integrations`) },
  { name: 'create integration',      writes: true,  expect: row(201, 201, 403, 403, 404, 201),
    setup: async () => freshName('new-integ'),
    call: (h, c, name) => c.post(`${org(h)}/integrations`, { name, type: 'gcs', options: { bucket: 'g' }, credentials: { key: 'k' } }) },
  { name: 'update integration',      writes: true,  expect: row(200, 200, 403, 403, 404, 200),
    setup: (h) => freshIntegration(h),
    call: (h, c, name) => c.patch(`${org(h)}/integrations/${enc(name)}`, { options: { bucket: 'changed' } }) },
  { name: 'delete integration',      writes: true,  expect: row(204, 204, 403, 403, 404, 204),
    setup: (h) => freshIntegration(h),
    call: (h, c, name) => c.delete(`${org(h)}/integrations/${enc(name)}`) },
  { name: 'read audit',              writes: false, expect: row(200, 200, 403, 403, 404, 200),
    call: (h, c) => c.get(`${org(h)}/audit`) },
];

const CELLS = OPERATIONS.flatMap((op) => ACTORS.map((actor) => ({ name: op.name, actor, status: op.expect[actor], op })));

describe('permission matrix: role x operation', () => {
  let h: Harness;
  const clients = {} as Record<Actor, Client>;

  beforeAll(async () => {
    h = await startPlatform();
    clients.superuser = h.su;
    clients.owner = h.as(await addMember(h, 'owner2@acme.example', 'owner'));
    clients.admin = h.as(await addMember(h, 'admin@acme.example', 'admin'));
    clients.member = h.as(await addMember(h, 'member@acme.example', 'member'));
    clients.worker = h.as(await addMember(h, 'worker@acme.example', 'worker'));
    // An outsider: a real user (with their own Untitled Organization), not in acme.
    clients.outsider = h.as(h.platform.identity.createToken('outsider@elsewhere.example', 'test').token);
  });
  afterAll(async () => h?.close());

  it('the actors are who the matrix says they are', async () => {
    const me = async (a: Actor) => (await clients[a].get('/api/v1/me')).body as { superuser: boolean; organizations: { name: string; role: string }[] };
    for (const a of ['owner', 'admin', 'member', 'worker'] as const) {
      const m = await me(a);
      expect(m.superuser, a).toBe(false);
      expect(m.organizations.find((o) => o.name === 'acme')?.role, a).toBe(a);
    }
    const out = await me('outsider');
    expect(out.superuser).toBe(false);
    expect(out.organizations.map((o) => o.name)).not.toContain('acme');
    expect((await me('superuser')).superuser).toBe(true);
  });

  it('covers every operation for every actor', () => {
    expect(OPERATIONS).toHaveLength(18);
    expect(CELLS).toHaveLength(18 * ACTORS.length);
  });

  it.each(CELLS)('$name as $actor -> $status', async ({ actor, status, op }) => {
    const target = op.setup ? await op.setup(h) : '';
    const before = await stateVersion(h);
    const res = await op.call(h, clients[actor], target);
    expect(res.status, res.text).toBe(status);
    const after = await stateVersion(h);
    if (status >= 400) {
      expect(res.body).toEqual({
        error: { code: status === 404 ? 'not_found' : 'forbidden', message: expect.any(String), details: expect.any(Object) },
      });
      expect(after, 'a refused call writes nothing').toBe(before);
    } else if (op.writes) {
      expect(after, 'a write moves the state version').toBeGreaterThan(before);
    } else {
      expect(after, 'a read writes nothing').toBe(before);
    }
  });
});

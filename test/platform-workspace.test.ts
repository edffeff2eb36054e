import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/server/clock.js';
import { buildApp } from '../src/server/http/app.js';
import { openPlatform, type PlatformService } from '../src/server/platform.js';

interface Res {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

let platform: PlatformService;
let app: FastifyInstance;
let base = '';
let owner = ''; // owner@acme.example: created "acme" with `init`, so a platform superuser
const tokens: Record<string, string> = {};

async function call(token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = undefined;
  if ((res.headers.get('content-type') ?? '').startsWith('application/json') && text) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, body: parsed };
}

function expectError(res: Res, status: number, code: string, message?: RegExp): void {
  expect(res.status, res.text).toBe(status);
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(res.body.error.code).toBe(code);
  if (message) expect(res.body.error.message).toMatch(message);
}

/** A user with a token (and, like every new user, their own Untitled Organization). */
function user(email: string): string {
  tokens[email] = platform.identity.createToken(email, 'test').token;
  return tokens[email];
}

/** Into an organization through the real flow: an invite, accepted on their behalf by the superuser. */
async function join(org: string, email: string, role: string, inviter = owner, profile: Record<string, string> = {}): Promise<void> {
  const inv = await call(inviter, 'POST', `/api/v1/orgs/${org}/invites`, { email, role, ...profile });
  expect(inv.status, inv.text).toBe(201);
  const acc = await call(owner, 'POST', `/api/v1/orgs/${org}/invites/${encodeURIComponent(email)}/accept`);
  expect(acc.status, acc.text).toBe(200);
}

const names = (res: Res) => (res.body.items as { name: string }[]).map((p) => p.name).sort();

beforeAll(async () => {
  platform = openPlatform({ db: ':memory:', clock: new ManualClock() });
  owner = platform.identity.init({ org: 'acme', ownerEmail: 'owner@acme.example' }).token;
  app = buildApp(platform);
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  user('admin@acme.example');
  user('member@acme.example');
  user('worker@acme.example');
  user('provider@vendor.example');
  user('staff@vendor.example');
  user('outsider@else.example');
  await join('acme', 'admin@acme.example', 'admin');
  await join('acme', 'member@acme.example', 'member');
  await join('acme', 'worker@acme.example', 'worker');
  // A labeling-service provider: their own organization, with a member of staff.
  const vendor = await call(tokens['provider@vendor.example']!, 'POST', '/api/v1/orgs', { name: 'vendor' });
  expect(vendor.status, vendor.text).toBe(201);
  await join('vendor', 'staff@vendor.example', 'member', tokens['provider@vendor.example']);
});

afterAll(async () => {
  await app?.close();
  platform?.close();
});

describe('projects', () => {
  const ids: Record<string, number> = {};

  it('are created in the active organization, which PUT /me switches', async () => {
    const alpha = await call(owner, 'POST', '/api/v1/projects', { name: 'alpha' });
    expect(alpha.status, alpha.text).toBe(201);
    expect(alpha.body).toMatchObject({ name: 'alpha', organization: 'acme', payingOrganization: 'acme', createdBy: 'owner@acme.example', myRole: 'manager' });
    expect(alpha.body.members).toEqual([{ email: 'owner@acme.example', role: 'manager', firstName: '', lastName: '', external: false }]);
    ids.alpha = alpha.body.id;

    // The admin joined acme, but their active organization is still their own Untitled one.
    const admin = tokens['admin@acme.example']!;
    const me = await call(admin, 'GET', '/api/v1/me');
    expect(me.body.activeOrganization).not.toBe('acme');
    const scratch = await call(admin, 'POST', '/api/v1/projects', { name: 'scratch' });
    expect(scratch.status, scratch.text).toBe(201);
    expect(scratch.body.organization).toBe(me.body.activeOrganization);
    expect(scratch.body.payingOrganization).toBe(me.body.activeOrganization);
    ids.scratch = scratch.body.id;

    const switched = await call(admin, 'PUT', '/api/v1/me', { activeOrganization: 'acme' });
    expect(switched.status, switched.text).toBe(200);
    expect(switched.body.activeOrganization).toBe('acme');
    const beta = await call(admin, 'POST', '/api/v1/projects', { name: 'beta' });
    expect(beta.status, beta.text).toBe(201);
    expect(beta.body).toMatchObject({ organization: 'acme', payingOrganization: 'acme', createdBy: 'admin@acme.example' });
    ids.beta = beta.body.id;

    // Naming the organization overrides the active one.
    const gamma = await call(admin, 'POST', '/api/v1/projects', { name: 'gamma', organization: scratch.body.organization });
    expect(gamma.status, gamma.text).toBe(201);
    expect(gamma.body.organization).toBe(scratch.body.organization);
    ids.gamma = gamma.body.id;

    const audit = await call(owner, 'GET', '/api/v1/orgs/acme/audit?action=project.create');
    expect(audit.body.items.map((e: { target: string; actor: string }) => `${e.actor} ${e.target}`)).toEqual(['owner@acme.example alpha', 'admin@acme.example beta']);
  });

  it('are created only by owners and admins, with unique names per organization', async () => {
    expectError(await call(owner, 'POST', '/api/v1/projects', { name: 'alpha' }), 409, 'already_exists', /"alpha" already exists in "acme"/);
    const member = tokens['member@acme.example']!;
    expect((await call(member, 'PUT', '/api/v1/me', { activeOrganization: 'acme' })).status).toBe(200);
    expectError(await call(member, 'POST', '/api/v1/projects', { name: 'mine' }), 403, 'forbidden', /a member may not create projects in "acme"/);
    expectError(await call(tokens['worker@acme.example']!, 'POST', '/api/v1/projects', { name: 'w', organization: 'acme' }), 403, 'forbidden');
    expectError(await call(tokens['outsider@else.example']!, 'POST', '/api/v1/projects', { name: 'x', organization: 'acme' }), 404, 'not_found');
    expectError(await call(owner, 'POST', '/api/v1/projects', { name: 'x', organization: 'nope' }), 404, 'not_found');
    expectError(await call(owner, 'POST', '/api/v1/projects', { name: ' padded' }), 400, 'invalid_request');
  });

  it('are seen by owners/admins of their organization and by their members only', async () => {
    const admin = tokens['admin@acme.example']!;
    const member = tokens['member@acme.example']!;
    const worker = tokens['worker@acme.example']!;
    // Before any assignment, members and workers see nothing.
    expect((await call(member, 'GET', '/api/v1/projects')).body.items).toEqual([]);
    expect((await call(worker, 'GET', '/api/v1/projects')).body.items).toEqual([]);

    const add = await call(admin, 'POST', `/api/v1/projects/${ids.alpha}/members`, { email: 'Member@Acme.example', role: 'annotator' });
    expect(add.status, add.text).toBe(201);
    expect(add.body).toEqual({ email: 'member@acme.example', role: 'annotator', firstName: '', lastName: '', external: false });
    expect((await call(owner, 'POST', `/api/v1/projects/${ids.beta}/members`, { email: 'worker@acme.example', role: 'reviewer' })).status).toBe(201);

    expect(names(await call(owner, 'GET', '/api/v1/projects'))).toEqual(['alpha', 'beta', 'gamma', 'scratch']); // superuser
    expect(names(await call(admin, 'GET', '/api/v1/projects'))).toEqual(['alpha', 'beta', 'gamma', 'scratch']);
    const mine = await call(member, 'GET', '/api/v1/projects');
    expect(names(mine)).toEqual(['alpha']);
    expect(mine.body.items[0].myRole).toBe('annotator');
    expect(names(await call(worker, 'GET', '/api/v1/projects'))).toEqual(['beta']);
    expect((await call(tokens['outsider@else.example']!, 'GET', '/api/v1/projects')).body.items).toEqual([]);

    expect((await call(member, 'GET', `/api/v1/projects/${ids.alpha}`)).status).toBe(200);
    expectError(await call(member, 'GET', `/api/v1/projects/${ids.beta}`), 404, 'not_found');
    expectError(await call(member, 'GET', `/api/v1/projects/${ids.scratch}`), 404, 'not_found');
    expectError(await call(owner, 'GET', '/api/v1/projects/999999'), 404, 'not_found');
    expectError(await call(owner, 'GET', '/api/v1/projects/abc'), 404, 'not_found');

    // An annotator does not manage the project.
    expectError(await call(member, 'POST', `/api/v1/projects/${ids.alpha}/datasets`, { name: 'd' }), 403, 'forbidden', /a project annotator may not create datasets/);
    expectError(await call(member, 'POST', `/api/v1/projects/${ids.alpha}/members`, { email: 'worker@acme.example', role: 'annotator' }), 403, 'forbidden');

    // Anyone may leave; removal takes the project out of their list.
    const leave = await call(worker, 'DELETE', `/api/v1/projects/${ids.beta}/members/worker@acme.example`);
    expect(leave.status, leave.text).toBe(204);
    expect((await call(worker, 'GET', '/api/v1/projects')).body.items).toEqual([]);
    expectError(await call(admin, 'DELETE', `/api/v1/projects/${ids.beta}/members/worker@acme.example`), 404, 'not_found');
  });

  it('take datasets and tasks from managers and org owners/admins', async () => {
    const admin = tokens['admin@acme.example']!;
    const ds = await call(admin, 'POST', `/api/v1/projects/${ids.alpha}/datasets`, { name: 'images' });
    expect(ds.status, ds.text).toBe(201);
    expect(ds.body).toMatchObject({ name: 'images', active: false });
    expectError(await call(admin, 'POST', `/api/v1/projects/${ids.alpha}/datasets`, { name: 'images' }), 409, 'already_exists');

    const task = await call(admin, 'POST', `/api/v1/projects/${ids.alpha}/tasks`, { name: 'boxes', datasetId: ds.body.id, assignee: 'member@acme.example' });
    expect(task.status, task.text).toBe(201);
    expect(task.body).toMatchObject({ name: 'boxes', datasetId: ds.body.id, completion: 0, assignee: 'member@acme.example', active: true });
    expectError(
      await call(admin, 'POST', `/api/v1/projects/${ids.alpha}/tasks`, { name: 't', assignee: 'worker@acme.example' }),
      400,
      'invalid_request',
      /worker@acme\.example cannot be assigned/,
    );
    const betaDs = await call(admin, 'POST', `/api/v1/projects/${ids.beta}/datasets`, { name: 'other' });
    expectError(await call(admin, 'POST', `/api/v1/projects/${ids.alpha}/tasks`, { name: 't', datasetId: betaDs.body.id }), 400, 'invalid_request');
    expectError(await call(admin, 'POST', `/api/v1/projects/${ids.alpha}/tasks`, { name: 't', completion: 101 }), 400, 'invalid_request');

    const done = await call(admin, 'PATCH', `/api/v1/projects/${ids.alpha}/tasks/${task.body.id}`, { completion: 100 });
    expect(done.status, done.text).toBe(200);
    expect(done.body).toMatchObject({ completion: 100, active: false });
    expectError(await call(tokens['member@acme.example']!, 'PATCH', `/api/v1/projects/${ids.alpha}/tasks/${task.body.id}`, { completion: 50 }), 403, 'forbidden');
    expectError(await call(admin, 'PATCH', `/api/v1/projects/${ids.beta}/tasks/${task.body.id}`, { completion: 50 }), 404, 'not_found');

    const detail = await call(tokens['member@acme.example']!, 'GET', `/api/v1/projects/${ids.alpha}`);
    expect(detail.body.datasets).toEqual([expect.objectContaining({ name: 'images', active: false })]);
    expect(detail.body.tasks).toEqual([expect.objectContaining({ name: 'boxes', completion: 100, active: false })]);
    expect(detail.body.active).toBe(false);
  });

  describe('paying organization', () => {
    const provider = () => tokens['provider@vendor.example']!;
    const staff = () => tokens['staff@vendor.example']!;
    const put = (token: string, organization: string) => call(token, 'PUT', `/api/v1/projects/${ids.alpha}/paying-organization`, { organization });

    it('lets the client bring in a provider, who brings their own staff but no strangers', async () => {
      // An admin of the owning organization adds an outside user as manager (Dataloop's "labeling company").
      const added = await call(tokens['admin@acme.example']!, 'POST', `/api/v1/projects/${ids.alpha}/members`, { email: 'provider@vendor.example', role: 'manager' });
      expect(added.status, added.text).toBe(201);
      expect(added.body).toMatchObject({ email: 'provider@vendor.example', role: 'manager', external: true });
      expect(names(await call(provider(), 'GET', '/api/v1/projects'))).toEqual(['alpha']);
      expectError(await call(provider(), 'GET', `/api/v1/projects/${ids.beta}`), 404, 'not_found');

      // The provider (a project manager, owner of "vendor") adds vendor staff, and members of acme.
      expect((await call(provider(), 'POST', `/api/v1/projects/${ids.alpha}/members`, { email: 'staff@vendor.example', role: 'annotator' })).status).toBe(201);
      expect((await call(provider(), 'POST', `/api/v1/projects/${ids.alpha}/members`, { email: 'worker@acme.example', role: 'annotator' })).status).toBe(201);
      expectError(
        await call(provider(), 'POST', `/api/v1/projects/${ids.alpha}/members`, { email: 'outsider@else.example', role: 'annotator' }),
        403,
        'forbidden',
        /outsider@else\.example is not a member of "acme"/,
      );
      expectError(await call(provider(), 'POST', `/api/v1/projects/${ids.alpha}/members`, { email: 'nobody@else.example', role: 'annotator' }), 404, 'not_found');
    });

    it('is refused to non-managers, to managers who only are members of the target, and for unknown targets', async () => {
      expectError(await put(staff(), 'vendor'), 403, 'forbidden', /only a manager of project "alpha" \(its project owner\)/);
      expectError(await put(tokens['admin@acme.example']!, 'vendor'), 403, 'forbidden', /only a manager of project "alpha"/);

      // Promoted to manager (POST on an existing member changes the role: 200), still only a member of vendor.
      const promote = await call(provider(), 'POST', `/api/v1/projects/${ids.alpha}/members`, { email: 'staff@vendor.example', role: 'manager' });
      expect(promote.status, promote.text).toBe(200);
      expect(promote.body.role).toBe('manager');
      expectError(await put(staff(), 'vendor'), 403, 'forbidden', /a member of "vendor" may not put projects under its account \(needs owner or admin of "vendor"\)/);

      expectError(await put(provider(), 'nope'), 404, 'not_found', /organization "nope" not found/);
      // A manager outside the target organization learns nothing about it: the same 404 as an unknown one.
      const elsewhere = (await call(tokens['outsider@else.example']!, 'GET', '/api/v1/me')).body.activeOrganization as string;
      expectError(await put(staff(), elsewhere), 404, 'not_found', new RegExp(`organization "${elsewhere}" not found`));
      expect((await call(owner, 'GET', `/api/v1/projects/${ids.alpha}`)).body.payingOrganization).toBe('acme');
    });

    it('is set by a manager who administers the target, and back only by the owning organization', async () => {
      const set = await put(provider(), 'vendor');
      expect(set.status, set.text).toBe(200);
      expect(set.body).toMatchObject({ organization: 'acme', payingOrganization: 'vendor' });

      for (const [org, token] of [
        ['acme', owner],
        ['vendor', provider()],
      ] as const) {
        const audit = await call(token, 'GET', `/api/v1/orgs/${org}/audit?action=project.paying`);
        expect(audit.body.items).toHaveLength(1);
        expect(audit.body.items[0]).toMatchObject({ actor: 'provider@vendor.example', target: 'alpha', details: { organization: 'acme', from: 'acme', to: 'vendor' } });
      }

      expectError(await put(provider(), 'acme'), 403, 'forbidden', /only an owner or admin of "acme" may set project "alpha" back under its own account/);
      const back = await put(tokens['admin@acme.example']!, 'acme');
      expect(back.status, back.text).toBe(200);
      expect(back.body.payingOrganization).toBe('acme');
      const vendorAudit = await call(provider(), 'GET', '/api/v1/orgs/vendor/audit?action=project.paying');
      expect(vendorAudit.body.items.map((e: { details: { to: string } }) => e.details.to)).toEqual(['vendor', 'acme']);
    });
  });
});

describe('organization overview', () => {
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    expect((await call(owner, 'POST', '/api/v1/orgs', { name: 'stats' })).status).toBe(201);
    await join('stats', 'ann@stats.example', 'member', owner, { firstName: 'Ann', lastName: 'O"Neil, Jr' });
    await join('stats', 'bob@stats.example', 'worker', owner, { firstName: '=Bob' });
    await join('stats', 'admin@acme.example', 'admin');
    // One open invite, one that expires.
    expect((await call(owner, 'POST', '/api/v1/orgs/stats/invites', { email: 'pending@stats.example', role: 'member' })).status).toBe(201);
  });

  const create = async (path: string, body: unknown) => {
    const res = await call(owner, 'POST', path, body);
    expect(res.status, res.text).toBe(201);
    return res.body.id as number;
  };

  it('counts projects, datasets and tasks, with the active-task rules', async () => {
    ids.p1 = await create('/api/v1/projects', { name: 'p1', organization: 'stats' });
    ids.p2 = await create('/api/v1/projects', { name: 'p2', organization: 'stats' });
    ids.p3 = await create('/api/v1/projects', { name: 'p3', organization: 'stats' });
    ids.d1 = await create(`/api/v1/projects/${ids.p1}/datasets`, { name: 'd1' });
    ids.d2 = await create(`/api/v1/projects/${ids.p2}/datasets`, { name: 'd2' });
    ids.d3 = await create(`/api/v1/projects/${ids.p2}/datasets`, { name: 'd3' });
    expect((await call(owner, 'POST', `/api/v1/projects/${ids.p1}/members`, { email: 'ann@stats.example', role: 'annotator' })).status).toBe(201);
    expect((await call(owner, 'POST', `/api/v1/projects/${ids.p2}/members`, { email: 'bob@stats.example', role: 'annotator' })).status).toBe(201);
    // p1/d1: every task done, so neither is active. p2/d2: one task at 99%, so both are. d3 and p3: no tasks.
    ids.t1 = await create(`/api/v1/projects/${ids.p1}/tasks`, { name: 't1', datasetId: ids.d1, completion: 100, assignee: 'ann@stats.example' });
    ids.t2 = await create(`/api/v1/projects/${ids.p1}/tasks`, { name: 't2', datasetId: ids.d1, assignee: 'ann@stats.example' });
    expect((await call(owner, 'PATCH', `/api/v1/projects/${ids.p1}/tasks/${ids.t2}`, { completion: 100 })).status).toBe(200);
    ids.t3 = await create(`/api/v1/projects/${ids.p2}/tasks`, { name: 't3', datasetId: ids.d2, completion: 99, assignee: 'bob@stats.example' });

    const ov = await call(owner, 'GET', '/api/v1/orgs/stats/overview');
    expect(ov.status, ov.text).toBe(200);
    expect(ov.body).toEqual({
      organization: 'stats',
      projects: { total: 3, active: 1 },
      datasets: { total: 3, active: 1 },
      tasks: { total: 3, active: 1 },
      members: 4,
      pendingInvites: 1,
      stateVersion: expect.any(Number),
    });

    // Completing the last active task leaves nothing active.
    expect((await call(owner, 'PATCH', `/api/v1/projects/${ids.p2}/tasks/${ids.t3}`, { completion: 100 })).status).toBe(200);
    const after = await call(tokens['admin@acme.example']!, 'GET', '/api/v1/orgs/stats/overview');
    expect(after.status, after.text).toBe(200);
    expect(after.body).toMatchObject({ projects: { total: 3, active: 0 }, datasets: { total: 3, active: 0 }, tasks: { total: 3, active: 0 } });
    expect(after.body.stateVersion).toBeGreaterThan(ov.body.stateVersion);

    // An expired invite is not pending.
    expect((await call(owner, 'POST', '/api/v1/orgs/stats/invites', { email: 'late@stats.example', role: 'member', expiresInDays: 1 })).status).toBe(201);
    expect((await call(owner, 'GET', '/api/v1/orgs/stats/overview')).body.pendingInvites).toBe(2);
    (platform.ctx.clock as ManualClock).advance(2 * 86_400_000);
    expect((await call(owner, 'GET', '/api/v1/orgs/stats/overview')).body.pendingInvites).toBe(1);
  });

  it('is for owners and admins only', async () => {
    await join('stats', 'member@acme.example', 'member');
    await join('stats', 'worker@acme.example', 'worker');
    for (const path of ['/api/v1/orgs/stats/overview', '/api/v1/orgs/stats/overview/users', '/api/v1/orgs/stats/overview/users?format=csv']) {
      expectError(await call(tokens['member@acme.example']!, 'GET', path), 403, 'forbidden', /a member may not see organization statistics/);
      expectError(await call(tokens['worker@acme.example']!, 'GET', path), 403, 'forbidden');
      expectError(await call(tokens['outsider@else.example']!, 'GET', path), 404, 'not_found');
    }
  });

  it('gives per-member statistics as JSON and as RFC 4180 CSV', async () => {
    const res = await call(tokens['admin@acme.example']!, 'GET', '/api/v1/orgs/stats/overview/users');
    expect(res.status, res.text).toBe(200);
    const ownerSeen = res.body.items.find((u: { email: string }) => u.email === 'owner@acme.example').lastConnectionAt as string;
    const adminSeen = res.body.items.find((u: { email: string }) => u.email === 'admin@acme.example').lastConnectionAt as string;
    expect(ownerSeen).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(res.body.items).toEqual([
      { email: 'admin@acme.example', role: 'admin', name: '', lastConnectionAt: adminSeen, projects: 0, tasksAssigned: 0, tasksCompleted: 0 },
      { email: 'ann@stats.example', role: 'member', name: 'Ann O"Neil, Jr', lastConnectionAt: null, projects: 1, tasksAssigned: 2, tasksCompleted: 2 },
      { email: 'bob@stats.example', role: 'worker', name: '=Bob', lastConnectionAt: null, projects: 1, tasksAssigned: 1, tasksCompleted: 1 },
      { email: 'member@acme.example', role: 'member', name: '', lastConnectionAt: expect.any(String), projects: 0, tasksAssigned: 0, tasksCompleted: 0 },
      { email: 'owner@acme.example', role: 'owner', name: '', lastConnectionAt: ownerSeen, projects: 3, tasksAssigned: 0, tasksCompleted: 0 },
      { email: 'worker@acme.example', role: 'worker', name: '', lastConnectionAt: expect.any(String), projects: 0, tasksAssigned: 0, tasksCompleted: 0 },
    ]);
    // Reopening a task: bob has one assigned, none completed.
    expect((await call(owner, 'PATCH', `/api/v1/projects/${ids.p2}/tasks/${ids.t3}`, { completion: 40 })).status).toBe(200);

    const json = (await call(tokens['admin@acme.example']!, 'GET', '/api/v1/orgs/stats/overview/users')).body.items as { email: string; lastConnectionAt: string | null }[];
    const seen = (email: string) => json.find((u) => u.email === email)!.lastConnectionAt ?? '';
    const expected =
      '"email","role","name","lastConnectionAt","projects","tasksAssigned","tasksCompleted"\r\n' +
      `"admin@acme.example","admin","","${seen('admin@acme.example')}","0","0","0"\r\n` +
      '"ann@stats.example","member","Ann O""Neil, Jr","","1","2","2"\r\n' +
      `"bob@stats.example","worker","'=Bob","","1","1","0"\r\n` +
      `"member@acme.example","member","","${seen('member@acme.example')}","0","0","0"\r\n` +
      `"owner@acme.example","owner","","${seen('owner@acme.example')}","3","0","0"\r\n` +
      `"worker@acme.example","worker","","${seen('worker@acme.example')}","0","0","0"\r\n`;

    for (const [query, headers] of [
      ['?format=csv', {}],
      ['', { accept: 'text/csv' }],
    ] as const) {
      const csv = await call(owner, 'GET', `/api/v1/orgs/stats/overview/users${query}`, undefined, headers);
      expect(csv.status, csv.text).toBe(200);
      expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(csv.headers.get('content-disposition')).toBe('attachment; filename="stats-users.csv"');
      expect(csv.text).toBe(expected);
    }
    // format=json wins over the Accept header; unknown formats and parameters are refused.
    const forced = await call(owner, 'GET', '/api/v1/orgs/stats/overview/users?format=json', undefined, { accept: 'text/csv' });
    expect(forced.headers.get('content-type')).toMatch(/^application\/json/);
    expectError(await call(owner, 'GET', '/api/v1/orgs/stats/overview/users?format=xml'), 400, 'invalid_request');
    expectError(await call(owner, 'GET', '/api/v1/orgs/stats/overview/users?bogus=1'), 400, 'invalid_request');
  });
});

describe('groups', () => {
  const admin = () => tokens['admin@acme.example']!;

  it('are listed by owners, admins and members, not workers or outsiders', async () => {
    const list = await call(tokens['member@acme.example']!, 'GET', '/api/v1/orgs/acme/groups');
    expect(list.status, list.text).toBe(200);
    expect(list.body).toEqual({ items: [], stateVersion: expect.any(Number) });
    expectError(await call(tokens['worker@acme.example']!, 'GET', '/api/v1/orgs/acme/groups'), 403, 'forbidden', /a worker may not see groups/);
    expectError(await call(tokens['outsider@else.example']!, 'GET', '/api/v1/orgs/acme/groups'), 404, 'not_found');
  });

  it('are changed by owners and admins, with members of the organization only', async () => {
    const member = tokens['member@acme.example']!;
    expectError(await call(member, 'POST', '/api/v1/orgs/acme/groups', { name: 'labelers' }), 403, 'forbidden', /a member may not create groups/);
    expectError(await call(tokens['worker@acme.example']!, 'POST', '/api/v1/orgs/acme/groups', { name: 'labelers' }), 403, 'forbidden');

    const created = await call(admin(), 'POST', '/api/v1/orgs/acme/groups', { name: 'labelers', description: 'first shift' });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toEqual({ name: 'labelers', description: 'first shift', members: [], createdAt: expect.any(String) });
    expectError(await call(owner, 'POST', '/api/v1/orgs/acme/groups', { name: 'labelers' }), 409, 'already_exists');

    const set = await call(admin(), 'PUT', '/api/v1/orgs/acme/groups/labelers/members', { emails: ['worker@acme.example', 'Member@acme.example', 'member@acme.example'] });
    expect(set.status, set.text).toBe(200);
    expect(set.body.members).toEqual(['member@acme.example', 'worker@acme.example']);

    const bad = await call(admin(), 'PUT', '/api/v1/orgs/acme/groups/labelers/members', { emails: ['member@acme.example', 'staff@vendor.example'] });
    expectError(bad, 400, 'invalid_request', /staff@vendor\.example is not a member of "acme"/);
    expect(bad.body.error.details).toEqual({ field: 'emails', emails: ['staff@vendor.example'] });
    expectError(await call(member, 'PUT', '/api/v1/orgs/acme/groups/labelers/members', { emails: [] }), 403, 'forbidden');
    expect((await call(member, 'GET', '/api/v1/orgs/acme/groups')).body.items[0].members).toEqual(['member@acme.example', 'worker@acme.example']);

    expectError(await call(member, 'PATCH', '/api/v1/orgs/acme/groups/labelers', { description: 'x' }), 403, 'forbidden');
    const renamed = await call(admin(), 'PATCH', '/api/v1/orgs/acme/groups/labelers', { name: 'night shift', description: 'second shift' });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'night shift', description: 'second shift', members: ['member@acme.example', 'worker@acme.example'] });
    expectError(await call(admin(), 'PATCH', '/api/v1/orgs/acme/groups/labelers', { description: 'x' }), 404, 'not_found');
    expectError(await call(admin(), 'PATCH', '/api/v1/orgs/acme/groups/night%20shift', {}), 400, 'invalid_request');

    expectError(await call(member, 'DELETE', '/api/v1/orgs/acme/groups/night%20shift'), 403, 'forbidden');
    expect((await call(admin(), 'DELETE', '/api/v1/orgs/acme/groups/night%20shift')).status).toBe(204);
    expect((await call(member, 'GET', '/api/v1/orgs/acme/groups')).body.items).toEqual([]);
    expectError(await call(admin(), 'DELETE', '/api/v1/orgs/acme/groups/night%20shift'), 404, 'not_found');

    const audit = await call(owner, 'GET', '/api/v1/orgs/acme/audit');
    const actions = (audit.body.items as { action: string }[]).map((e) => e.action).filter((a) => a.startsWith('group.'));
    expect(actions).toEqual(['group.create', 'group.members', 'group.update', 'group.delete']);
  });
});

describe('request bodies', () => {
  it('every workspace route rejects unknown fields with 400 and the error shape', async () => {
    const routes: [string, string, Record<string, unknown>][] = [
      ['POST', '/api/v1/projects', { name: 'n' }],
      ['PUT', '/api/v1/projects/1/paying-organization', { organization: 'acme' }],
      ['POST', '/api/v1/projects/1/members', { email: 'a@b.example', role: 'annotator' }],
      ['POST', '/api/v1/projects/1/datasets', { name: 'n' }],
      ['POST', '/api/v1/projects/1/tasks', { name: 'n' }],
      ['PATCH', '/api/v1/projects/1/tasks/1', { completion: 1 }],
      ['POST', '/api/v1/orgs/acme/groups', { name: 'n' }],
      ['PATCH', '/api/v1/orgs/acme/groups/n', { description: 'd' }],
      ['PUT', '/api/v1/orgs/acme/groups/n/members', { emails: [] }],
    ];
    const before = (await call(owner, 'GET', '/api/v1/orgs/acme')).body.stateVersion as number;
    for (const [method, path, body] of routes) {
      const res = await call(owner, method, path, { ...body, bogus: 1 });
      expectError(res, 400, 'invalid_request', /unknown field "bogus"/);
      expect(res.body.error.details).toEqual({ field: 'body.bogus' });
    }
    expect((await call(owner, 'GET', '/api/v1/orgs/acme')).body.stateVersion).toBe(before);
  });
});

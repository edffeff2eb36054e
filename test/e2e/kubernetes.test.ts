import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import type { Obj } from '../kube/status.js';
import { ROOT, tempDir } from './cli.js';
import { cluster, integration, kubeController, membership, organization, type Cluster } from './kube-harness.js';
import { until, type Running } from './proc.js';
import { serve, type Served } from './server.js';

// `orgctl controller --kubernetes` as a real child process, against the kube-API test server and
// `orgctl platform serve`.

const started: Running[] = [];
afterAll(async () => {
  for (const r of started) if (r.child.exitCode === null) r.child.kill('SIGKILL');
});

/** The built-in platform over its REST API, as the test sees it. */
function platformApi(server: { url: string; token: string }) {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${server.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, unknown> };
  };
  const list = async (path: string) => {
    const r = await call('GET', path);
    return r.status === 200 ? Object.fromEntries((r.body.items as { email: string; role: string }[]).map((m) => [m.email, m.role])) : {};
  };
  return {
    call,
    members: (org: string) => list(`/orgs/${org}/members?limit=1000`),
    invites: (org: string) => list(`/orgs/${org}/invites?status=open&limit=1000`),
    integrations: async (org: string) => {
      const r = await call('GET', `/orgs/${org}/integrations`);
      return r.status === 200 ? (r.body.items as { name: string }[]).map((i) => i.name).sort() : [];
    },
    matches: async (org: string, name: string, credentials: Record<string, string>) => {
      const r = await call('POST', `/orgs/${org}/integrations/${name}/verify-credentials`, { credentials });
      return r.body?.match === true;
    },
  };
}

const OWNER: [string, string] = ['ops@platform.example', 'owner'];
const people = (n: number, prefix = 'p'): [string, string][] => Array.from({ length: n }, (_, i): [string, string] => [`${prefix}${i}@acme.example`, 'member']);
const cond = (o: Obj, type: string) => ((o.status as Obj).conditions as Obj[]).find((c) => c.type === type)!;

describe('orgctl controller --kubernetes against orgctl platform serve', () => {
  let server: Served;
  let c: Cluster;
  const dir = tempDir();
  afterAll(async () => {
    await server?.stop();
    await c?.stop();
  });

  it('converges, reports status, applies spec edits and rotated Secrets, refuses what it must, deletes by policy', { timeout: 240_000 }, async () => {
    // Cancelling invites of "fail" always fails: its deletion cannot be done, and must be retried.
    server = await serve(dir, { extraArgs: ['--faults', 'POST /api/v1/orgs/fail/invites/batch-cancel: 5xx=1'] });
    c = await cluster(dir);
    const p = platformApi(server);
    await c.secret('kv-credentials', { token: 'CANARY-first-value' });
    await c.create(organization('acme', { displayName: 'Acme', members: { policy: 'authoritative' }, integrations: { policy: 'authoritative' } }));
    await c.create(membership('acme-people', 'acme', [OWNER, ...people(6)]));
    await c.create(membership('acme-extra', 'acme', [['extra@acme.example', 'worker']]));
    await c.create(integration('acme-kv', 'acme', { name: 'kv', type: 'key_value', credentialsRef: { secretName: 'kv-credentials', keys: { value: 'token' } } }));
    const ctl = kubeController(dir, c, { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token }, ['--resync', '2s', '--max-removals', '3'], started);
    onTestFailed(() => console.log(ctl.stderr().split('\n').slice(-60).join('\n')));
    await ctl.url();

    // Converges; every object says Ready for its generation; finalizers are on.
    const org = await c.waitFor('Organization', 'acme', 'Ready', 'True');
    expect(cond(org, 'Synced').status).toBe('True');
    expect((org.metadata as Obj).finalizers).toEqual(['orgctl.dev/finalizer']);
    expect((org.status as Obj).summary).toMatchObject({ membersDeclared: 8, members: 1, pendingInvites: 7 });
    const m = await c.waitFor('Membership', 'acme-people', 'Ready', 'True');
    expect((m.status as Obj).applied).toBe(true);
    expect((m.status as Obj).people).toEqual({ declared: 7, members: 1, pendingInvites: 6 });
    const kv = await c.waitFor('Integration', 'acme-kv', 'Ready', 'True');
    expect(((kv.status as Obj).credentialsSecret as Obj).name).toBe('kv-credentials');
    expect(Object.keys(await p.invites('acme')).sort()).toEqual(['extra@acme.example', ...people(6).map(([e]) => e)].sort());
    expect(await p.integrations('acme')).toEqual(['kv']);
    expect(await p.matches('acme', 'kv', { value: 'CANARY-first-value' })).toBe(true);

    // A spec edit bumps the generation and is applied; observedGeneration follows.
    const edited = await c.patch('Membership', 'acme-people', { spec: { members: [{ email: OWNER[0], role: 'owner' }, ...people(6).map(([email], i) => ({ email, role: i === 0 ? 'admin' : 'member' }))] } });
    expect((edited.metadata as Obj).generation).toBe(2);
    await c.waitFor('Membership', 'acme-people', 'Ready', 'True');
    await until(async () => (await p.invites('acme'))['p0@acme.example'] === 'admin', 'the role change to be applied');

    // A rotated Secret re-applies its Integration.
    await c.secret('kv-credentials', { token: 'CANARY-rotated-value' });
    await until(() => p.matches('acme', 'kv', { value: 'CANARY-rotated-value' }), 'the rotated credentials to be applied');

    // A missing Secret: SecretNotFound, naming it, never a value.
    await c.create(integration('acme-missing', 'acme', { name: 'missing', type: 'key_value', credentialsRef: { secretName: 'no-such-secret' } }));
    const missing = await c.waitFor('Integration', 'acme-missing', 'Synced', 'False', 'SecretNotFound');
    expect(cond(missing, 'Synced').message).toMatch(/Secret team-a\/no-such-secret not found/);
    expect(await c.remove('Integration', 'acme-missing')).toBe(200);
    await c.gone('Integration', 'acme-missing');

    // A Membership naming an Organization that does not exist: InvalidReference, never acted on.
    await c.create(membership('stray', 'nope', [['stray@acme.example', 'member']]));
    const stray = await c.waitFor('Membership', 'stray', 'Ready', 'False', 'InvalidReference');
    expect(cond(stray, 'Ready').message).toMatch(/Organization "nope" not found in namespace team-a/);

    // An invalid object (a person declared with two roles) is reported and never acted on; the rest of its
    // organization waits at its last valid declaration.
    await c.create(membership('acme-conflict', 'acme', [['p1@acme.example', 'admin'], ['new@acme.example', 'member']]));
    const conflict = await c.waitFor('Membership', 'acme-conflict', 'Ready', 'False', 'InvalidSpec');
    expect(cond(conflict, 'Ready').message).toMatch(/spec\.members\[0\]\.role: p1@acme\.example is declared in organization "acme" with role "admin" here and with role "member" at Membership team-a\/acme-people/);
    await c.waitFor('Organization', 'acme', 'Synced', 'False', 'Blocked');
    const resyncs = () => (ctl.stderr().match(/acme: in sync/g) ?? []).length;
    const seen = resyncs();
    await until(() => resyncs() >= seen + 2, 'resyncs on the last valid declaration');
    expect(await p.invites('acme')).not.toHaveProperty('new@acme.example');
    expect((await p.invites('acme'))['p1@acme.example']).toBe('member');
    expect(await c.remove('Membership', 'acme-conflict')).toBe(200);
    await c.gone('Membership', 'acme-conflict');
    await c.waitFor('Organization', 'acme', 'Ready', 'True');

    // A guard trip: removing 4 people is more than --max-removals 3: status says so, and nothing is written.
    const before = await p.invites('acme');
    await c.patch('Membership', 'acme-people', { spec: { members: [{ email: OWNER[0], role: 'owner' }, ...people(2).map(([email]) => ({ email }))] } });
    const tripped = await c.waitFor('Organization', 'acme', 'Synced', 'False', 'GuardTripped');
    expect(cond(tripped, 'Synced').message).toMatch(/guard max-removals tripped: .*--max-removals/);
    // The Membership's status is written after the Organization's: wait for it rather than race it.
    await until(async () => ((await c.get('Membership', 'acme-people'))?.status as { applied?: boolean } | undefined)?.applied === false, 'the Membership to say it is not applied');
    expect(await p.invites('acme')).toEqual(before);
    await c.patch('Membership', 'acme-people', { spec: { members: [{ email: OWNER[0], role: 'owner' }, ...people(6).map(([email], i) => ({ email, role: i === 0 ? 'admin' : 'member' }))] } });
    await c.waitFor('Organization', 'acme', 'Ready', 'True');

    // Deleting a Membership of an authoritative Organization removes its people, then releases it.
    expect(await c.remove('Membership', 'acme-extra')).toBe(200);
    await c.gone('Membership', 'acme-extra');
    expect(await p.invites('acme')).not.toHaveProperty('extra@acme.example');

    // Orphan: the Organization goes at once; the platform keeps everything.
    await c.create(organization('orph', { deletionPolicy: 'Orphan' }));
    await c.create(membership('orph-people', 'orph', [OWNER, ['o1@orph.example', 'member']]));
    await c.waitFor('Organization', 'orph', 'Ready', 'True');
    expect(await c.remove('Organization', 'orph')).toBe(200);
    await c.gone('Organization', 'orph');
    expect(await p.invites('orph')).toEqual({ 'o1@orph.example': 'member' });

    // Delete: what it declared is removed from the platform before the Organization goes.
    await c.create(organization('gone', { deletionPolicy: 'Delete' }));
    await c.create(membership('gone-people', 'gone', [OWNER, ['g1@gone.example', 'member']]));
    await c.create(integration('gone-kv', 'gone', { name: 'kv', type: 'key_value', credentialsRef: { secretName: 'kv-credentials', keys: { value: 'token' } } }));
    await c.waitFor('Organization', 'gone', 'Ready', 'True');
    await c.waitFor('Integration', 'gone-kv', 'Ready', 'True');
    expect(await p.integrations('gone')).toEqual(['kv']);
    for (const [kind, name] of [['Organization', 'gone'], ['Membership', 'gone-people'], ['Integration', 'gone-kv']]) expect(await c.remove(kind!, name!)).toBe(200);
    await c.gone('Organization', 'gone');
    await c.gone('Membership', 'gone-people');
    expect(await p.invites('gone')).toEqual({});
    expect(await p.integrations('gone')).toEqual([]);

    // A platform failure during deletion keeps the finalizer, says so, and retries.
    await c.create(organization('fail', { deletionPolicy: 'Delete' }));
    await c.create(membership('fail-people', 'fail', [OWNER, ['f1@fail.example', 'member']]));
    await c.waitFor('Organization', 'fail', 'Ready', 'True');
    expect(await c.remove('Organization', 'fail')).toBe(200);
    await until(async () => ['ApplyFailed', 'ReconcileError'].includes(String((await c.condition('Organization', 'fail', 'Synced'))?.reason)), 'the failed deletion to show', 90_000);
    const held = (await c.get('Organization', 'fail'))!;
    expect((held.metadata as Obj).deletionTimestamp).toBeTruthy();
    expect((held.metadata as Obj).finalizers).toEqual(['orgctl.dev/finalizer']);
    expect(await p.invites('fail')).toEqual({ 'f1@fail.example': 'member' });
    // Retried with backoff; the same failure again raises the count of one Event (no event storm).
    const failEvents = () => c.kube.objects('v1', 'events', 'team-a').filter((e) => (e.involvedObject as Obj).name === 'fail' && e.type === 'Warning');
    await until(() => failEvents().some((e) => (e.count as number) >= 2), 'the failure to be retried', 90_000);
    expect(new Set(failEvents().map((e) => `${e.reason} ${e.message}`)).size).toBe(failEvents().length);

    // Events were recorded for what was applied; no secret anywhere.
    const events = c.kube.objects('v1', 'events', 'team-a');
    expect(events.some((e) => e.reason === 'Applied' && (e.involvedObject as Obj).name === 'acme')).toBe(true);
    expect(events.some((e) => e.reason === 'GuardTripped')).toBe(true);
    expect(JSON.stringify(events)).not.toContain('CANARY');

    // deploy/'s RBAC allows every request the controller made, and grants nothing it never used.
    const rules = loadAll(readFileSync(join(ROOT, 'deploy/10-rbac.yaml'), 'utf8')).filter((d) => ['ClusterRole', 'Role'].includes(String((d as Obj).kind))).flatMap((d) => (d as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }).rules);
    const granted = new Set(rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${res}${g ? `.${g}` : ''}`)))));
    const used = new Set(
      c.kube
        .requests()
        .filter((r) => /^(orgctl-controller|node-fetch)/.test(r.userAgent))
        .map((r) => {
          const [res, sub] = r.resource.split('/');
          const dot = res!.indexOf('.');
          return `${r.verb} ${dot < 0 ? res : res!.slice(0, dot)}${sub ? `/${sub}` : ''}${dot < 0 ? '' : res!.slice(dot)}`;
        }),
    );
    expect([...used].filter((u) => !granted.has(u))).toEqual([]);
    expect([...granted].filter((g) => !used.has(g))).toEqual([]);

    ctl.child.kill('SIGTERM');
    const end = await ctl.done;
    expect(end.code, end.stderr).toBe(0);
    expect(end.stdout + end.stderr).not.toContain('CANARY');
    expect(end.stdout + end.stderr).not.toContain(server.token);
    expect(JSON.stringify(c.kube.objects('orgctl.dev/v1alpha1', 'integrations', 'team-a'))).not.toContain('CANARY');
  });
});

describe('orgctl controller --kubernetes on the embedded platform', () => {
  let c: Cluster;
  const dir = tempDir();
  afterAll(async () => c?.stop());

  it('converges the examples applied as custom resources', { timeout: 240_000 }, async () => {
    c = await cluster(dir);
    const objects: Obj[] = [];
    for (const file of readdirSync(join(ROOT, 'examples'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml')).sort()) {
      for (const doc of loadAll(readFileSync(join(ROOT, 'examples', file), 'utf8'))) if (doc) objects.push(doc as Obj);
    }
    for (const o of objects) await c.create(o);
    const env = Object.fromEntries(readFileSync(join(ROOT, 'examples/demo.env'), 'utf8').split('\n').filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const ctl = kubeController(dir, c, { ...env, ORGCTL_PLATFORM: `file:${join(dir, 'platform.db')}` }, [], started);
    onTestFailed(() => console.log(ctl.stderr().split('\n').slice(-40).join('\n')));
    const url = await ctl.url();
    for (const o of objects) await c.waitFor(o.kind as string, (o.metadata as Obj).name as string, 'Ready', 'True', undefined, 120_000);
    const acme = (await c.get('Organization', 'acme-vision'))!;
    const declared = objects.filter((o) => o.kind === 'Membership' && (o.spec as Obj).organization === 'acme-vision').reduce((n, o) => n + ((o.spec as Obj).members as unknown[]).length, 0);
    expect((acme.status as Obj).summary).toMatchObject({ membersDeclared: declared, members: 1, pendingInvites: declared - 1 });
    expect((acme.status as Obj).observedGeneration).toBe(1);
    await until(async () => (await fetch(`${url}/readyz`)).status === 200, 'readiness');
    ctl.child.kill('SIGTERM');
    expect((await ctl.done).code).toBe(0);
  });
});

describe('orgctl controller --kubernetes with leader election', () => {
  let server: Served;
  let c: Cluster;
  const dir = tempDir();
  afterAll(async () => {
    await server?.stop();
    await c?.stop();
  });

  it('one replica writes; killing it hands over within the lease duration; no organization is written by both', { timeout: 240_000 }, async () => {
    server = await serve(dir);
    c = await cluster(dir);
    const p = platformApi(server);
    await c.create(organization('acme', { members: { policy: 'authoritative' } }));
    await c.create(membership('acme-people', 'acme', [OWNER, ...people(3)]));
    const flags = ['--leader-elect', '--leader-elect-lease-duration', '4s', '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', '500ms', '--resync', '1s'];
    const env = { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token };
    const a = kubeController(dir, c, env, flags, started);
    await until(() => /elected leader/.test(a.stderr()), 'the first replica to lead');
    const b = kubeController(dir, c, env, flags, started);
    onTestFailed(() => console.log(`A:\n${a.stderr()}\nB:\n${b.stderr()}\n${[...new Set(c.kube.requests().map((r) => `${r.userAgent} ${r.verb} ${r.resource}`))].join('\n')}`));
    const identity = (r: { stderr(): string }) => /identity ([^\s;]+)/.exec(r.stderr())![1]!;
    await until(() => /identity /.test(b.stderr()) && /the leader is/.test(b.stderr()), 'the second replica to stand by');
    await c.waitFor('Organization', 'acme', 'Ready', 'True');
    expect(await (await fetch(`${await b.url()}/readyz`)).status).toBe(200); // a standby is ready
    // Several resyncs by the leader; the standby writes nothing at all.
    await until(async () => (a.stderr().match(/acme: in sync/g) ?? []).length >= 2, 'resyncs by the leader');
    const writes = (who: string) => c.kube.requests().filter((r) => r.userAgent.includes(who) && ['create', 'update', 'patch', 'delete'].includes(r.verb));
    expect(writes(identity(b))).toEqual([]);
    expect(b.stderr()).not.toMatch(/reconciled|in sync|applied/);

    // The leader dies; the standby takes over within the lease duration (4 s, plus a retry period and slack).
    a.child.kill('SIGKILL');
    const killed = Date.now();
    await a.done;
    await until(() => /elected leader/.test(b.stderr()), 'the standby to take over', 30_000);
    const took = Date.now() - killed;
    expect(took).toBeLessThan(4000 + 600 + 3000);
    const electedAt = Date.now();
    await c.patch('Membership', 'acme-people', { spec: { members: [{ email: OWNER[0], role: 'owner' }, ...people(4).map(([email]) => ({ email }))] } });
    await until(async () => 'p3@acme.example' in (await p.invites('acme')), 'the new leader to apply an edit');
    await c.waitFor('Membership', 'acme-people', 'Ready', 'True');
    // Every write of the second replica came after it was elected; the first wrote nothing after it died.
    const bWrites = writes(identity(b)).filter((r) => !(r.resource === 'leases.coordination.k8s.io' && r.name === 'orgctl-controller'));
    expect(bWrites.length).toBeGreaterThan(0);
    expect(bWrites.every((r) => r.at >= electedAt - took - 100)).toBe(true);
    expect(writes(identity(a)).every((r) => r.at <= killed)).toBe(true);
    b.child.kill('SIGTERM');
    expect((await b.done).code).toBe(0);
  });
});

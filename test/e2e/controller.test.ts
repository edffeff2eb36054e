import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/server/sqlite.js';
import { BIN, orgctl, tempDir, writeOrg, type OrgSpec } from './cli.js';
import { startOrgctl, until, type Running } from './proc.js';
import { serve, type Served } from './server.js';

// `orgctl controller` as a real child process, against `orgctl platform serve` and the embedded platform.

const started: Running[] = [];
afterAll(async () => {
  for (const r of started) if (r.child.exitCode === null) r.child.kill('SIGKILL');
});

function controller(dir: string, env: NodeJS.ProcessEnv, extra: string[] = []): Running & { url: () => Promise<string> } {
  const run = startOrgctl(['controller', '-f', 'm', '--metrics-addr', '127.0.0.1:0', '--debounce', '100ms', ...extra], { cwd: dir, env });
  started.push(run);
  const url = async () => {
    await until(() => /metrics and health on (http:\/\/\S+)/.test(run.stderr()), 'the controller to serve its metrics');
    return /metrics and health on (http:\/\/\S+)/.exec(run.stderr())![1]!;
  };
  return { ...run, url };
}

async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

/** The built-in platform over its REST API, as the test sees it. */
function api(server: { url: string; token: string }) {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${server.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, unknown> };
  };
  return {
    call,
    members: async (org: string) => {
      const r = await call('GET', `/orgs/${org}/members?limit=1000`);
      return r.status === 200 ? Object.fromEntries((r.body.items as { email: string; role: string }[]).map((m) => [m.email, m.role])) : {};
    },
    invites: async (org: string) => {
      const r = await call('GET', `/orgs/${org}/invites?status=open&limit=1000`);
      return r.status === 200 ? Object.fromEntries((r.body.items as { email: string; role: string }[]).map((m) => [m.email, m.role])) : {};
    },
    integrations: async (org: string) => {
      const r = await call('GET', `/orgs/${org}/integrations`);
      return r.status === 200 ? (r.body.items as { name: string }[]).map((i) => i.name).sort() : [];
    },
  };
}

const spec = (members: [string, string][], integrations: OrgSpec['integrations'] = []): OrgSpec => ({
  name: 'acme',
  displayName: 'Acme',
  policy: 'authoritative',
  integrationsPolicy: 'authoritative',
  members: [['ops@platform.example', 'owner'], ...members],
  integrations,
});

describe('orgctl controller against orgctl platform serve', () => {
  let server: Served;
  const dir = tempDir();
  mkdirSync(join(dir, 'm'));
  afterAll(async () => server?.stop());

  it('converges, applies each edit, puts back drift, survives broken files and an outage', async () => {
    server = await serve(dir);
    const p = api(server);
    const env = { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token, KV_VALUE: 'CANARY-controller-kv' };
    writeOrg(join(dir, 'm'), spec([['a@acme.example', 'admin'], ['b@acme.example', 'member']], [{ name: 'kv', type: 'key_value', env: { value: 'KV_VALUE' } }]));
    const c = controller(dir, env, ['--resync', '1s', '--max-removals', '100%']);
    const url = await c.url();

    // Converges, and is ready once the first full sync is done.
    await until(async () => JSON.stringify(await p.invites('acme')) === JSON.stringify({ 'a@acme.example': 'admin', 'b@acme.example': 'member' }), 'the first sync');
    expect(await p.integrations('acme')).toEqual(['kv']);
    await until(async () => (await fetch(`${url}/readyz`)).status === 200, 'readiness');
    for (const e of ['a@acme.example', 'b@acme.example']) expect((await orgctl(['platform', 'invites', 'accept', '--org', 'acme', '--email', e], { cwd: dir, env })).code).toBe(0);

    // Edits: a role, a person added and one removed, an integration added.
    writeOrg(join(dir, 'm'), spec([['a@acme.example', 'member'], ['c@acme.example', 'worker']], [{ name: 'kv', type: 'key_value', env: { value: 'KV_VALUE' } }, { name: 'arch', type: 'aws-cross', options: { roleArn: 'arn:aws:iam::1:role/r' } }]));
    await until(async () => {
      const m = await p.members('acme');
      return m['a@acme.example'] === 'member' && !('b@acme.example' in m) && (await p.invites('acme'))['c@acme.example'] === 'worker';
    }, 'the edits to be applied');
    await until(async () => JSON.stringify(await p.integrations('acme')) === JSON.stringify(['arch', 'kv']), 'the new integration');
    // And the integration removed again.
    writeOrg(join(dir, 'm'), spec([['a@acme.example', 'member'], ['c@acme.example', 'worker']], [{ name: 'kv', type: 'key_value', env: { value: 'KV_VALUE' } }]));
    await until(async () => JSON.stringify(await p.integrations('acme')) === JSON.stringify(['kv']), 'the integration to be deleted');

    // Drift made on the platform is put back on the next resync: a role changed, a member removed.
    expect((await p.call('PATCH', '/orgs/acme/members/a@acme.example', { role: 'admin' })).status).toBe(200);
    await until(async () => (await p.members('acme'))['a@acme.example'] === 'member', 'the role to be put back');
    expect((await p.call('DELETE', '/orgs/acme/members/a@acme.example')).status).toBeLessThan(300);
    await until(async () => (await p.invites('acme'))['a@acme.example'] === 'member', 'the removed member to be invited again');
    expect(await metric(url, 'orgctl_drift_corrected_total', { organization: 'acme', action: 'update-role' })).toBeGreaterThanOrEqual(2);

    // A half-saved file: nothing is removed, /readyz says where, and the last valid manifests stay in use.
    const before = JSON.stringify(await p.members('acme'));
    writeFileSync(join(dir, 'm', 'acme.yaml'), 'apiVersion: orgctl.dev/v1alpha1\nkind: Organization\nmetadata:\n  name: acme\nspec:\n  members:\n    policy: authoritative\n---\napiVersion: orgctl.dev/v1alpha1\nkind: Membership\nmetadata:\n  name: acme-people\nspec:\n  organization: acme\n  members:\n    - email: ops@platform.example\n      role: own');
    await until(async () => (await fetch(`${url}/readyz`)).status === 503, 'readiness to drop');
    const why = await (await fetch(`${url}/readyz`)).text();
    expect(why).toMatch(/m\/acme\.yaml:17:13: spec\.members\[0\]\.role: unsupported value "own"/);
    const reconciles = await metric(url, 'orgctl_reconcile_total', { organization: 'acme' });
    await until(async () => (await metric(url, 'orgctl_reconcile_total', { organization: 'acme' })) >= reconciles + 2, 'two resyncs on the last valid manifests');
    expect(JSON.stringify(await p.members('acme'))).toBe(before);
    expect(await metric(url, 'orgctl_manifests_valid')).toBe(0);
    // Fixed: ready again, and it converges to the new files.
    writeOrg(join(dir, 'm'), spec([['a@acme.example', 'member'], ['c@acme.example', 'worker'], ['d@acme.example', 'member']], [{ name: 'kv', type: 'key_value', env: { value: 'KV_VALUE' } }]));
    await until(async () => (await p.invites('acme'))['d@acme.example'] === 'member', 'the fixed files to be applied');
    await until(async () => (await fetch(`${url}/readyz`)).status === 200, 'readiness to come back');

    // An outage: reconciles fail and back off (1 s, 2 s, 4 s, ...), no hot loop; then it recovers.
    const port = new URL(server.url).port;
    await server.stop();
    const errorsAtStart = await metric(url, 'orgctl_reconcile_total', { organization: 'acme', result: 'error' });
    const outageStart = Date.now();
    await until(async () => (await metric(url, 'orgctl_reconcile_total', { organization: 'acme', result: 'error' })) >= errorsAtStart + 3, 'reconciles to fail', 60_000);
    const seconds = (Date.now() - outageStart) / 1000;
    const errors = (await metric(url, 'orgctl_reconcile_total', { organization: 'acme', result: 'error' })) - errorsAtStart;
    // Exponential backoff: n failures take at least 1 + 2 + ... + 2^(n-2) seconds of waiting.
    expect(2 ** (errors - 1) - 1).toBeLessThanOrEqual(seconds + 1);
    const again = spawn(process.execPath, [BIN, 'platform', 'serve', '--db', 'server.db', '--port', port], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir }, stdio: 'ignore' });
    server = { ...server, child: again, stop: () => new Promise<void>((r) => (again.exitCode !== null ? r() : (again.once('exit', () => r()), again.kill('SIGTERM')))) };
    writeOrg(join(dir, 'm'), spec([['a@acme.example', 'member'], ['c@acme.example', 'worker'], ['d@acme.example', 'member'], ['e@acme.example', 'member']], [{ name: 'kv', type: 'key_value', env: { value: 'KV_VALUE' } }]));
    await until(async () => (await p.invites('acme').catch(() => ({}) as Record<string, string>))['e@acme.example'] === 'member', 'recovery after the outage', 120_000);

    // SIGTERM: stops and exits 0; no secret ever in its output.
    c.child.kill('SIGTERM');
    const end = await c.done;
    expect(end.code, end.stderr).toBe(0);
    expect(end.stderr).toContain('stopped');
    expect(end.stdout + end.stderr).not.toContain('CANARY');
    expect(end.stdout + end.stderr).not.toContain(server.token);
  });
});

describe('orgctl controller, interrupted mid-reconcile', () => {
  it('leaves nothing half-done that the next start does not finish, each invite sent once', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    const server = await serve(dir, { extraArgs: ['--faults', 'POST /api/v1/orgs/*/invites/batch: latency=30ms'] });
    try {
      const env = { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token, ORGCTL_BATCH_SIZE: '1' };
      const people = Array.from({ length: 150 }, (_, i): [string, string] => [`p${i}@acme.example`, 'member']);
      writeOrg(join(dir, 'm'), { name: 'acme', members: [['ops@platform.example', 'owner'], ...people] });
      const c = controller(dir, env);
      const db = () => new Database(join(dir, 'server.db'), { readonly: true });
      const sent = () => {
        const conn = db();
        try {
          return (conn.prepare("SELECT COUNT(*) AS n FROM audit WHERE action = 'invite.send'").get() as { n: number }).n;
        } finally {
          conn.close();
        }
      };
      await until(() => sent() >= 10, 'the reconcile to be under way');
      c.child.kill('SIGTERM');
      const end = await c.done;
      expect(end.code, end.stderr).toBe(0);
      expect(sent()).toBeLessThan(150);
      // The next start (here one pass, --once) finishes the job, taking the lock at once: it was given back.
      const rest = await orgctl(['controller', '-f', 'm', '--once'], { cwd: dir, env });
      expect(rest.code, rest.stderr).toBe(0);
      expect(rest.stdout).toMatch(/^acme: success: applied \d+ change\(s\)$/m);
      const conn = db();
      const counts = conn.prepare("SELECT target, COUNT(*) AS n FROM audit WHERE action = 'invite.send' GROUP BY target HAVING n > 1").all();
      const total = (conn.prepare("SELECT COUNT(DISTINCT target) AS n FROM audit WHERE action = 'invite.send'").get() as { n: number }).n;
      conn.close();
      expect(counts).toEqual([]);
      expect(total).toBe(150);
    } finally {
      await server.stop();
    }
  });
});

describe('orgctl controller on the embedded platform', () => {
  it('converges, applies an edit, and puts back a role changed behind its back', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    writeOrg(join(dir, 'm'), { name: 'acme', members: [['operator@ops.example', 'owner'], ['a@acme.example', 'admin']] });
    const c = controller(dir, {}, ['--resync', '1s']);
    const url = await c.url();
    const file = join(dir, '.orgctl/platform.db');
    const query = <T>(sql: string, ...args: unknown[]): T => {
      const conn = new Database(file);
      try {
        return conn.prepare(sql).get(...args) as T;
      } finally {
        conn.close();
      }
    };
    const inviteRole = () => {
      try {
        return query<{ role: string } | undefined>("SELECT i.role FROM invites i JOIN orgs o ON o.id = i.org_id WHERE o.name = 'acme' AND i.email = 'a@acme.example' AND i.status = 'pending'")?.role;
      } catch {
        return undefined; // the database is not there yet
      }
    };
    await until(() => inviteRole() === 'admin', 'the first sync');
    expect((await orgctl(['platform', 'invites', 'accept', '--org', 'acme', '--email', 'a@acme.example'], { cwd: dir })).code).toBe(0);
    const memberRole = () =>
      query<{ role: string } | undefined>("SELECT m.role FROM memberships m JOIN orgs o ON o.id = m.org_id JOIN users u ON u.id = m.user_id WHERE o.name = 'acme' AND u.email = 'a@acme.example'")?.role;
    writeOrg(join(dir, 'm'), { name: 'acme', members: [['operator@ops.example', 'owner'], ['a@acme.example', 'member']] });
    await until(() => memberRole() === 'member', 'the edit');
    // Behind its back (straight in the database): put back on resync.
    const conn = new Database(file);
    conn.prepare("UPDATE memberships SET role = 'admin' WHERE user_id = (SELECT id FROM users WHERE email = 'a@acme.example')").run();
    conn.close();
    await until(() => memberRole() === 'member', 'the drift to be put back');
    expect(await metric(url, 'orgctl_reconcile_total', { organization: 'acme', result: 'success' })).toBeGreaterThanOrEqual(3);
    c.child.kill('SIGTERM');
    expect((await c.done).code).toBe(0);
  });
});

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Database } from '../../src/server/sqlite.js';
import { describe, expect, it } from 'vitest';
import { orgctl, tempDir, writeOrg, type OrgSpec, type Run } from './cli.js';

const CANARY = { ACME_KEY: 'AKIA-CANARY-7f3a', ACME_SECRET: 'CANARY-secret-9d1c', KV_VALUE: 'CANARY-kv-55e2' };

function workspace() {
  const dir = tempDir();
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => orgctl(args, { cwd: dir, env: { ...CANARY, ...env } });
  const write = (o: OrgSpec) => writeOrg(manifests, o);
  const db = () => new Database(join(dir, '.orgctl/platform.db'));
  const accept = async (org: string, email: string) => expect((await run(['platform', 'invites', 'accept', '--org', org, '--email', email])).code).toBe(0);
  return { dir, manifests, run, write, db, accept };
}

function noCanary(...runs: Run[]) {
  for (const r of runs) for (const v of Object.values(CANARY)) expect(r.stdout + r.stderr).not.toContain(v);
}

function actions(plan: Run): string[] {
  const json = JSON.parse(plan.stdout) as { changes: { action: string; target: string }[] };
  return json.changes.map((c) => `${c.action} ${c.target}`);
}

const base = (over: Partial<OrgSpec> = {}): OrgSpec => ({
  name: 'acme',
  displayName: 'Acme',
  plan: 'premium',
  policy: 'authoritative',
  integrationsPolicy: 'authoritative',
  cache: { enabled: true, podType: 'medium' },
  members: [
    ['root@acme.example', 'owner', { firstName: 'Ro' }],
    ['a@acme.example', 'admin'],
    ['m@acme.example', 'member'],
    ['x@acme.example', 'member'],
    ['w@acme.example', 'worker'],
    ['p@acme.example', 'member'],
  ],
  integrations: [
    { name: 'raw', type: 's3', options: { bucket: 'raw' }, env: { accessKeyId: 'ACME_KEY', secretAccessKey: 'ACME_SECRET' } },
    { name: 'old', type: 'aws-cross', options: { roleArn: 'arn:aws:iam::1:role/r' } },
  ],
  ...over,
});

describe('orgctl plan / apply / diff on the embedded platform', () => {
  it('creates an organization, converges, and then plans nothing (exit codes as terraform and kubectl diff)', async () => {
    const w = workspace();
    w.write(base());
    const plan = await w.run(['plan', '-f', 'manifests', '--detailed-exitcode']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('+ create-organization acme');
    expect(plan.stdout).toContain('+ invite a@acme.example as admin');
    expect(plan.stdout).toMatch(/Plan: \d+ to add, \d+ to change, 0 to remove/);
    expect((await w.run(['diff', '-f', 'manifests'])).code).toBe(1);

    const refused = await w.run(['apply', '-f', 'manifests']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('pass --yes');

    const apply = await w.run(['apply', '-f', 'manifests', '--yes']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toContain('Apply complete');

    const again = await w.run(['plan', '-f', 'manifests', '--detailed-exitcode']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('No changes');
    expect((await w.run(['diff', '-f', 'manifests'])).code).toBe(0);
    noCanary(plan, apply, again);

    const db = w.db();
    const org = db.prepare("SELECT o.*, u.email AS creator FROM orgs o JOIN users u ON u.id = o.creator_id WHERE o.name = 'acme'").get() as Record<string, unknown>;
    expect(org).toMatchObject({ display_name: 'Acme', plan: 'premium', creator: 'root@acme.example', cache_state: 'pending', cache_pod_type: 'medium' });
    expect(db.prepare("SELECT COUNT(*) AS n FROM invites WHERE status = 'pending'").get()).toEqual({ n: 5 });
    db.close();
  });

  it('plans and applies every kind of change, in a safe order, and converges', async () => {
    const w = workspace();
    w.write(base());
    expect((await w.run(['apply', '-f', 'manifests', '--yes'])).code).toBe(0);
    for (const e of ['a@acme.example', 'm@acme.example', 'x@acme.example']) await w.accept('acme', e);

    w.write(
      base({
        displayName: 'Acme Corp',
        plan: 'freemium',
        cache: { enabled: false },
        members: [
          ['root@acme.example', 'owner', { firstName: 'Ro' }],
          ['a@acme.example', 'member'], // demotion
          ['m@acme.example', 'member', { firstName: 'Em' }], // profile
          ['w@acme.example', 'admin'], // pending invite with another role
          ['n@acme.example', 'worker'], // new
          // x@ (a member) and p@ (a pending invite) are no longer declared: removed and cancelled
        ],
        integrations: [
          { name: 'raw', type: 's3', options: { bucket: 'raw-v2' }, env: { accessKeyId: 'ACME_KEY', secretAccessKey: 'ACME_SECRET' } },
          { name: 'kv', type: 'key_value', env: { value: 'KV_VALUE' } },
          // old is no longer declared: deleted (authoritative integrations)
        ],
      }),
    );
    // One removal and one cancelled invite: both are losses of access, counted together.
    const plan = await w.run(['plan', '-f', 'manifests', '-o', 'json', '--max-removals', '2']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(actions(plan)).toEqual([
      'cache-destroy acme',
      'rename acme',
      'update-plan acme',
      'create-integration kv',
      'update-integration raw',
      'invite n@acme.example',
      'reinvite w@acme.example',
      'update-profile m@acme.example',
      'update-role a@acme.example',
      'cancel-invite p@acme.example',
      'remove-member x@acme.example',
      'delete-integration old',
    ]);
    const apply = await w.run(['apply', '-f', 'manifests', '--yes', '--max-removals', '2']);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const again = await w.run(['plan', '-f', 'manifests', '--detailed-exitcode', '--max-removals', '2']);
    expect(again.code, again.stdout).toBe(0);
    noCanary(plan, apply, again);

    // Credentials: a changed value is drift, found through the fingerprint alone.
    const changed = await w.run(['plan', '-f', 'manifests', '-o', 'json', '--max-removals', '2'], { KV_VALUE: 'CANARY-kv-rotated' });
    expect(actions(changed)).toEqual(['update-integration kv']);
    expect(changed.stdout).not.toContain('CANARY-kv-rotated');
  });

  it('resends an expired invite', async () => {
    const w = workspace();
    w.write(base());
    expect((await w.run(['apply', '-f', 'manifests', '--yes'])).code).toBe(0);
    const db = w.db();
    db.prepare("UPDATE invites SET expires_at = 0 WHERE email = 'w@acme.example'").run();
    db.close();
    const plan = await w.run(['plan', '-f', 'manifests', '-o', 'json']);
    expect(actions(plan)).toEqual(['resend-invite w@acme.example']);
    expect((await w.run(['apply', '-f', 'manifests', '--yes'])).code).toBe(0);
    expect((await w.run(['plan', '-f', 'manifests', '--detailed-exitcode'])).code).toBe(0);
    const check = w.db();
    expect(check.prepare("SELECT send_count FROM invites WHERE email = 'w@acme.example' AND status = 'pending'").get()).toEqual({ send_count: 2 });
    check.close();
  });

  it('additive never removes; ignore globs are never touched', async () => {
    const w = workspace();
    w.write(base({ policy: 'additive' }));
    expect((await w.run(['apply', '-f', 'manifests', '--yes'])).code).toBe(0);
    await w.accept('acme', 'x@acme.example');
    w.write(base({ policy: 'additive', members: [['root@acme.example', 'owner', { firstName: 'Ro' }]] }));
    expect((await w.run(['plan', '-f', 'manifests', '--detailed-exitcode'])).code).toBe(0);
    w.write(base({ policy: 'authoritative', ignore: ['*@acme.example'], members: [['root@acme.example', 'owner', { firstName: 'Ro' }]] }));
    expect((await w.run(['plan', '-f', 'manifests', '--detailed-exitcode'])).code).toBe(0);
  });

  it('refuses plans that trip a guard, naming the guard and its flag, and writes nothing', async () => {
    const w = workspace();
    const people: [string, string][] = [
      ['root@acme.example', 'owner'],
      ['operator@ops.example', 'admin'],
      ['o2@acme.example', 'owner'],
      ...Array.from({ length: 7 }, (_, i): [string, string] => [`m${i}@acme.example`, 'member']),
    ];
    w.write(base({ members: people, integrations: [] }));
    expect((await w.run(['apply', '-f', 'manifests', '--yes'])).code).toBe(0);
    for (const [e] of people.slice(1)) await w.accept('acme', e);
    const version = () => {
      const db = w.db();
      const v = db.prepare("SELECT version FROM orgs WHERE name = 'acme'").get();
      db.close();
      return v;
    };
    const before = version();

    const cases: [[string, string][], string[], string, string][] = [
      [people.slice(0, 7), [], 'max-removals', '--max-removals'],
      [[...people.filter(([e]) => e !== 'operator@ops.example'), ['operator@ops.example', 'member']], [], 'self', 'no flag overrides this'],
      [people.slice(1), ['--max-removals', '5'], 'creator', 'no flag overrides this'],
      [people.map(([e, r]): [string, string] => [e, e === 'm0@acme.example' ? 'owner' : r]), [], 'owner-changes', '--allow-owner-changes'],
    ];
    for (const [members, flags, guard, flag] of cases) {
      w.write(base({ members, integrations: [] }));
      for (const cmd of ['plan', 'apply']) {
        const r = await w.run([cmd, '-f', 'manifests', '--yes', ...flags].filter((a) => cmd === 'apply' || a !== '--yes'));
        expect(r.code, `${guard} ${cmd}: ${r.stdout}${r.stderr}`).toBe(1);
        expect(r.stderr).toContain(`guard ${guard}:`);
        expect(r.stderr).toContain(flag);
        expect(r.stderr).toContain('nothing was written');
      }
      expect(version()).toEqual(before);
    }
    // The overriding flags let the same plans through.
    w.write(base({ members: people.slice(0, 7), integrations: [] }));
    expect((await w.run(['plan', '-f', 'manifests', '--max-removals', '3'])).code).toBe(0);
    w.write(base({ members: people.map(([e, r]): [string, string] => [e, e === 'm0@acme.example' ? 'owner' : r]), integrations: [] }));
    expect((await w.run(['apply', '-f', 'manifests', '--yes', '--allow-owner-changes'])).code).toBe(0);
  });

  it('applies a saved plan exactly, and refuses it once the platform has moved (stale plan)', async () => {
    const w = workspace();
    w.write(base());
    const saved = await w.run(['plan', '-f', 'manifests', '--out', 'plan.json']);
    expect(saved.code).toBe(0);
    const planText = readFileSync(join(w.dir, 'plan.json'), 'utf8');
    for (const v of Object.values(CANARY)) expect(planText).not.toContain(v);
    const plan = JSON.parse(planText);
    expect(plan).toMatchObject({ formatVersion: 1, observed: { acme: null }, summary: { total: plan.changes.length } });
    expect(Object.keys(plan.changes[0])).toEqual(['id', 'action', 'organization', 'target', 'before', 'after', 'reason']);

    const applied = await w.run(['apply', 'plan.json', '--yes']);
    expect(applied.code, applied.stderr).toBe(0);
    expect((await w.run(['plan', '-f', 'manifests', '--detailed-exitcode'])).code).toBe(0);

    w.write(base({ displayName: 'Acme Two' }));
    expect((await w.run(['plan', '-f', 'manifests', '--out', 'rename.json'])).code).toBe(0);
    w.write(base({ plan: 'freemium' }));
    expect((await w.run(['apply', '-f', 'manifests', '--yes'])).code).toBe(0);
    const stale = await w.run(['apply', 'rename.json', '--yes']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('saved plan is stale');
  });

  it('exports the live organization as manifests that plan to no changes', async () => {
    const w = workspace();
    w.write(base());
    expect((await w.run(['apply', '-f', 'manifests', '--yes'])).code).toBe(0);
    await w.accept('acme', 'a@acme.example');
    const exp = await w.run(['export', '--org', 'acme', '--out', 'exported']);
    expect(exp.code, exp.stderr).toBe(0);
    const plan = await w.run(['plan', '-f', 'exported', '--detailed-exitcode']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(readFileSync(join(w.dir, 'exported/integrations.yaml'), 'utf8')).toContain('ACME_RAW_SECRET_ACCESS_KEY');
    expect((await w.run(['export', '--org', 'nope'])).code).toBe(1);
  });

  it('stops before writing when manifests are invalid; diff exits 2 on errors', async () => {
    const w = workspace();
    writeFileSync(join(w.manifests, 'bad.yaml'), 'apiVersion: orgctl.dev/v1alpha1\nkind: Organization\nmetadata: {name: acme}\nspec: {plan: gold}\n');
    const plan = await w.run(['plan', '-f', 'manifests']);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('bad.yaml:4:');
    expect((await w.run(['diff', '-f', 'manifests'])).code).toBe(2);
    expect((await w.run(['plan', '-f', 'manifests', '--max-removals', 'lots'])).code).toBe(2);
  });
});

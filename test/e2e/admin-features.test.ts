import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/util/csv.js';
import { Database } from '../../src/server/sqlite.js';
import { orgctl, ROOT, tempDir, writeOrg } from './cli.js';
import { startOrgctl, until } from './proc.js';

// What admins ask for next (issue 14): time-bound access, access reports, kubectl-style diff.

function membership(name: string, org: string, people: { email: string; role?: string; expiresAt?: string }[], expiresAt?: string): string {
  return [
    'apiVersion: orgctl.dev/v1alpha1',
    'kind: Membership',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  organization: ${org}`,
    ...(expiresAt ? [`  expiresAt: "${expiresAt}"`] : []),
    '  members:',
    ...people.flatMap((p) => [`    - email: ${p.email}`, `      role: ${p.role ?? 'member'}`, ...(p.expiresAt ? [`      expiresAt: "${p.expiresAt}"`] : [])]),
    '',
  ].join('\n');
}

describe('time-bound access', () => {
  it('removes a member and cancels an invite once their access ends, with the reason, within the guards', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    writeOrg(join(dir, 'm'), { name: 'acme', members: [['root@acme.example', 'owner']] });
    writeFileSync(
      join(dir, 'm', 'contractors.yaml'),
      membership('contractors', 'acme', [{ email: 'carl@vendor.example' }, { email: 'vera@vendor.example' }, { email: 'late@vendor.example', expiresAt: '2027-03-01' }], '2027-01-15'),
    );
    const at = (now: string) => ({ ORGCTL_NOW: now });
    expect((await orgctl(['apply', '-f', 'm', '--yes'], { cwd: dir, env: at('2027-01-01T00:00:00Z') })).code).toBe(0);
    expect((await orgctl(['platform', 'invites', 'accept', '--org', 'acme', '--email', 'carl@vendor.example'], { cwd: dir })).code).toBe(0);

    // Before the end: nothing to do, and the plan lists who loses access within 14 days.
    const before = await orgctl(['plan', '-f', 'm', '--detailed-exitcode'], { cwd: dir, env: at('2027-01-10T00:00:00Z') });
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toContain('Access ending within 14d (2):\n  2027-01-15T00:00:00.000Z  acme  carl@vendor.example (member)\n  2027-01-15T00:00:00.000Z  acme  vera@vendor.example (member)');
    expect(before.stdout).not.toContain('late@vendor.example');

    // From the end on (additive policy and all): removed and cancelled, saying why; validate notes it.
    const after = await orgctl(['plan', '-f', 'm', '-o', 'json', '--max-removals', '2'], { cwd: dir, env: at('2027-01-15T00:00:00Z') });
    expect(after.code, after.stderr).toBe(0);
    const changes = (JSON.parse(after.stdout) as { changes: { action: string; target: string; reason: string }[] }).changes;
    expect(changes.map((c) => `${c.action} ${c.target}: ${c.reason}`)).toEqual([
      'cancel-invite vera@vendor.example: access expired on 2027-01-15T00:00:00.000Z',
      'remove-member carl@vendor.example: access expired on 2027-01-15T00:00:00.000Z',
    ]);
    const validate = await orgctl(['validate', '-f', 'm'], { cwd: dir, env: at('2027-01-15T00:00:00Z') });
    expect(validate.code).toBe(0);
    expect(validate.stderr).toMatch(/note: m\/contractors\.yaml:7:14: access of 2 people listed here expired on 2027-01-15T00:00:00\.000Z; a plan removes them/);

    // Guarded like any removal: 2 of 4 people with access is more than 25%.
    const guarded = await orgctl(['apply', '-f', 'm', '--yes'], { cwd: dir, env: at('2027-01-15T00:00:00Z') });
    expect(guarded.code).toBe(1);
    expect(guarded.stderr).toContain('guard max-removals');
    const applied = await orgctl(['apply', '-f', 'm', '--yes', '--max-removals', '2'], { cwd: dir, env: at('2027-01-15T00:00:00Z') });
    expect(applied.code, applied.stderr).toBe(0);
    expect((await orgctl(['plan', '-f', 'm', '--detailed-exitcode'], { cwd: dir, env: at('2027-01-16T00:00:00Z') })).code).toBe(0);
  });

  it('refuses an expiry that is not an RFC 3339 date or time, at its position', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'org.yaml'), 'apiVersion: orgctl.dev/v1alpha1\nkind: Organization\nmetadata:\n  name: acme\nspec: {}\n');
    writeFileSync(join(dir, 'm.yaml'), membership('people', 'acme', [{ email: 'a@acme.example', expiresAt: '31/12/2026' }, { email: 'b@acme.example', expiresAt: '2026-02-30' }]));
    const r = await orgctl(['validate', '-f', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('m.yaml:10:18: spec.members[0].expiresAt: "31/12/2026" is not an RFC 3339 date or time');
    expect(r.stderr).toContain('m.yaml:13:18: spec.members[1].expiresAt: "2026-02-30" is not an RFC 3339 date or time');
  });

  it('the controller wakes up when access ends, not at the next resync', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    writeOrg(join(dir, 'm'), { name: 'acme', members: [['operator@ops.example', 'owner']] });
    const ends = new Date(Date.now() + 6000).toISOString();
    writeFileSync(join(dir, 'm', 'temp.yaml'), membership('temp', 'acme', [{ email: 'temp@vendor.example', expiresAt: ends }, { email: 'staff@acme.example' }, { email: 'staff2@acme.example' }, { email: 'staff3@acme.example' }]));
    const run = startOrgctl(['controller', '-f', 'm', '--metrics-addr', '127.0.0.1:0', '--resync', '1h'], { cwd: dir });
    try {
      // undefined while the database cannot be read (not there yet, or busy): neither answer.
      const pending = (email: string): boolean | undefined => {
        try {
          const db = new Database(join(dir, '.orgctl/platform.db'), { readonly: true });
          try {
            return db.prepare("SELECT 1 FROM invites WHERE email = ? AND status = 'pending'").get(email) !== undefined;
          } finally {
            db.close();
          }
        } catch {
          return undefined;
        }
      };
      await until(() => pending('temp@vendor.example') === true, 'the invite to be sent');
      await until(() => pending('temp@vendor.example') === false, 'the invite to be cancelled when access ends', 60_000);
      await until(() => run.stderr().includes('cancel-invite 1'), 'the cancellation to be logged');
    } finally {
      run.child.kill('SIGTERM');
      await run.done;
    }
  });
});

describe('orgctl report: who has access and why', () => {
  it('lists declared, undeclared, pending, stale and expired people, in text, CSV and JSON', async () => {
    const dir = tempDir();
    cpSync(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
    const env = Object.fromEntries(
      readFileSync(join(dir, 'examples/demo.env'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z0-9_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const t0 = '2026-11-01T00:00:00Z';
    const first = await orgctl(['apply', '-f', 'examples', '--yes'], { cwd: dir, env: { ...env, ORGCTL_NOW: t0 } });
    expect(first.code, first.stderr).toBe(0);
    // Someone accepts; someone nobody declared gets in; one invite runs out.
    expect((await orgctl(['platform', 'invites', 'accept', '--org', 'globex-labeling', '--email', 'ada.rossi@globex.example'], { cwd: dir })).code).toBe(0);
    const db = new Database(join(dir, '.orgctl/platform.db'));
    db.prepare("UPDATE invites SET expires_at = 0 WHERE email = 'ben.garcia@globex.example'").run();
    db.close();
    const stray = join(dir, 'stray');
    mkdirSync(stray);
    writeFileSync(join(stray, 'org.yaml'), 'apiVersion: orgctl.dev/v1alpha1\nkind: Organization\nmetadata:\n  name: globex-labeling\nspec: {}\n');
    writeFileSync(join(stray, 'm.yaml'), membership('stray', 'globex-labeling', [{ email: 'stray@elsewhere.example', role: 'worker' }]));
    expect((await orgctl(['apply', '-f', 'stray', '--yes'], { cwd: dir })).code).toBe(0);

    const now = { ORGCTL_NOW: new Date(Date.now() + 20 * 86_400_000).toISOString() };
    const text = await orgctl(['report', '--org', 'globex-labeling', '-f', 'examples'], { cwd: dir, env: now });
    expect(text.code, text.stderr).toBe(0);
    const line = (email: string) => text.stdout.split('\n').find((l) => l.startsWith(`${email} `)) ?? '';
    expect(line('ada.rossi@globex.example')).toMatch(/ member +active +\d{4}-\d{2}-\d{2} .*examples\/globex-labeling\/team\.yaml:\d+:\d+/);
    expect(line('stray@elsewhere.example')).toMatch(/worker +pending .* not declared +pending 20 days/);
    expect(line('ben.garcia@globex.example')).toMatch(/ expired .*invite expired on 1970-01-01T00:00:00\.000Z; not accepted/);
    expect(line('ada.chen@globex.example')).toMatch(/ pending .*team\.yaml:\d+:\d+ +pending 20 days/);
    expect(text.stdout).toMatch(/2 members, 87 pending invites \(87 stale\), 1 expired invite, 1 owner\n1 not declared in the manifests\n/);

    const csv = parseCsv((await orgctl(['report', '--org', 'globex-labeling', '-f', 'examples', '-o', 'csv'], { cwd: dir, env: now })).stdout);
    expect(csv[0]).toEqual(['email', 'role', 'status', 'joined_at', 'invited_at', 'invited_by', 'declared_at', 'expires_at', 'owner', 'stale', 'notes']);
    const byEmail = new Map(csv.slice(1).map((r) => [r[0], r]));
    expect(byEmail.get('stray@elsewhere.example')!.slice(1, 3)).toEqual(['worker', 'pending']);
    expect(byEmail.get('stray@elsewhere.example')![6]).toBe('not declared');
    expect(byEmail.get('ben.garcia@globex.example')![2]).toBe('expired');
    expect(byEmail.get('rosa.silva@globex.example')![8]).toBe('true'); // the owner
    expect(csv.length - 1).toBe(90);

    const json = JSON.parse((await orgctl(['report', '--org', 'globex-labeling', '-f', 'examples', '-o', 'json'], { cwd: dir, env: now })).stdout) as {
      summary: Record<string, number>;
      rows: { email: string; status: string; declaredAt?: { file: string } }[];
    };
    expect(json.summary).toEqual({ members: 2, pending: 87, expired: 1, stale: 87, undeclared: 1, owners: 1, expiring: 0 });
    expect(json.rows.find((r) => r.email === 'stray@elsewhere.example')!.declaredAt).toBeUndefined();
  });
});

describe('orgctl diff, as kubectl diff', () => {
  it('prints a unified diff that patch applies to the exported live YAML to give the desired YAML', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    const spec = (members: [string, string][], displayName: string) => ({ name: 'acme', displayName, policy: 'authoritative' as const, members });
    writeOrg(join(dir, 'm'), spec([['root@acme.example', 'owner'], ['a@acme.example', 'admin'], ['b@acme.example', 'member']], 'Acme'));
    expect((await orgctl(['apply', '-f', 'm', '--yes'], { cwd: dir })).code).toBe(0);
    writeOrg(join(dir, 'm'), spec([['root@acme.example', 'owner'], ['a@acme.example', 'member'], ['c@acme.example', 'worker']], 'Acme Corp'));
    const diff = await orgctl(['diff', '-f', 'm', '--max-removals', '1'], { cwd: dir });
    expect(diff.code, diff.stderr).toBe(1);
    expect(diff.stdout).toMatch(/^--- live\/acme\.yaml\n\+\+\+ desired\/acme\.yaml\n@@ /);
    expect(diff.stdout).toContain('-  displayName: Acme\n+  displayName: Acme Corp');

    // The live YAML, as export writes it; patched with the diff, it is the desired YAML.
    const live = await orgctl(['export', '--org', 'acme'], { cwd: dir });
    mkdirSync(join(dir, 'live'));
    writeFileSync(join(dir, 'live/acme.yaml'), live.stdout);
    writeFileSync(join(dir, 'changes.diff'), diff.stdout);
    const patched = spawnSync('patch', ['-p0', '--no-backup-if-mismatch', '-i', 'changes.diff', 'live/acme.yaml'], { cwd: dir, encoding: 'utf8' });
    expect(patched.status, patched.stdout + patched.stderr).toBe(0);
    // Applying the plan makes the live state exactly what the patched file says.
    expect((await orgctl(['apply', '-f', 'm', '--yes', '--max-removals', '1'], { cwd: dir })).code).toBe(0);
    expect((await orgctl(['export', '--org', 'acme'], { cwd: dir })).stdout).toBe(readFileSync(join(dir, 'live/acme.yaml'), 'utf8'));
    expect((await orgctl(['diff', '-f', 'm'], { cwd: dir })).stdout).toBe('');
  });

  it('runs ORGCTL_EXTERNAL_DIFF on two directories, as KUBECTL_EXTERNAL_DIFF', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    writeOrg(join(dir, 'm'), { name: 'acme', displayName: 'Acme', members: [['root@acme.example', 'owner']] });
    expect((await orgctl(['apply', '-f', 'm', '--yes'], { cwd: dir })).code).toBe(0);
    writeOrg(join(dir, 'm'), { name: 'acme', displayName: 'Acme 2', members: [['root@acme.example', 'owner']] });
    const r = await orgctl(['diff', '-f', 'm'], { cwd: dir, env: { ORGCTL_EXTERNAL_DIFF: 'diff -r -u' } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/live\/acme\.yaml/);
    expect(r.stdout).toContain('+  displayName: Acme 2');
    const broken = await orgctl(['diff', '-f', 'm'], { cwd: dir, env: { ORGCTL_EXTERNAL_DIFF: 'no-such-diff-program' } });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('cannot run ORGCTL_EXTERNAL_DIFF (no-such-diff-program): ENOENT');
  });
});

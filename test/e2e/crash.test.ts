import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/server/http/faults.js';
import { Database } from '../../src/server/sqlite.js';
import { orgctl, tempDir, writeOrg, type OrgSpec } from './cli.js';
import { startOrgctl, until } from './proc.js';
import { serve, type Served } from './server.js';

/** Audit entries of one action per target: [target, count]. */
function auditCounts(dbFile: string, action: string): Map<string, number> {
  const db = new Database(dbFile, { readonly: true });
  const rows = db.prepare('SELECT target, COUNT(*) AS n FROM audit WHERE action = ? GROUP BY target').all(action) as { target: string; n: number }[];
  db.close();
  return new Map(rows.map((r) => [r.target, r.n]));
}

function range(prefix: string, from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}@crash.example`);
}

describe('crash-safe apply', () => {
  let server: Served | undefined;
  afterEach(async () => server?.stop());

  it('killed with SIGKILL at 20 random points and re-run each time: converges with nothing lost and nothing done twice', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    // Each write takes 30 ms and carries one item, so a run of the apply is killed in the middle of its writes.
    server = await serve(dir, { extraArgs: ['--faults', 'seed=3; POST /api/v1/orgs/**: latency=30-30ms; PATCH *: latency=30-30ms'] });
    const env = { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token, ORGCTL_BATCH_SIZE: '1' };
    const base: OrgSpec = { name: 'crashy', displayName: 'Crashy', policy: 'authoritative', members: [['boss@crash.example', 'owner']] };

    // Before: 150 invites.
    writeOrg(join(dir, 'm'), { ...base, members: [...base.members, ...range('p', 0, 150).map((e): [string, string] => [e, 'member'])] });
    const seeded = await orgctl(['apply', '-f', 'm', '--yes', '--batch-size', '1000'], { cwd: dir, env });
    expect(seeded.code, seeded.stderr).toBe(0);

    // After: 50 cancelled, 50 changing role, 450 new, renamed, premium, two integrations: 554 changes.
    writeOrg(join(dir, 'm'), {
      ...base,
      displayName: 'Crashy Labs',
      plan: 'premium',
      members: [
        ...base.members,
        ...range('p', 50, 100).map((e): [string, string] => [e, 'admin']),
        ...range('p', 100, 150).map((e): [string, string] => [e, 'member']),
        ...range('q', 0, 450).map((e): [string, string] => [e, 'worker']),
      ],
      integrations: [
        { name: 'cross', type: 'aws-cross', options: { roleArn: 'arn:aws:iam::1:role/r' } },
        { name: 'cross-2', type: 'aws-cross', options: { roleArn: 'arn:aws:iam::1:role/s' } },
      ],
    });
    const plan = await orgctl(['plan', '-f', 'm', '-o', 'json', '--max-removals', '100%'], { cwd: dir, env });
    expect((JSON.parse(plan.stdout) as { changes: unknown[] }).changes).toHaveLength(554);

    const args = ['apply', '-f', 'm', '--yes', '--max-removals', '100%', '--lock-ttl', '1s', '--lock-timeout', '1m'];
    const random = seededRandom(20261124);
    let midApply = 0;
    for (let point = 0; point < 20; point++) {
      const run = startOrgctl(args, { cwd: dir, env });
      if (point % 4 === 0) {
        // While starting, locking or reading.
        await new Promise((r) => setTimeout(r, 50 + Math.floor(random() * 550)));
      } else {
        // While writing: at most 800 ms into the writes, which take 30 ms or more each, so 20 runs cannot
        // finish the plan and every kill lands on a run with work left. Timing-independent: we wait for the plan.
        await until(() => run.stdout().includes('Plan: '), 'the plan to be printed');
        await new Promise((r) => setTimeout(r, Math.floor(random() * 800)));
        midApply++;
      }
      run.child.kill('SIGKILL');
      const end = await run.done;
      expect(end.signal, end.stdout + end.stderr).toBe('SIGKILL');
    }
    expect(midApply).toBe(15);

    const last = await orgctl([...args, '--batch-size', '1000'], { cwd: dir, env });
    expect(last.code, last.stdout + last.stderr).toBe(0);
    const again = await orgctl(['plan', '-f', 'm', '--detailed-exitcode', '--max-removals', '100%'], { cwd: dir, env });
    expect(again.code, again.stdout).toBe(0);

    const db = join(dir, 'server.db');
    const sends = auditCounts(db, 'invite.send');
    expect([...sends.keys()].sort()).toEqual([...range('p', 0, 150), ...range('q', 0, 450)].sort());
    expect([...sends.values()].every((n) => n === 1)).toBe(true);
    const cancels = auditCounts(db, 'invite.cancel');
    expect([...cancels.keys()].sort()).toEqual(range('p', 0, 50).sort());
    expect([...cancels.values()].every((n) => n === 1)).toBe(true);
    const resends = auditCounts(db, 'invite.resend');
    expect([...resends.keys()].sort()).toEqual(range('p', 50, 100).sort());
    expect([...resends.values()].every((n) => n === 1)).toBe(true);
    expect([...auditCounts(db, 'org.rename').values()]).toEqual([1]);
    expect([...auditCounts(db, 'org.plan').values()]).toEqual([1]);
    expect(auditCounts(db, 'integration.create').size).toBe(2);
    expect([...auditCounts(db, 'integration.create').values()].every((n) => n === 1)).toBe(true);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`on ${signal}: finishes the call in flight, reports what was and was not applied, releases the lock and exits non-zero`, async () => {
      const dir = tempDir();
      mkdirSync(join(dir, 'm'));
      server = await serve(dir, { extraArgs: ['--faults', 'seed=5; POST /api/v1/orgs/*/invites/batch: latency=40-40ms'] });
      const env = { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token, ORGCTL_BATCH_SIZE: '1' };
      writeOrg(join(dir, 'm'), { name: 'stopped', members: [['boss@stop.example', 'owner'], ...Array.from({ length: 300 }, (_, i): [string, string] => [`s${i}@stop.example`, 'member'])] });

      const run = startOrgctl(['apply', '-f', 'm', '--yes'], { cwd: dir, env });
      await until(() => /applied \d+\/301/.test(run.stderr()), 'the apply to be under way');
      run.child.kill(signal);
      const end = await run.done;
      expect(end.signal).toBeNull();
      expect(end.code).toBe(1);
      expect(end.stderr).toContain('interrupted: finishing the change in flight, then stopping');
      const summary = /Apply incomplete: (\d+) applied, 0 failed, (\d+) not attempted\./.exec(end.stdout);
      expect(summary, end.stdout).not.toBeNull();
      const applied = Number(summary![1]);
      expect(applied).toBeGreaterThan(0);
      expect(applied + Number(summary![2])).toBe(301);
      // Grouped by action and reason, with a few of the people, and the summary last.
      expect(end.stdout).toMatch(/not attempted \(\d+\):\n {2}invite x \d+: interrupted \[stopped\/s\d+@stop\.example/);
      expect(end.stdout.trimEnd().split('\n').at(-1)).toMatch(/^Apply incomplete: /);

      // What it said it applied is exactly what the platform has: the call in flight was finished, not lost.
      const sends = auditCounts(join(dir, 'server.db'), 'invite.send');
      expect(sends.size).toBe(applied - 1); // the organization's creation is one of the applied changes
      // The lock was released: the next apply goes ahead at once and does the rest.
      const rest = await orgctl(['apply', '-f', 'm', '--yes', '--batch-size', '1000'], { cwd: dir, env });
      expect(rest.code, rest.stderr).toBe(0);
      expect(rest.stdout).toContain(`Apply complete: ${301 - applied} applied`);
    });
  }
});

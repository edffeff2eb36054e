import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Database } from '../../src/server/sqlite.js';
import { orgctl, tempDir, writeOrg } from './cli.js';
import { startOrgctl, until } from './proc.js';
import { serve, type Served } from './server.js';

/** A platform whose invites take 150 ms each (batch size 1): an apply of 40 people holds its lock for seconds. */
async function slowPlatform(dir: string): Promise<Served> {
  return serve(dir, { extraArgs: ['--faults', 'seed=1; POST /api/v1/orgs/*/invites/batch: latency=150-150ms'] });
}

function people(org: string, n: number): [string, string][] {
  return [[`boss@${org}.example`, 'owner'], ...Array.from({ length: n }, (_, i): [string, string] => [`p${i}@${org}.example`, 'member'])];
}

async function leaseHolder(s: Served, org: string): Promise<string | undefined> {
  const res = await fetch(`${s.url}/api/v1/orgs/${org}/lease`, { headers: { authorization: `Bearer ${s.token}` } });
  return res.status === 200 ? ((await res.json()) as { holder: string }).holder : undefined;
}

describe('two applies on one organization', () => {
  let server: Served | undefined;
  afterEach(async () => server?.stop());

  it('fails the second at once naming the holder and since when; with --lock-timeout it waits, then finds nothing to do', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    server = await slowPlatform(dir);
    writeOrg(join(dir, 'm'), { name: 'locked', members: people('locked', 40) });
    const env = { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token, ORGCTL_BATCH_SIZE: '1' };

    const first = startOrgctl(['apply', '-f', 'm', '--yes'], { cwd: dir, env });
    await until(async () => (await leaseHolder(server!, 'locked')) !== undefined, 'the first apply to take its lock');
    const holder = (await leaseHolder(server!, 'locked'))!;
    expect(holder).toMatch(new RegExp(`^ops@platform\\.example \\(orgctl apply, pid ${first.child.pid} on .+\\)$`));

    const second = await orgctl(['apply', '-f', 'm', '--yes'], { cwd: dir, env });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`organization "locked" is locked by ${holder.replace(/[()]/g, '\\$&')} since \\d{4}-\\d\\d-\\d\\dT`));
    expect(second.stderr).toContain('--lock-timeout');
    expect(second.stdout).not.toContain('Apply complete');

    const third = await orgctl(['apply', '-f', 'm', '--yes', '--lock-timeout', '2m'], { cwd: dir, env });
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toContain('waiting up to 120s: organization "locked" is locked by');
    expect(third.stdout).toContain('No changes');

    const firstDone = await first.done;
    expect(firstDone.code, firstDone.stderr).toBe(0);
    expect(await leaseHolder(server, 'locked')).toBeUndefined(); // released at the end
  });

  it('frees the lock of a killed apply once its lease runs out, and the next apply converges', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    server = await slowPlatform(dir);
    writeOrg(join(dir, 'm'), { name: 'killed', members: people('killed', 40) });
    const env = { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token, ORGCTL_BATCH_SIZE: '1' };

    const victim = startOrgctl(['apply', '-f', 'm', '--yes', '--lock-ttl', '2s'], { cwd: dir, env });
    await until(() => /applied|invite/.test(victim.stdout()) && (victim.stdout().match(/\+ invite/g)?.length ?? 0) > 0, 'the plan to be printed');
    await new Promise((r) => setTimeout(r, 600)); // a few invites in
    victim.child.kill('SIGKILL');
    expect((await victim.done).signal).toBe('SIGKILL');
    expect(await leaseHolder(server, 'killed')).toContain(`pid ${victim.child.pid}`);

    const next = await orgctl(['apply', '-f', 'm', '--yes', '--lock-timeout', '1m'], { cwd: dir, env });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain(`pid ${victim.child.pid}`);
    expect((await orgctl(['plan', '-f', 'm', '--detailed-exitcode'], { cwd: dir, env })).code).toBe(0);

    const db = new Database(join(dir, 'server.db'), { readonly: true });
    const sends = db.prepare("SELECT target, COUNT(*) AS n FROM audit WHERE action = 'invite.send' GROUP BY target").all() as { n: number }[];
    db.close();
    expect(sends).toHaveLength(40);
    expect(sends.every((s) => s.n === 1)).toBe(true);
  });

  it('force-unlock breaks a killed apply\'s lock at once, naming whose it was', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    server = await slowPlatform(dir);
    writeOrg(join(dir, 'm'), { name: 'stuck', members: people('stuck', 40) });
    const env = { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token, ORGCTL_BATCH_SIZE: '1' };

    const victim = startOrgctl(['apply', '-f', 'm', '--yes', '--lock-ttl', '10m'], { cwd: dir, env });
    await until(async () => (await leaseHolder(server!, 'stuck')) !== undefined, 'the apply to take its lock');
    victim.child.kill('SIGKILL');
    await victim.done;
    expect((await orgctl(['apply', '-f', 'm', '--yes'], { cwd: dir, env })).code).toBe(1);

    // Off a terminal, breaking a live lock needs --force (it would ask on a terminal, naming the holder).
    const asked = await orgctl(['force-unlock', 'stuck'], { cwd: dir, env });
    expect(asked.code).toBe(1);
    expect(asked.stderr).toMatch(/"stuck" is locked by ops@platform\.example \(orgctl apply, pid \d+ on .+\) since \d{4}-.*; pass --force/);
    const unlock = await orgctl(['force-unlock', '--force', 'stuck', 'never-locked'], { cwd: dir, env });
    // An organization that was not locked is an error (a typo must not pass for success), after the others are done.
    expect(unlock.code, unlock.stderr).toBe(1);
    expect(unlock.stdout).toMatch(new RegExp(`broke the lock on "stuck" held by ops@platform\\.example \\(orgctl apply, pid ${victim.child.pid} on .+\\) since \\d{4}-`));
    expect(unlock.stderr).toContain('"never-locked" is not locked');
    const next = await orgctl(['apply', '-f', 'm', '--yes', '--batch-size', '1000'], { cwd: dir, env });
    expect(next.code, next.stderr).toBe(0);
  });
});

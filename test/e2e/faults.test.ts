import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/server/sqlite.js';
import { parseFaultSpec, seededRandom } from '../../src/server/http/faults.js';
import { orgctl, tempDir, writeOrg } from './cli.js';
import { serve, type Served } from './server.js';

describe('fault injection spec', () => {
  it('parses rules, settings and refuses nonsense with a clear message', () => {
    const spec = parseFaultSpec('seed=7; rpm=600; POST /api/v1/orgs/*/invites/batch: 5xx=0.2, drop=0.05, latency=5-10ms; *: 429=0.1');
    expect(spec.seed).toBe(7);
    expect(spec.rpm).toBe(600);
    expect(spec.rules[0]).toMatchObject({ method: 'POST', p5xx: 0.2, pDrop: 0.05, latency: [5, 10] });
    expect(spec.rules[0]!.path.test('/api/v1/orgs/acme/invites/batch')).toBe(true);
    expect(spec.rules[0]!.path.test('/api/v1/orgs/acme/members')).toBe(false);
    expect(spec.rules[1]!.path.test('/anything/at/all')).toBe(true);
    expect(() => parseFaultSpec('*: 5xx=2')).toThrow(/probability/);
    expect(() => parseFaultSpec('*: boom=0.1')).toThrow(/unknown fault "boom"/);
    expect(() => parseFaultSpec('nonsense')).toThrow(/neither/);
  });

  it('is deterministic for a seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    expect(Array.from({ length: 5 }, a)).toEqual(Array.from({ length: 5 }, b));
  });
});

describe('apply against a platform that fails: 20% 5xx, 10% 429, 5% dropped connections', () => {
  let server: Served;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir();
    mkdirSync(join(dir, 'm'));
    // Seeded: the client's requests come in a fixed order, so a failure replays with the same faults.
    server = await serve(dir, { extraArgs: ['--faults', 'seed=11; *: 5xx=0.2, 429=0.1, drop=0.05'] });
  });
  afterAll(async () => server?.stop());

  it('applies a 2,000-change plan: converges, sends each invite exactly once, and then plans nothing', async () => {
    const members: [string, string][] = [['boss@flaky.example', 'owner']];
    for (let i = 0; i < 1997; i++) members.push([`p${i}@flaky.example`, i % 4 === 0 ? 'admin' : i % 4 === 1 ? 'worker' : 'member']);
    writeOrg(join(dir, 'm'), {
      name: 'flaky',
      displayName: 'Flaky',
      members,
      integrations: [
        { name: 'cross', type: 'aws-cross', options: { roleArn: 'arn:aws:iam::1:role/r' } },
        { name: 'cross-2', type: 'aws-cross', options: { roleArn: 'arn:aws:iam::1:role/s' } },
      ],
    });
    // 1 organization + 1,997 invites + 2 integrations. Batches of 20 make a hundred writes, so the faults hit
    // writes as well as reads.
    const env = { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token, ORGCTL_BATCH_SIZE: '20', ORGCTL_REQUEST_STATS: '1' };
    const saved = await orgctl(['plan', '-f', 'm', '-o', 'json'], { cwd: dir, env });
    expect(saved.code, saved.stderr).toBe(0);
    expect((JSON.parse(saved.stdout) as { changes: unknown[] }).changes).toHaveLength(2000);

    const apply = await orgctl(['apply', '-f', 'm', '--yes'], { cwd: dir, env });
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toContain('Apply complete: 2000 applied, 0 failed');
    // The faults really happened: the client retried.
    const stats = JSON.parse(/request stats: (.*)/.exec(apply.stderr)![1]!) as Record<string, number>;
    expect(stats.retries).toBeGreaterThan(10);

    const plan = await orgctl(['plan', '-f', 'm', '--detailed-exitcode'], { cwd: dir, env });
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);

    const db = new Database(join(dir, 'server.db'), { readonly: true });
    const sends = db.prepare("SELECT target, COUNT(*) AS n FROM audit WHERE action = 'invite.send' GROUP BY target").all() as { n: number }[];
    const roles = db.prepare("SELECT role, COUNT(*) AS n FROM invites i JOIN orgs o ON o.id = i.org_id WHERE o.name = 'flaky' AND i.status = 'pending' GROUP BY role ORDER BY role").all();
    db.close();
    expect(sends).toHaveLength(1997);
    expect(sends.filter((s) => s.n !== 1)).toEqual([]);
    expect(roles).toEqual([
      { role: 'admin', n: 500 },
      { role: 'member', n: 998 },
      { role: 'worker', n: 499 },
    ]);
  });
});

describe('a requests-per-minute limit', () => {
  it('answers 429 with Retry-After past the limit, per token', async () => {
    const { openPlatform } = await import('../../src/server/platform.js');
    const { buildApp } = await import('../../src/server/http/app.js');
    const platform = openPlatform({ db: ':memory:' });
    const { token } = platform.identity.init({ org: 'acme', ownerEmail: 'root@acme.example' });
    const other = platform.identity.createToken('x@else.example', 't').token;
    const app = buildApp(platform, { faults: parseFaultSpec('rpm=3; burst=3') });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const get = (t: string) => fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${t}` } });
      for (let i = 0; i < 3; i++) expect((await get(token)).status).toBe(200);
      const limited = await get(token);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
      expect((await get(other)).status).toBe(200);
    } finally {
      await app.close();
      platform.close();
    }
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgctl, tempDir } from '../e2e/cli.js';
import { FakeAngo, type FakeAngoOrg } from '../fakes/ango.js';

/**
 * A 1,000-member Ango Hub organization applied by the real CLI under the fake's rate limit, with no 429.
 *
 * Ango's standard plan allows 100 requests a minute. At that pace the ~150 requests of this test would take
 * about a minute and a half, so the fake's window is shortened five times (100 requests per 12 s) and the
 * client's limit scaled the same way: --rate-limit 475, i.e. the adapter's default of 100 a minute less its 5%
 * margin, times five. `--batch-size 20` makes the first apply send more requests than one window allows (with
 * the default batch of 100 the whole apply is about 25 requests), so only the client's spacing keeps it from
 * a 429. Requests go one at a time, so a window can hold at most one request sent before it began plus those
 * sent in it: 95 + 1 at this spacing, unless the child stalls over 600 ms between spacing and sending.
 */

const SCALE = 5;
const ADMIN = 'admin@acme.example';
const people = (n: number) => Array.from({ length: n }, (_, i) => `p${String(i).padStart(4, '0')}@acme.example`);

function manifest(orgId: string, policy: string, members: [string, string][]): string {
  return [
    'apiVersion: orgctl.dev/v1alpha1',
    'kind: Organization',
    'metadata:',
    '  name: acme',
    '  annotations:',
    `    orgctl.dev/external-id: "${orgId}"`,
    'spec:',
    `  members: {policy: ${policy}}`,
    '---',
    'apiVersion: orgctl.dev/v1alpha1',
    'kind: Membership',
    'metadata: {name: acme-people}',
    'spec:',
    '  organization: acme',
    '  members:',
    ...members.map(([email, role]) => `    - {email: ${email}, role: ${role}}`),
    '',
  ].join('\n');
}

describe('Ango Hub: 1,000 members under 100 requests a minute', () => {
  let fake: FakeAngo;
  let org: FakeAngoOrg;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    fake = await new FakeAngo().start();
    fake.rate = { limit: 100, windowMs: 60_000 / SCALE };
    org = fake.addOrg(ADMIN);
    dir = tempDir('orgctl-ango-1000-');
    env = { ORGCTL_PLATFORM: `ango+${fake.base}`, ORGCTL_TOKEN: fake.apiKey(ADMIN, org), ORGCTL_USER: ADMIN, ORGCTL_REQUEST_STATS: '1' };
  });
  afterAll(() => fake?.stop());

  const apply = (file: string, extra: string[] = []) =>
    orgctl(['apply', '-f', file, '--yes', '--batch-size', '20', '--rate-limit', String(100 * 0.95 * SCALE), ...extra], { cwd: dir, env });

  it('invites 1,000, then changes 300 roles and removes 100, with no 429', async () => {
    const everyone = people(1000);
    writeFileSync(join(dir, 'first.yaml'), manifest(org.id, 'additive', [[ADMIN, 'admin'], ...everyone.map((e, i): [string, string] => [e, i % 10 === 0 ? 'admin' : 'member'])]));
    const started = performance.now();
    const first = await apply('first.yaml');
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain('Apply complete: 1000 applied, 0 failed, 0 not attempted.');
    const firstRequests = fake.requests.length;
    expect(org.invites.size).toBe(1000);

    fake.acceptAll(org);
    // 300 role changes both ways, 100 people no longer declared (authoritative).
    const second = everyone.slice(0, 900).map((e, i): [string, string] => [e, i < 300 ? (i % 10 === 0 ? 'member' : 'admin') : i % 10 === 0 ? 'admin' : 'member']);
    writeFileSync(join(dir, 'second.yaml'), manifest(org.id, 'authoritative', [[ADMIN, 'admin'], ...second]));
    const again = await apply('second.yaml', ['--max-removals', '100']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('Apply complete: 400 applied, 0 failed, 0 not attempted.');
    expect(org.members.size).toBe(901);

    const check = await orgctl(['plan', '-f', 'second.yaml', '--detailed-exitcode', '--rate-limit', String(100 * 0.95 * SCALE)], { cwd: dir, env });
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const seconds = (performance.now() - started) / 1000;

    const total = fake.requests.length;
    const rejected = fake.requests.filter((r) => r.status === 429).length;
    console.log(`ango 1,000 members: ${total} requests (first apply ${firstRequests}), ${rejected} x 429, ${seconds.toFixed(1)} s wall time, fake window ${60 / SCALE} s / 100 requests, client --rate-limit ${100 * 0.95 * SCALE}/min`);
    expect(rejected).toBe(0);
    expect(fake.rejected).toBe(0);
    // More requests than one window allows, so the limit was in play.
    expect(firstRequests).toBeGreaterThan(fake.rate.limit);
    for (const run of [first, again, check]) expect(run.stderr).not.toContain('answered 429');
  });
});

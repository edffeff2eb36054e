import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, writeOrg } from './cli.js';
import { startOrgctl, until } from './proc.js';
import { serve } from './server.js';

describe('a platform that goes away in the middle of an apply', () => {
  it('is given up on after one request has retried: the rest is not attempted, and says the platform is unreachable', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    const server = await serve(dir, { extraArgs: ['--faults', 'POST /api/v1/orgs/*/invites/batch: latency=40ms'] });
    writeOrg(join(dir, 'm'), { name: 'acme', members: [['ops@platform.example', 'owner'], ...Array.from({ length: 240 }, (_, i): [string, string] => [`p${i}@acme.example`, 'member'])] });
    const run = startOrgctl(['apply', '-f', 'm', '--yes'], {
      cwd: dir,
      env: { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token, ORGCTL_BATCH_SIZE: '1', ORGCTL_REQUEST_STATS: '1' },
    });
    await until(() => /applied \d+\/241/.test(run.stderr()), 'the apply to be under way');
    server.child.kill('SIGKILL');
    const end = await run.done;
    expect(end.code).toBe(1);
    const summary = /Apply incomplete: (\d+) applied, (\d+) failed, (\d+) not attempted\./.exec(end.stdout);
    expect(summary, end.stdout).not.toBeNull();
    const [applied, failed, skipped] = summary!.slice(1).map(Number) as [number, number, number];
    expect(applied + failed + skipped).toBe(241);
    expect(skipped).toBeGreaterThan(100);
    expect(end.stdout).toContain(`invite x ${skipped}: ${server.url} is unreachable`);
    // One request retried (6 attempts in all), then none: not six attempts for each of the remaining batches.
    const stats = JSON.parse(/request stats: (.*)/.exec(end.stderr)![1]!) as Record<string, number>;
    expect(stats['POST /orgs/:org/invites/batch']).toBeLessThanOrEqual(applied + failed + 6);
  });
});

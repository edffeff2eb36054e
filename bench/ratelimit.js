// bench/ratelimit: 300 changes applied one item per request (--batch-size 1) against `orgctl platform serve`
// limited to 600 requests a minute (a token bucket, as API gateways run one). The bound is 300 requests at
// 600 a minute: 30 s. Targets (issue 5): wall time within 10% of it, and no 429 provoked. For contrast, the
// same apply without the client-side limiter: it bounces off the server's limit and sleeps on Retry-After.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runOrgctl, verdict } from './lib/measure.js';
import { startServer } from './platform.js';

const CHANGES = 300;
const RPM = 600;
const BOUND_MS = (CHANGES / RPM) * 60_000;

function writeManifests(dir) {
  mkdirSync(dir, { recursive: true });
  // Creating the organization is one change; each of the 299 invites is another.
  const lines = [
    'apiVersion: orgctl.dev/v1alpha1', 'kind: Organization', 'metadata:', '  name: rl-org', 'spec:', '  members:', '    policy: additive',
    '---', 'apiVersion: orgctl.dev/v1alpha1', 'kind: Membership', 'metadata:', '  name: rl-people', 'spec:', '  organization: rl-org', '  members:',
    '    - email: owner@rl.example', '      role: owner',
  ];
  for (let i = 0; i < CHANGES - 1; i++) lines.push(`    - email: user${i}@rl.example`, '      role: member');
  writeFileSync(join(dir, 'rl.yaml'), `${lines.join('\n')}\n`);
}

function parseStats(stderr) {
  const m = /request stats: (\{.*\})/.exec(stderr);
  return m ? JSON.parse(m[1]) : {};
}

async function applyOnce(dir, name, clientLimit) {
  const db = join(dir, `${name}.db`);
  const init = runOrgctl(['platform', 'init', '--db', db, '--org', 'bootstrap', '--owner', 'ops@rl.example']);
  if (init.status !== 0) throw new Error(`platform init failed: ${init.stderr}`);
  const token = init.stdout.trim();
  const { child, url } = await startServer(db, join(dir, `${name}-rusage.json`), ['--faults', `rpm=${RPM}`]);
  try {
    const args = ['apply', '-f', join(dir, 'm'), '--yes', '--batch-size', '1', ...(clientLimit ? ['--rate-limit', String(RPM)] : [])];
    const run = runOrgctl(args, { env: { ORGCTL_PLATFORM: url, ORGCTL_TOKEN: token, ORGCTL_REQUEST_STATS: '1' } });
    if (run.status !== 0) throw new Error(`apply failed (${run.status}): ${run.stdout.slice(-2000)}${run.stderr.slice(-2000)}`);
    if (!run.stdout.includes(`Apply complete: ${CHANGES} applied`)) throw new Error(`apply did not apply ${CHANGES} changes:\n${run.stdout.slice(-500)}`);
    const stats = parseStats(run.stderr);
    const requests = Object.entries(stats).filter(([k]) => /^(GET|POST|PUT|PATCH|DELETE) /.test(k)).reduce((n, [, v]) => n + v, 0);
    return { wallMs: run.wallMs, requests, throttled: stats['answered 429'] ?? 0 };
  } finally {
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

export async function benchRatelimit() {
  const dir = join(ROOT, 'bench/.data/ratelimit');
  rmSync(dir, { recursive: true, force: true });
  writeManifests(join(dir, 'm'));
  console.log(`bench/ratelimit: ${CHANGES} changes, batch size 1, server limited to ${RPM} requests a minute (bound ${BOUND_MS / 1000} s)`);
  const limited = await applyOnce(dir, 'limited', true);
  const ratio = limited.wallMs / BOUND_MS;
  const within = Math.abs(ratio - 1) <= 0.1;
  console.log(
    `  with --rate-limit ${RPM}: wall ${(limited.wallMs / 1000).toFixed(1)} s = ${(ratio * 100).toFixed(1)}% of the bound [target within 10%: ${within ? 'PASS' : 'FAIL'}]; ` +
      `${limited.requests} requests (${limited.requests - CHANGES} reads, lock and lease renewals); 429s provoked: ${limited.throttled} [target 0: ${verdict(limited.throttled, 0)}]`,
  );
  const unlimited = await applyOnce(dir, 'unlimited', false);
  console.log(
    `  without a client limit (contrast): wall ${(unlimited.wallMs / 1000).toFixed(1)} s, ${unlimited.requests} requests, 429s provoked: ${unlimited.throttled}`,
  );
  rmSync(dir, { recursive: true, force: true });
  return within && limited.throttled === 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await benchRatelimit()) ? 0 : 1;

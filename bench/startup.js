// bench/startup: what a small command costs to start. `orgctl plan` on a two-document file (no embedded
// database yet, as in a fresh checkout; then with one), and `orgctl validate`, against `node -e 0` measured
// in the same run, interleaved. Target (issue 22): plan on a tiny file <= 3x `node -e 0`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, ROOT, runOrgctl, verdict } from './lib/measure.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 21);
const TINY = `apiVersion: orgctl.dev/v1alpha1
kind: Organization
metadata:
  name: tiny
spec:
  plan: freemium
---
apiVersion: orgctl.dev/v1alpha1
kind: Membership
metadata:
  name: tiny-people
spec:
  organization: tiny
  members:
    - email: owner@tiny.example
      role: owner
`;

function bareNode() {
  const start = process.hrtime.bigint();
  spawnSync(process.execPath, ['-e', '0']);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export async function benchStartup() {
  const dir = join(ROOT, 'bench/.data/startup');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'tiny.yaml');
  writeFileSync(file, TINY);
  const db = join(dir, 'platform.db');
  const env = { ORGCTL_USER: 'owner@tiny.example' };
  const applied = runOrgctl(['apply', '-f', file, '--platform', `file:${db}`, '--yes'], { env });
  if (applied.status !== 0) throw new Error(`apply failed: ${applied.stderr}`);
  const runs = { node: [], fresh: [], existing: [], validate: [] };
  for (let i = 0; i < RUNS; i++) {
    runs.node.push(bareNode());
    runs.fresh.push(runOrgctl(['plan', '-f', file, '--platform', `file:${join(dir, 'none.db')}`], { env }).wallMs);
    runs.existing.push(runOrgctl(['plan', '-f', file, '--platform', `file:${db}`], { env }).wallMs);
    runs.validate.push(runOrgctl(['validate', '-f', file], { env }).wallMs);
  }
  const base = median(runs.node);
  console.log(`bench/startup: ${RUNS} runs each, interleaved; node -e 0: median ${base.toFixed(0)} ms`);
  let ok = true;
  for (const [label, key, target] of [
    ['plan, tiny file, no embedded database yet', 'fresh', 3],
    ['plan, tiny file, embedded database', 'existing', undefined],
    ['validate, tiny file', 'validate', undefined],
  ]) {
    const ms = median(runs[key]);
    const ratio = ms / base;
    if (target) ok = ratio <= target && ok;
    console.log(`  ${label}: median ${ms.toFixed(0)} ms = ${ratio.toFixed(2)}x node -e 0${target ? ` [target <= ${target}x: ${verdict(ratio, target)}]` : ''} (min ${Math.min(...runs[key]).toFixed(0)} ms)`);
  }
  return ok;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = (await benchStartup()) ? 0 : 1;
}

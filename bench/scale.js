// bench/scale: one organization whose Membership of N people is one file (1,000,000 by default: 107 MiB of
// YAML), on the embedded platform, each step a real `orgctl` process: validate; apply from empty (the
// organization created, every person invited); then plan with 1% drift (role changes, removals, new people)
// against the 1,000,000 pending invites. Wall time and peak RSS of each, and the same at 100,000 for how they
// grow. Targets (issues 10 and 22): every step completes; peak RSS under 2 GB; growth linear within 20% (time
// per person at 1,000,000 at most 1.2x that at 100,000). BENCH_SCALE_SIZES=100000,1000000 sets the sizes.
import { closeSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runOrgctl, verdict } from './lib/measure.js';

const SIZES = (process.env.BENCH_SCALE_SIZES ?? '100000,1000000').split(',').map(Number);
const TARGET_RSS_MIB = 2e9 / 1048576; // 2 GB
const TARGET_GROWTH = 1.2;
const roles = ['member', 'member', 'member', 'worker', 'worker', 'admin'];

/** The Organization and the Membership of `people` (the owner first), with `drift` applied when asked. */
function writeManifests(dir, people, { drift = false } = {}) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const org = openSync(join(dir, 'organization.yaml'), 'w');
  writeSync(org, 'apiVersion: orgctl.dev/v1alpha1\nkind: Organization\nmetadata:\n  name: scale-org\nspec:\n  displayName: Scale Org\n  plan: premium\n  members:\n    policy: authoritative\n');
  closeSync(org);
  const fd = openSync(join(dir, 'members.yaml'), 'w');
  writeSync(fd, 'apiVersion: orgctl.dev/v1alpha1\nkind: Membership\nmetadata:\n  name: scale-org-people\nspec:\n  organization: scale-org\n  role: member\n  members:\n    - email: owner@scale.example\n      role: owner\n');
  const third = Math.floor(people / 300); // 1% drift: a third each of role changes, removals, new people
  let chunk = [];
  const flush = () => {
    writeSync(fd, chunk.join(''));
    chunk = [];
  };
  for (let i = 0; i < people - 1; i++) {
    if (drift && i < third) continue; // removed (cancelled: still pending)
    let role = roles[i % roles.length];
    if (drift && i < 2 * third) role = role === 'worker' ? 'member' : 'worker';
    chunk.push(`    - email: user${i}@scale.example\n      role: ${role}\n      firstName: First${i}\n      lastName: Last${i}\n`);
    if (chunk.length === 10_000) flush();
  }
  if (drift) for (let k = 0; k < third; k++) chunk.push(`    - email: new${k}@scale.example\n      role: member\n`);
  flush();
  closeSync(fd);
  return statSync(join(dir, 'members.yaml')).size;
}

function step(label, args, env) {
  const r = runOrgctl(args, { env });
  if (r.status !== 0 && !(label === 'plan' && r.status === 2)) throw new Error(`${label} failed (exit ${r.status}): ${r.stderr.slice(0, 2000)} ${r.stdout.slice(-500)}`);
  return r;
}

export async function benchScale() {
  const dir = join(ROOT, 'bench/.data/scale');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const env = { ORGCTL_USER: 'owner@scale.example', ORGCTL_MAX_MANIFEST_SIZE: '512MiB' };
  const results = [];
  let ok = true;
  for (const people of SIZES) {
    const manifests = join(dir, `manifests-${people}`);
    const bytes = writeManifests(manifests, people);
    const db = join(dir, `platform-${people}.db`);
    console.log(`bench/scale: ${people.toLocaleString('en-US')} people in one file (${(bytes / 1048576).toFixed(0)} MiB of YAML), embedded platform`);
    const validate = step('validate', ['validate', '-f', manifests], env);
    const apply = step('apply', ['apply', '-f', manifests, '--platform', `file:${db}`, '--yes'], env);
    const drifted = join(dir, `drifted-${people}`);
    writeManifests(drifted, people, { drift: true });
    const plan = step('plan', ['plan', '-f', drifted, '--platform', `file:${db}`, '-o', 'json', '--detailed-exitcode'], env);
    const summary = JSON.parse(plan.stdout).summary;
    const row = { people, validate, apply, plan };
    results.push(row);
    for (const [label, r] of [
      ['validate', validate],
      ['apply from empty (every person invited)', apply],
      [`plan, 1% drift (${summary.total} changes)`, plan],
    ]) {
      const rssOk = r.peakRssMiB <= TARGET_RSS_MIB;
      ok = rssOk && ok;
      console.log(`  ${label}: ${(r.wallMs / 1000).toFixed(1)} s, peak RSS ${r.peakRssMiB.toFixed(0)} MiB [target < 2 GB: ${rssOk ? 'PASS' : 'FAIL'}]`);
    }
    rmSync(db, { force: true });
    rmSync(`${db}-wal`, { force: true });
    rmSync(`${db}-shm`, { force: true });
  }
  if (results.length >= 2) {
    const [small, large] = [results[0], results[results.length - 1]];
    const scale = large.people / small.people;
    console.log(`  growth from ${small.people.toLocaleString('en-US')} to ${large.people.toLocaleString('en-US')} people (${scale}x), time per person, large / small [target <= ${TARGET_GROWTH}]:`);
    for (const key of ['validate', 'apply', 'plan']) {
      const growth = large[key].wallMs / small[key].wallMs / scale;
      const rss = large[key].peakRssMiB / small[key].peakRssMiB;
      ok = growth <= TARGET_GROWTH && ok;
      console.log(`    ${key}: ${(small[key].wallMs / 1000).toFixed(1)} s -> ${(large[key].wallMs / 1000).toFixed(1)} s: ${growth.toFixed(2)} [${verdict(growth, TARGET_GROWTH)}]; peak RSS ${small[key].peakRssMiB.toFixed(0)} -> ${large[key].peakRssMiB.toFixed(0)} MiB (${rss.toFixed(1)}x)`);
    }
  }
  return ok;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = (await benchScale()) ? 0 : 1;
}

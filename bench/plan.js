// bench/plan: a 100,000-member organization with 1% drift (invites, role changes, removals).
// Times end-to-end `orgctl plan` (a real child process) on the embedded platform and over HTTP against
// `orgctl platform serve`, with peak memory and platform requests by kind; then the same for `apply`.
// Targets (issues 4 and 22): plan under 1.6 s and 400 MB embedded, under 2.5 s over HTTP; list pages only;
// batched writes. Then (issue 10):
//   (a) 100,000 pending invites (a bulk onboarding not yet accepted), 1% drift: plan embedded <= 2.5x and
//       over HTTP <= 3.5x the wall time of a bare Node process parsing the same YAML with js-yaml, measured in
//       the same run;
//   (b) 200 organizations x 500 members, 1% drift, over HTTP: plan with --parallelism 10 vs 1 (>= 3x faster).
// BENCH_CASES=members,pending,orgs runs some of them.
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bareParse, median, ROOT, runOrgctl, verdict } from './lib/measure.js';
import { seedOrganization, seedOrganizations, seedPendingInvites } from './lib/seed.js';
import { startServer } from './platform.js';

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DRIFT = Math.floor(MEMBERS / 100);
const CASES = (process.env.BENCH_CASES ?? 'members,pending,orgs').split(',');
const ORGS = Number(process.env.BENCH_ORGS ?? 200);
const ORG_MEMBERS = Number(process.env.BENCH_ORG_MEMBERS ?? 500);

function writeManifests(dir, roleOf) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'organization.yaml'),
    'apiVersion: orgctl.dev/v1alpha1\nkind: Organization\nmetadata:\n  name: bench-org\nspec:\n  plan: freemium\n  members:\n    policy: authoritative\n',
  );
  const third = Math.floor(DRIFT / 3);
  const lines = ['apiVersion: orgctl.dev/v1alpha1', 'kind: Membership', 'metadata:', '  name: bench-people', 'spec:', '  organization: bench-org', '  members:'];
  lines.push('    - email: owner@bench.example', '      role: owner');
  for (let j = 0; j < MEMBERS - 1; j++) {
    if (j < third) continue; // removed: on the platform, not declared
    let role = roleOf(j);
    if (j >= third && j < 2 * third) role = role === 'worker' ? 'member' : 'worker'; // role change (no owners involved)
    lines.push(`    - email: user${j}@bench.example`, `      role: ${role}`, `      firstName: First${j}`, `      lastName: Last${j}`);
  }
  for (let k = 0; k < DRIFT - 2 * third; k++) lines.push(`    - email: new${k}@bench.example`, '      role: member'); // invites
  writeFileSync(join(dir, 'members.yaml'), `${lines.join('\n')}\n`);
}

function fresh(seedDb, dir, name) {
  const db = join(dir, `${name}.db`);
  rmSync(db, { force: true });
  rmSync(`${db}-wal`, { force: true });
  copyFileSync(seedDb, db);
  copyFileSync(`${seedDb}.key`, `${db}.key`);
  return db;
}

function parseStats(stderr) {
  const m = /request stats: (\{.*\})/.exec(stderr);
  return m ? JSON.parse(m[1]) : {};
}

function report(label, runs, targetMs, targetMiB) {
  const ms = median(runs.map((r) => r.wallMs));
  const mib = Math.max(...runs.map((r) => r.peakRssMiB));
  const pass = ms <= targetMs && (targetMiB === undefined || mib <= targetMiB);
  console.log(
    `  ${label}: median ${ms.toFixed(0)} ms [target < ${targetMs} ms: ${verdict(ms, targetMs)}], peak RSS ${mib.toFixed(0)} MiB${targetMiB ? ` [target < ${targetMiB} MB: ${verdict(mib, targetMiB)}]` : ''}`,
  );
  return pass;
}

async function membersCase(dir) {
  const seedDb = join(dir, 'seed.db');
  const { token, loadMs, roleOf } = await seedOrganization(seedDb, 'bench-org', MEMBERS);
  writeManifests(join(dir, 'manifests'), roleOf);
  const manifests = join(dir, 'manifests');
  console.log(`bench/plan: ${MEMBERS} members, ${DRIFT} drifted (invites, role changes, removals); seeded in ${(loadMs / 1000).toFixed(1)} s`);
  let ok = true;
  const env = { ORGCTL_USER: 'owner@bench.example', ORGCTL_REQUEST_STATS: '1' };

  // Embedded: the SQLite file opened in-process.
  const embedded = [];
  const db = fresh(seedDb, dir, 'embedded');
  for (let i = 0; i < RUNS; i++) {
    const r = runOrgctl(['plan', '-f', manifests, '--platform', `file:${db}`, '-o', 'json'], { env });
    if (r.status !== 0) throw new Error(`plan failed: ${r.stderr.slice(0, 2000)}`);
    embedded.push(r);
  }
  const plan = JSON.parse(embedded[0].stdout);
  console.log(`  plan found ${plan.summary.total} changes: ${JSON.stringify(Object.fromEntries(Object.entries(plan.summary).filter(([k]) => k !== 'total')))}`);
  ok = report('plan, embedded', embedded, 1600, 400) && ok;
  const applyEmbedded = [];
  for (let i = 0; i < RUNS; i++) {
    const target = fresh(seedDb, dir, `apply-embedded-${i}`);
    const r = runOrgctl(['apply', '-f', manifests, '--platform', `file:${target}`, '--yes'], { env });
    if (r.status !== 0) throw new Error(`apply failed: ${r.stdout.slice(-2000)} ${r.stderr.slice(0, 2000)}`);
    applyEmbedded.push(r);
  }
  report('apply (plan + write), embedded', applyEmbedded, 10_000, 400);

  // HTTP: the same database behind `orgctl platform serve`.
  for (const [label, args, target] of [
    ['plan, over HTTP', ['plan', '-f', manifests, '-o', 'json'], 2500],
    ['apply (plan + write), over HTTP', ['apply', '-f', manifests, '--yes'], 15_000],
  ]) {
    const runs = [];
    let stats = {};
    for (let i = 0; i < RUNS; i++) {
      const served = fresh(seedDb, dir, `http-${i}`);
      const server = await startServer(served, join(dir, `server-${i}.json`));
      try {
        const r = runOrgctl(args, { env: { ...env, ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: token } });
        if (r.status !== 0) throw new Error(`${label} failed: ${r.stderr.slice(0, 2000)}`);
        runs.push(r);
        stats = parseStats(r.stderr);
      } finally {
        const exited = new Promise((resolve) => server.child.on('exit', resolve));
        server.child.kill('SIGTERM');
        await exited;
      }
    }
    const pass = report(label, runs, target);
    if (label.startsWith('plan')) ok = pass && ok;
    console.log(`    requests by kind: ${JSON.stringify(stats)}`);
    const perMember = Object.keys(stats).filter((k) => k.includes(':email'));
    if (perMember.length) {
      console.log(`    per-member requests found: ${perMember.join(', ')} [target: none: FAIL]`);
      ok = false;
    }
  }
  return ok;
}

/** Stops a server started by startServer and waits for it to exit. */
async function stop(server) {
  const exited = new Promise((resolve) => server.child.on('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

/** (a) 100,000 pending invites, 1% drift: plan against a bare js-yaml parse of the same files, in the same run. */
async function pendingCase(dir) {
  const seedDb = join(dir, 'pending.db');
  const { token, loadMs, roleOf } = await seedPendingInvites(seedDb, 'bench-org', MEMBERS - 1);
  const manifests = join(dir, 'pending-manifests');
  writeManifests(manifests, roleOf);
  const files = readdirSync(manifests).map((f) => join(manifests, f));
  console.log(`bench/plan (a): ${MEMBERS - 1} pending invites, ${DRIFT} drifted (reinvites, cancellations, invites); seeded in ${(loadMs / 1000).toFixed(1)} s`);
  const env = { ORGCTL_USER: 'owner@bench.example', ORGCTL_REQUEST_STATS: '1' };
  const bare = [];
  const embedded = [];
  const http = [];
  const db = fresh(seedDb, dir, 'pending-embedded');
  const served = fresh(seedDb, dir, 'pending-http');
  const server = await startServer(served, join(dir, 'pending-server.json'));
  let stats = {};
  try {
    // Interleaved, so a busy moment on a shared machine hits all three alike.
    for (let i = 0; i < RUNS; i++) {
      bare.push(bareParse(files));
      const e = runOrgctl(['plan', '-f', manifests, '--platform', `file:${db}`, '-o', 'json'], { env });
      if (e.status !== 0) throw new Error(`plan failed: ${e.stderr.slice(0, 2000)}`);
      embedded.push(e);
      const h = runOrgctl(['plan', '-f', manifests, '-o', 'json'], { env: { ...env, ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: token } });
      if (h.status !== 0) throw new Error(`plan over HTTP failed: ${h.stderr.slice(0, 2000)}`);
      http.push(h);
      stats = parseStats(h.stderr);
    }
  } finally {
    await stop(server);
  }
  const plan = JSON.parse(embedded[0].stdout);
  console.log(`  plan found ${plan.summary.total} changes: ${JSON.stringify(Object.fromEntries(Object.entries(plan.summary).filter(([k]) => k !== 'total')))}`);
  const base = median(bare.map((r) => r.wallMs));
  console.log(`  bare node + js-yaml parse of the same YAML: median ${base.toFixed(0)} ms (runs: ${bare.map((r) => r.wallMs.toFixed(0)).join(', ')})`);
  let ok = true;
  for (const [label, runs, factor] of [
    ['plan, embedded', embedded, 2.5],
    ['plan, over HTTP', http, 3.5],
  ]) {
    const ms = median(runs.map((r) => r.wallMs));
    const ratio = ms / base;
    const mib = Math.max(...runs.map((r) => r.peakRssMiB));
    console.log(
      `  ${label}: median ${ms.toFixed(0)} ms = ${ratio.toFixed(2)}x the bare parse [target <= ${factor}x: ${verdict(ratio, factor)}], peak RSS ${mib.toFixed(0)} MiB (runs: ${runs.map((r) => r.wallMs.toFixed(0)).join(', ')})`,
    );
    ok = ratio <= factor && ok;
  }
  console.log(`    requests by kind (HTTP): ${JSON.stringify(stats)}`);
  return ok;
}

function writeOrgManifests(dir, names, roleOf) {
  mkdirSync(dir, { recursive: true });
  const drift = Math.max(3, Math.floor(ORG_MEMBERS / 100));
  const third = Math.floor(drift / 3);
  for (const org of names) {
    const lines = [
      'apiVersion: orgctl.dev/v1alpha1', 'kind: Organization', 'metadata:', `  name: ${org}`, 'spec:', '  plan: freemium', '  members:', '    policy: authoritative',
      '---', 'apiVersion: orgctl.dev/v1alpha1', 'kind: Membership', 'metadata:', `  name: ${org}-people`, 'spec:', `  organization: ${org}`, '  members:',
      '    - email: owner@bench.example', '      role: owner',
    ];
    for (let j = 0; j < ORG_MEMBERS - 1; j++) {
      if (j < third) continue; // removed
      let role = roleOf(j);
      if (j < 2 * third) role = role === 'worker' ? 'member' : 'worker';
      lines.push(`    - email: user${j}@${org}.example`, `      role: ${role}`, `      firstName: First${j}`, `      lastName: Last${j}`);
    }
    for (let k = 0; k < drift - 2 * third; k++) lines.push(`    - email: new${k}@${org}.example`, '      role: member');
    writeFileSync(join(dir, `${org}.yaml`), `${lines.join('\n')}\n`);
  }
}

/**
 * (b) 200 organizations x 500 members, 1% drift, over HTTP: --parallelism 10 against 1. On loopback a request
 * waits very little, so the same is also measured with 10 ms added to every answer (`--faults`), as a platform
 * across a network would take.
 */
async function orgsCase(dir) {
  const seedDb = join(dir, 'orgs.db');
  const { token, loadMs, roleOf, names } = await seedOrganizations(seedDb, ORGS, ORG_MEMBERS);
  const manifests = join(dir, 'orgs-manifests');
  writeOrgManifests(manifests, names, roleOf);
  console.log(`bench/plan (b): ${ORGS} organizations x ${ORG_MEMBERS} members, 1% drift each, over HTTP; seeded in ${(loadMs / 1000).toFixed(1)} s`);
  const env = { ORGCTL_USER: 'owner@bench.example' };
  let ok = true;
  for (const [label, faults] of [
    ['loopback', []],
    ['10 ms added to every answer', ['--faults', '*: latency=10-10ms']],
  ]) {
    const served = fresh(seedDb, dir, 'orgs-http');
    const server = await startServer(served, join(dir, 'orgs-server.json'), faults);
    const runs = { 1: [], 10: [] };
    let changes;
    try {
      for (let i = 0; i < RUNS; i++) {
        for (const n of [1, 10]) {
          const r = runOrgctl(['plan', '-f', manifests, '-o', 'json', '--parallelism', String(n)], { env: { ...env, ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: token } });
          if (r.status !== 0) throw new Error(`plan failed: ${r.stderr.slice(0, 2000)}`);
          changes ??= JSON.parse(r.stdout).summary.total;
          runs[n].push(r);
        }
      }
    } finally {
      await stop(server);
    }
    const one = median(runs[1].map((r) => r.wallMs));
    const ten = median(runs[10].map((r) => r.wallMs));
    const speedup = one / ten;
    const judged = label !== 'loopback';
    console.log(
      `  ${label}: ${changes} changes; --parallelism 1: median ${one.toFixed(0)} ms, --parallelism 10: median ${ten.toFixed(0)} ms: ${speedup.toFixed(2)}x faster` +
        (judged ? ` [target >= 3x: ${speedup >= 3 ? 'PASS' : 'FAIL'}]` : ' [for information: on loopback a read hardly waits]'),
    );
    if (judged) ok = speedup >= 3 && ok;
  }
  return ok;
}

export async function benchPlan() {
  const dir = join(ROOT, 'bench/.data/plan');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let ok = true;
  if (CASES.includes('members')) ok = (await membersCase(dir)) && ok;
  if (CASES.includes('pending')) ok = (await pendingCase(dir)) && ok;
  if (CASES.includes('orgs')) ok = (await orgsCase(dir)) && ok;
  return ok;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = (await benchPlan()) ? 0 : 1;
}

// bench/plan: a 100,000-member organization with 1% drift (invites, role changes, removals).
// Times end-to-end `orgctl plan` (a real child process) on the embedded platform and over HTTP against
// `orgctl platform serve`, with peak memory and platform requests by kind; then the same for `apply`.
// Targets (issue 4): plan under 2 s and 400 MB embedded, under 3 s over HTTP; list pages only; batched writes.
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, ROOT, runOrgctl, verdict } from './lib/measure.js';
import { seedOrganization } from './lib/seed.js';
import { startServer } from './platform.js';

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DRIFT = Math.floor(MEMBERS / 100);

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

export async function benchPlan() {
  const dir = join(ROOT, 'bench/.data/plan');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
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
  ok = report('plan, embedded', embedded, 2000, 400) && ok;
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
    ['plan, over HTTP', ['plan', '-f', manifests, '-o', 'json'], 3000],
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

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = (await benchPlan()) ? 0 : 1;
}

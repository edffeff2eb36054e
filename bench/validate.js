// bench/validate: generates a 100,000-member organization and times `orgctl validate` on it, end to end
// (a real child process: start-up, reading, parsing, schema and cross-object checks), reporting the
// peak memory of that process. Targets (issue 2): under 1.5 s and under 300 MB.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, ROOT, runOrgctl, verdict } from './lib/measure.js';

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET_MS = 1500;
const TARGET_MIB = 300;

const roles = ['member', 'member', 'member', 'worker', 'worker', 'admin'];
const projectRoles = ['annotator', 'reviewer', 'manager'];

export function generateOrganization(dir, members) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'organization.yaml'),
    [
      'apiVersion: orgctl.dev/v1alpha1',
      'kind: Organization',
      'metadata:',
      '  name: bench-org',
      'spec:',
      '  displayName: Bench Org',
      '  plan: premium',
      '  members:',
      '    policy: authoritative',
      '',
    ].join('\n'),
  );
  const lines = [
    'apiVersion: orgctl.dev/v1alpha1',
    'kind: Membership',
    'metadata:',
    '  name: bench-org-people',
    'spec:',
    '  organization: bench-org',
    '  role: member',
    '  members:',
    '    - email: owner@bench.example',
    '      role: owner',
  ];
  for (let i = 0; i < members - 1; i++) {
    lines.push(`    - email: user${i}@bench.example`);
    lines.push(`      role: ${roles[i % roles.length]}`);
    lines.push(`      firstName: First${i}`);
    lines.push(`      lastName: Last${i}`);
    if (i % 10 === 0) {
      lines.push('      projects:');
      lines.push(`        - project: project-${i % 50}`);
      lines.push(`          role: ${projectRoles[i % 3]}`);
    }
  }
  writeFileSync(join(dir, 'members.yaml'), `${lines.join('\n')}\n`);
}

export function benchValidate() {
  const dir = join(ROOT, 'bench/.data', `validate-${MEMBERS}`);
  generateOrganization(dir, MEMBERS);
  const bytes = statSync(join(dir, 'members.yaml')).size;
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const r = runOrgctl(['validate', '-f', dir]);
    if (r.status !== 0) throw new Error(`validate failed (exit ${r.status}):\n${r.stderr.slice(0, 2000)}`);
    runs.push(r);
  }
  const ms = median(runs.map((r) => r.wallMs));
  const mib = Math.max(...runs.map((r) => r.peakRssMiB));
  console.log(`bench/validate: ${MEMBERS} members, ${(bytes / 1048576).toFixed(1)} MiB of YAML, ${RUNS} runs`);
  console.log(`  validate wall time (median, incl. node start-up): ${ms.toFixed(0)} ms  [target < ${TARGET_MS} ms: ${verdict(ms, TARGET_MS)}]`);
  console.log(`  validate wall time (min / max):                  ${Math.min(...runs.map((r) => r.wallMs)).toFixed(0)} / ${Math.max(...runs.map((r) => r.wallMs)).toFixed(0)} ms`);
  console.log(`  peak RSS (max over runs):                        ${mib.toFixed(0)} MiB  [target < ${TARGET_MIB} MB: ${verdict(mib, TARGET_MIB)}]`);
  console.log(`  output: ${runs[0].stdout.trim()}`);
  return ms <= TARGET_MS && mib <= TARGET_MIB;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = benchValidate() ? 0 : 1;
}

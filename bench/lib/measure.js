import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ORGCTL = join(ROOT, 'bin/orgctl.js');
const RUSAGE = join(ROOT, 'bench/lib/rusage.js');

/**
 * Runs `node bin/orgctl.js ...args` as a real child process and returns wall time (ms), peak RSS (MiB),
 * exit code and output.
 */
export function runOrgctl(args, { env = {}, input } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'orgctl-bench-'));
  const rusageFile = join(dir, 'rusage.json');
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--import', RUSAGE, ORGCTL, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, ORGCTL_BENCH_RUSAGE: rusageFile },
    input,
    maxBuffer: 256 * 1024 * 1024,
    encoding: 'utf8',
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  let usage = { maxRssKiB: NaN };
  try {
    usage = JSON.parse(readFileSync(rusageFile, 'utf8'));
  } catch {
    // The child died before exit handlers ran; report NaN rather than a made-up figure.
  }
  rmSync(dir, { recursive: true, force: true });
  return { wallMs, peakRssMiB: usage.maxRssKiB / 1024, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function verdict(value, limit) {
  return value <= limit ? 'PASS' : 'FAIL';
}

/**
 * Wall time of a bare Node process (no orgctl) parsing `files` with js-yaml, start-up included: what issue 10
 * compares a plan with.
 */
export function bareParse(files) {
  const script = `const { loadAll } = require(${JSON.stringify(join(ROOT, 'node_modules/js-yaml'))}); const { readFileSync } = require('node:fs');
for (const f of process.argv.slice(1)) loadAll(readFileSync(f, 'utf8'));`;
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-e', script, ...files], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bare parse failed: ${r.stderr}`);
  return { wallMs: Number(process.hrtime.bigint() - start) / 1e6 };
}

// `npm run test:load [-- RUNS]`: runs the whole test suite RUNS times (default 5) while busy loops keep every
// core loaded, as a CI run on a developer's busy machine would be, and reports each run's result, duration and
// failed tests. Exits 1 if any run failed. The suite must hold under this load: no fixed sleeps, no wall-clock
// deadlines, only waits on conditions with generous ceilings.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.argv[2] ?? process.env.ORGCTL_LOAD_RUNS ?? 5);
const burners = Number(process.env.ORGCTL_LOAD_BURNERS ?? availableParallelism());

/** A busy loop on one core (not niced: it competes with the tests as another job would). */
function burner() {
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
}

function runSuite() {
  return new Promise((resolve) => {
    const started = Date.now();
    // The JSON report goes to a file: vitest opens its output path, and /dev/stdout cannot be opened when
    // stdout is a pipe to this process (a socket: ENXIO).
    const dir = mkdtempSync(join(tmpdir(), 'orgctl-test-load-'));
    const report = join(dir, 'report.json');
    const child = spawn(process.execPath, [fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url)), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: process.env,
    });
    child.on('close', (code) => {
      let failed = [];
      try {
        const parsed = JSON.parse(readFileSync(report, 'utf8'));
        failed = parsed.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed').map((a) => `${f.name.replace(root, '')} > ${a.fullName}`));
        if (code !== 0 && failed.length === 0) failed = [`(no failed test in the report; vitest exited with ${code}: see its output above)`];
      } catch {
        failed = [`(no JSON report; vitest exited with ${code})`];
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, seconds: (Date.now() - started) / 1000, failed });
    });
  });
}

const results = [];
for (let i = 1; i <= runs; i++) {
  const load = Array.from({ length: burners }, burner);
  process.stderr.write(`== run ${i} of ${runs}, with ${burners} busy loops beside it\n`);
  const r = await runSuite();
  for (const b of load) b.kill('SIGKILL');
  results.push(r);
  process.stderr.write(`== run ${i}: ${r.code === 0 ? 'green' : 'RED'} in ${r.seconds.toFixed(0)} s${r.failed.length ? `; failed:\n   ${r.failed.join('\n   ')}` : ''}\n`);
}
const green = results.filter((r) => r.code === 0).length;
console.log(`\ntest:load: ${green} of ${runs} runs green under load (${burners} busy loops); durations ${results.map((r) => `${r.seconds.toFixed(0)} s`).join(', ')}`);
for (const [i, r] of results.entries()) if (r.failed.length) console.log(`  run ${i + 1} failed: ${r.failed.join('; ')}`);
process.exitCode = green === runs ? 0 : 1;

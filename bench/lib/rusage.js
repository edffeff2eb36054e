// Preloaded into a measured child process (node --import): on exit, writes the process's own peak RSS
// and CPU time to the file named by ORGCTL_BENCH_RUSAGE, so benchmarks measure the real CLI binary.
import { writeFileSync } from 'node:fs';

const out = process.env.ORGCTL_BENCH_RUSAGE;
if (out) {
  process.on('exit', () => {
    const r = process.resourceUsage();
    writeFileSync(out, JSON.stringify({ maxRssKiB: r.maxRSS, userMs: r.userCPUTime / 1000, systemMs: r.systemCPUTime / 1000 }));
  });
}

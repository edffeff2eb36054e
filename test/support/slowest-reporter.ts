import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the ten slowest tests at the end of a run, so a suite that grows slower is seen in CI output before
 * it outgrows the CI budget.
 */
export default class SlowestReporter implements Reporter {
  onTestRunEnd(modules: readonly TestModule[]): void {
    const tests: { name: string; ms: number }[] = [];
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const d = t.diagnostic();
        if (d) tests.push({ name: `${m.moduleId.replace(/^.*?\/test\//, 'test/')} > ${t.fullName}`, ms: d.duration });
      }
    }
    tests.sort((a, b) => b.ms - a.ms);
    const lines = tests.slice(0, 10).map((t) => `  ${(t.ms / 1000).toFixed(1).padStart(6)} s  ${t.name}`);
    process.stdout.write(`\nThe ten slowest tests:\n${lines.join('\n')}\n`);
  }
}

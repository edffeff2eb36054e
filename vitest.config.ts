import { defineConfig } from 'vitest/config';
import { scaled } from './test/support/timing.js';

// Three projects: `unit` (pure and in-process, CPU-bound), `platform` (the built-in platform's REST API,
// in-process servers) and `e2e` (real child processes, servers and fakes, kubectl; mostly waiting on them).
// They run in one pool of 3 workers: on a 2-core machine the e2e files spend most of their time waiting on
// the processes they start, so a third worker fills the gaps. Files share no state: every test makes its
// own temporary directory, database and ephemeral ports. `npx vitest run --project e2e` runs one project.
const common = {
  testTimeout: scaled(60_000),
  hookTimeout: scaled(60_000),
  pool: 'forks' as const,
  maxWorkers: 3,
};

export default defineConfig({
  test: {
    reporters: ['default', './test/support/slowest-reporter.ts'],
    projects: [
      { test: { ...common, name: 'unit', include: ['test/unit/**/*.test.ts', 'test/validate-corpus.test.ts', 'test/property/loader.property.test.ts'] } },
      { test: { ...common, name: 'platform', include: ['test/platform-*.test.ts', 'test/property/routes.property.test.ts'] } },
      { test: { ...common, name: 'e2e', include: ['test/e2e/**/*.test.ts', 'test/saas/**/*.test.ts', 'test/kube/**/*.test.ts'] } },
    ],
  },
});

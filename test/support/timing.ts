/**
 * How much longer than usual tests may wait on a slow machine: `ORGCTL_TEST_TIMEOUT_SCALE` (default 1). Every
 * ceiling on a wait (vitest's test and hook timeouts, `until`, terminal sessions, kubectl runs) is multiplied by
 * it, so a loaded CI machine gets more room instead of failures; no test asserts how fast anything is.
 */
export const TIMEOUT_SCALE = Math.max(1, Number(process.env.ORGCTL_TEST_TIMEOUT_SCALE ?? 1) || 1);

export const scaled = (ms: number): number => Math.round(ms * TIMEOUT_SCALE);

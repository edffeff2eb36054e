import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/cli/duration.js';

describe('parseDuration', () => {
  it('reads ms, s, m, h and d (token lifetimes), and 0 without a unit', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('90d')).toBe(90 * 86_400_000);
    expect(parseDuration(' 7 d ')).toBe(7 * 86_400_000);
  });
  it('refuses anything else', () => {
    // A bare number other than 0 is refused: seconds or minutes?
    for (const bad of ['', 'd', '1y', '1w', '-1d', '1dd', 'never', '1e3s', '30', '5']) expect(parseDuration(bad), bad).toBeUndefined();
  });
});

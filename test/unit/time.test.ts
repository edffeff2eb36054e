import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/server/time.js';

describe('isoTime', () => {
  it('formats exactly like Date#toISOString across days, leap years and edges', () => {
    const edges = [0, 1, 999, 1000, 86_399_999, 86_400_000, 951_782_400_000 /* 2000-02-29 */, 1_700_000_000_123, 253_402_300_799_999];
    for (const ms of edges) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    // A deterministic spread of timestamps, visited out of order so the per-day cache is exercised.
    let x = 12345;
    for (let i = 0; i < 20_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const ms = (x / 2147483648) * 4e12;
      const whole = Math.floor(ms);
      expect(isoTime(whole)).toBe(new Date(whole).toISOString());
    }
  });
});

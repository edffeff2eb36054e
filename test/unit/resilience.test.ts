import { describe, expect, it } from 'vitest';
import { backoffMs, RateLimiter, retryable, retryAfterMs } from '../../src/platform/http/resilience.js';

describe('retry policy', () => {
  it('backs off exponentially with full jitter, capped', () => {
    const policy = { attempts: 6, baseMs: 100, maxMs: 1000 };
    expect(backoffMs(0, policy, () => 0.999)).toBe(99);
    expect(backoffMs(3, policy, () => 0.5)).toBe(400);
    expect(backoffMs(10, policy, () => 0.999)).toBe(999);
    expect(backoffMs(2, policy, () => 0)).toBe(0);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(['7'])).toBe(7000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });

  it('retries 429 and 503 always, other failures only when repeating is safe', () => {
    expect(retryable({ status: 429 }, false)).toBe(true);
    expect(retryable({ status: 503 }, false)).toBe(true);
    expect(retryable({ status: 500 }, false)).toBe(false);
    expect(retryable({ status: 500 }, true)).toBe(true);
    expect(retryable({ networkError: true }, false)).toBe(false);
    expect(retryable({ networkError: true }, true)).toBe(true);
    expect(retryable({ status: 404 }, true)).toBe(false);
  });
});

describe('RateLimiter', () => {
  it('spaces requests evenly and honours a pause', async () => {
    let now = 0;
    const slept: number[] = [];
    const limiter = new RateLimiter(600, () => now, async (ms) => {
      slept.push(ms);
      now += ms;
    });
    for (let i = 0; i < 5; i++) await limiter.acquire();
    expect(slept).toEqual([100, 100, 100, 100]);
    limiter.pause(1000);
    await limiter.acquire();
    expect(slept[slept.length - 1]).toBe(1000);
    expect(() => new RateLimiter(0)).toThrow();
  });
});

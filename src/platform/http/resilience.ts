/** Retry and rate-limit policy of platform clients: pure decisions, with time and randomness injected. */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 200, maxMs: 20_000 };

/** Exponential backoff with full jitter (AWS architecture blog): uniform in [0, min(max, base * 2^n)). */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Whether a failed attempt may be repeated. 429 and 503 mean the request was not processed, so any
 * request may be retried; other 5xx and network errors only when repeating cannot do a thing twice
 * (reads, or writes the server deduplicates by Idempotency-Key).
 */
export function retryable(outcome: { status?: number; networkError?: boolean }, repeatSafe: boolean): boolean {
  if (outcome.status === 429 || outcome.status === 503) return true;
  if (outcome.networkError) return repeatSafe;
  return outcome.status !== undefined && outcome.status >= 500 && repeatSafe;
}

/**
 * Client-side rate limit: at most `perMinute` requests in any minute, spaced evenly (a token bucket with
 * a burst of 1), so a long apply stays under the platform's limit instead of bouncing off 429s.
 */
export class RateLimiter {
  private next = 0;
  private readonly intervalMs: number;

  constructor(
    perMinute: number,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    if (!(perMinute > 0)) throw new Error('rate limit must be a positive number of requests per minute');
    this.intervalMs = 60_000 / perMinute;
  }

  /** Waits until the next request may go. */
  async acquire(): Promise<void> {
    const now = this.now();
    const at = Math.max(now, this.next);
    this.next = at + this.intervalMs;
    if (at > now) await this.sleep(at - now);
  }

  /** After a 429 with Retry-After: nothing goes out before then. */
  pause(ms: number): void {
    this.next = Math.max(this.next, this.now() + ms);
  }
}

import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { PlatformError } from '../types.js';
import { httpAddressProblem } from './address.js';
import { backoffMs, DEFAULT_RETRY, RateLimiter, retryable, retryAfterMs, type RetryPolicy } from './resilience.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** A platform's error answer, as its adapter reads it: the message to show, and a code when it has one. */
export interface ErrorAnswer {
  message: string;
  code?: string;
  details?: Record<string, unknown>;
}

export interface HttpClientOptions {
  /** Base URL every path is appended to (`https://gate.dataloop.ai/api/v1`); printed, so never a secret. */
  baseUrl: string;
  /** Headers that authenticate a request (computed per request: tokens may be refreshed). Never printed. */
  auth: () => Promise<Record<string, string>> | Record<string, string>;
  /** Reads the platform's error envelope from a failed answer's body. */
  readError: (status: number, body: string) => ErrorAnswer;
  /**
   * The platform does a write repeated with the same Idempotency-Key once. Then every write carries a key and
   * is retried like a read; otherwise a write is retried only on answers that say it was not processed (429,
   * 503), and one whose answer was lost fails as ambiguous.
   */
  idempotentWrites: boolean;
  /** Client-side limit, requests per minute (e.g. Ango Hub's standard plan: 100). */
  rateLimitPerMinute?: number;
  retry?: RetryPolicy;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Told when a request is about to be retried (a terminal says "retrying"). */
  onRetry?: (what: string, attempt: number, delayMs: number) => void;
}

const TIMEOUT_MS = 30_000;
const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The transport every HTTP adapter shares: undici keep-alive connections, a timeout on every request,
 * retries with exponential backoff and jitter where repeating is safe (honouring Retry-After), an optional
 * client-side rate limit, and Idempotency-Keys on writes where the platform honours them. Knows nothing of
 * any platform's resources: adapters give it paths and bodies, and read their own envelopes.
 */
export class HttpClient {
  readonly baseUrl: string;
  /** Requests by kind (`GET /orgs/:org/members`, `retries`, `answered 429`), for benchmarks and ORGCTL_REQUEST_STATS. */
  readonly stats = new Map<string, number>();
  private readonly agent = new Agent({ keepAliveTimeout: 10_000, connections: 4 });
  private readonly limiter: RateLimiter | undefined;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: HttpClientOptions) {
    const problem = httpAddressProblem(opts.baseUrl);
    if (problem === 'carries credentials') throw new PlatformError('the platform address carries credentials; they are not shown: pass the token instead');
    if (problem) throw new PlatformError('the platform address is not an http(s) URL');
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.timeoutMs = opts.timeoutMs ?? TIMEOUT_MS;
    this.sleep = opts.sleep ?? wait;
    this.limiter = opts.rateLimitPerMinute ? new RateLimiter(opts.rateLimitPerMinute, undefined, this.sleep) : undefined;
  }

  private count(kind: string): void {
    this.stats.set(kind, (this.stats.get(kind) ?? 0) + 1);
  }

  /**
   * Sends one request (a body goes as JSON, on any method: some platforms take DELETE with a body) and returns
   * the parsed answer; throws PlatformError with the platform's own message on an error answer.
   */
  async request<T>(method: Method, path: string, body?: unknown, kind = `${method} ${path.replace(/\?.*/, '')}`): Promise<T> {
    const write = method !== 'GET';
    // One key for every attempt of this write: a server that saw the first attempt answers the retry from
    // its record instead of doing the work twice.
    const idempotencyKey = write && this.opts.idempotentWrites ? randomUUID() : undefined;
    const repeatSafe = !write || this.opts.idempotentWrites;
    const what = `${method} ${path.replace(/\?.*/, '')}`;
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= this.retry.attempts;
      await this.limiter?.acquire();
      this.count(kind);
      const again = async (delay: number) => {
        this.count('retries');
        this.opts.onRetry?.(what, attempt + 1, delay);
        await this.sleep(delay);
      };
      // Outside the transport's try: a token that cannot be had (expired, refresh refused) is that error,
      // not a network failure to retry.
      const auth = await this.opts.auth();
      let res;
      try {
        res = await request(`${this.baseUrl}${path}`, {
          method,
          dispatcher: this.agent,
          headers: {
            ...auth,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        });
      } catch (err) {
        const notSent = connectionRefused(err);
        if (!last && (notSent || retryable({ networkError: true }, repeatSafe))) {
          await again(backoffMs(attempt, this.retry));
          continue;
        }
        throw new PlatformError(`cannot reach ${this.baseUrl}: ${transportMessage(err)}`, undefined, 'unreachable', {}, write && !notSent && !repeatSafe);
      }
      let text: string;
      try {
        text = await res.body.text();
      } catch (err) {
        if (!last && retryable({ networkError: true }, repeatSafe)) {
          await again(backoffMs(attempt, this.retry));
          continue;
        }
        throw new PlatformError(`${what}: connection lost while reading the answer: ${transportMessage(err)}`, undefined, 'connection_lost', {}, write && !repeatSafe);
      }
      if (res.statusCode === 429 || res.statusCode >= 500) this.count(`answered ${res.statusCode}`);
      if (res.statusCode >= 400 && !last && retryable({ status: res.statusCode }, repeatSafe)) {
        const after = retryAfterMs(res.headers['retry-after']);
        const delay = after ?? backoffMs(attempt, this.retry);
        if (res.statusCode === 429) this.limiter?.pause(delay);
        await again(delay);
        continue;
      }
      if (res.statusCode >= 400) {
        const e = this.opts.readError(res.statusCode, text);
        throw new PlatformError(`${what}: ${e.message} (${res.statusCode}${e.code ? ` ${e.code}` : ''})`, res.statusCode, e.code, e.details, write && !repeatSafe && res.statusCode >= 500 && res.statusCode !== 503);
      }
      if (!text) return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new PlatformError(`${what}: the answer is not JSON (${res.statusCode}); is ${this.baseUrl} the platform's API?`, res.statusCode, 'not_json');
      }
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Requests made, by kind, sorted (benchmarks, and ORGCTL_REQUEST_STATS=1). */
  requestStats(): Record<string, number> {
    return Object.fromEntries([...this.stats].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}

/** A refused connection never reached the server: any request may be sent again. */
function connectionRefused(err: unknown): boolean {
  const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  return code === 'ECONNREFUSED';
}

function transportMessage(err: unknown): string {
  return (err as Error).message;
}

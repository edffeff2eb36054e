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
  /** The answer will not change by asking again (a read-only database, a full disk): not retried. */
  final?: boolean;
}

/** How an adapter's client paces, retries and waits: the options every adapter passes through to its HttpClient. */
export type ClientTuning = Pick<HttpClientOptions, 'rateLimitPerMinute' | 'retry' | 'timeoutMs' | 'sleep' | 'now' | 'onRetry'>;

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
  onRetry?: (what: string, attempt: number, delayMs: number, why: string) => void;
  /**
   * After a request gave up on reaching the platform, others fail at once for this long instead of each
   * retrying for seconds (a circuit breaker); then one request may try again. Default 30 s.
   */
  breakerCooldownMs?: number;
  /** Connections kept open to the platform, for requests made at once (organizations read in parallel); default 4. */
  connections?: number;
  now?: () => number;
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
  private readonly agent: Agent;
  private readonly limiter: RateLimiter | undefined;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  /** Until when requests fail at once, after one gave up on reaching the platform. */
  private unreachableUntil = 0;
  private unreachableReason = '';

  constructor(private readonly opts: HttpClientOptions) {
    const problem = httpAddressProblem(opts.baseUrl);
    if (problem === 'carries credentials') throw new PlatformError('the platform address carries credentials; they are not shown: pass the token instead');
    if (problem) throw new PlatformError('the platform address is not an http(s) URL');
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.agent = new Agent({ keepAliveTimeout: 10_000, connections: Math.max(4, opts.connections ?? 4) });
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.timeoutMs = opts.timeoutMs ?? TIMEOUT_MS;
    this.sleep = opts.sleep ?? wait;
    this.now = opts.now ?? Date.now;
    this.limiter = opts.rateLimitPerMinute ? new RateLimiter(opts.rateLimitPerMinute, undefined, this.sleep) : undefined;
  }

  private count(kind: string): void {
    this.stats.set(kind, (this.stats.get(kind) ?? 0) + 1);
  }

  /**
   * Sends one request (a body goes as JSON, on any method: some platforms take DELETE with a body) and returns
   * the parsed answer; throws PlatformError with the platform's own message on an error answer.
   */
  async request<T>(method: Method, path: string, body?: unknown, kind = `${method} ${path.replace(/\?.*/, '')}`, opts: { changesNothing?: boolean } = {}): Promise<T> {
    // A POST that changes nothing (a question with a body) is a read: no Idempotency-Key, retried freely.
    const write = method !== 'GET' && !opts.changesNothing;
    // One key for every attempt of this write: a server that saw the first attempt answers the retry from
    // its record instead of doing the work twice.
    const idempotencyKey = write && this.opts.idempotentWrites ? randomUUID() : undefined;
    const repeatSafe = !write || this.opts.idempotentWrites;
    const what = `${method} ${path.replace(/\?.*/, '')}`;
    if (this.now() < this.unreachableUntil) {
      throw new PlatformError(`${this.baseUrl} is unreachable (${this.unreachableReason}); not sending ${what}`, undefined, 'unreachable');
    }
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= this.retry.attempts;
      await this.limiter?.acquire();
      this.count(kind);
      const again = async (delay: number, why: string) => {
        this.count('retries');
        this.opts.onRetry?.(what, attempt + 1, delay, why);
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
        const tls = tlsProblem(err);
        if (tls) throw new PlatformError(`cannot reach ${this.baseUrl}: ${tls}`, undefined, 'tls');
        const notSent = neverConnected(err);
        if (!last && (notSent || retryable({ networkError: true }, repeatSafe))) {
          await again(backoffMs(attempt, this.retry), transportMessage(err));
          continue;
        }
        if (notSent) {
          // Every attempt failed to connect: the platform is down or unreachable. Open the breaker.
          this.unreachableReason = `${transportMessage(err)} after ${attempt + 1} attempt${attempt ? 's' : ''}`;
          this.unreachableUntil = this.now() + (this.opts.breakerCooldownMs ?? 30_000);
          throw new PlatformError(`cannot reach ${this.baseUrl}: ${transportMessage(err)}`, undefined, 'unreachable');
        }
        // Connected, then lost: the request may have been done.
        throw new PlatformError(`${what}: the connection was lost before the answer: ${transportMessage(err)}`, undefined, 'connection_lost', {}, write && !repeatSafe);
      }
      this.unreachableUntil = 0;
      let text: string;
      try {
        text = await res.body.text();
      } catch (err) {
        if (!last && retryable({ networkError: true }, repeatSafe)) {
          await again(backoffMs(attempt, this.retry), 'connection lost while reading the answer');
          continue;
        }
        throw new PlatformError(`${what}: connection lost while reading the answer: ${transportMessage(err)}`, undefined, 'connection_lost', {}, write && !repeatSafe);
      }
      if (res.statusCode === 429 || res.statusCode >= 500) this.count(`answered ${res.statusCode}`);
      if (res.statusCode >= 400 && !last && retryable({ status: res.statusCode }, repeatSafe) && !this.opts.readError(res.statusCode, text).final) {
        const after = retryAfterMs(res.headers['retry-after']);
        const delay = after ?? backoffMs(attempt, this.retry);
        if (res.statusCode === 429) this.limiter?.pause(delay);
        await again(delay, `answered ${res.statusCode}`);
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

/** An https:// address whose server speaks plain HTTP (or another TLS failure), said plainly. */
function tlsProblem(err: unknown): string | undefined {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code ?? '';
  const message = `${e.message ?? ''} ${e.cause?.message ?? ''}`;
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long|http request/i.test(message)) {
    return 'TLS handshake failed: is the server plain HTTP? (try http://)';
  }
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /certificate|self[- ]signed|UNABLE_TO_VERIFY/i.test(code + message)) {
    return `TLS handshake failed (${code || 'certificate or protocol error'})`;
  }
  return undefined;
}

/** A connection that was never made never reached the server: any request may be sent again. */
function neverConnected(err: unknown): boolean {
  const code = (err as { code?: string; cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
  return ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'].includes(code ?? '');
}

function transportMessage(err: unknown): string {
  const e = err as Error & { cause?: { code?: string } };
  const code = (e as { code?: string }).code ?? e.cause?.code;
  return code && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
}

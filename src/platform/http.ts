import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { backoffMs, DEFAULT_RETRY, RateLimiter, retryable, retryAfterMs, type RetryPolicy } from './resilience.js';
import type { ActualOrg } from '../plan/model.js';
import { toActualOrg, type IntegrationViewLike, type InviteViewLike, type MemberViewLike, type OrgViewLike } from './actual.js';
import { httpAddressProblem, isBearerToken } from './http-address.js';
import { LeaseHeldError, PlatformError, type IntegrationWrite, type InviteItem, type ItemResult, type MemberUpdateItem, type Platform } from './types.js';

/** The most items the built-in platform takes in one batch call. */
export const MAX_BATCH = 1000;
const TIMEOUT_MS = 30_000;

interface Page<T> {
  items: T[];
  nextCursor: string | null;
  stateVersion: number;
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** Request counts by kind (`GET /orgs/:org/members`, ...), for benchmarks and `--stats`. */
export type RequestStats = Map<string, number>;

export interface HttpPlatformOptions {
  /** Client-side limit, requests per minute (e.g. Ango Hub's standard plan: 100). */
  rateLimitPerMinute?: number;
  /** Items per batch call (1 to MAX_BATCH); smaller batches make more, smaller requests. */
  batchSize?: number;
  retry?: RetryPolicy;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The built-in platform over its REST API (`orgctl platform serve`), with undici keep-alive connections,
 * a timeout on every request, retries with backoff and jitter where repeating is safe (honouring
 * Retry-After), an optional client-side rate limit, and an Idempotency-Key on every write.
 */
export class HttpPlatform implements Platform {
  readonly description: string;
  readonly stats: RequestStats = new Map();
  private readonly agent = new Agent({ keepAliveTimeout: 10_000, connections: 4 });
  private readonly limiter: RateLimiter | undefined;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  readonly batchSize: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private me: { email: string; superuser: boolean } | undefined;

  constructor(
    baseUrl: string,
    private readonly token: string,
    opts: HttpPlatformOptions = {},
  ) {
    if (!isBearerToken(token)) throw new PlatformError('the API token holds characters a bearer token cannot; it is not shown');
    const problem = httpAddressProblem(baseUrl);
    if (problem === 'carries credentials') throw new PlatformError('the platform address carries credentials; they are not shown: pass the token instead');
    if (problem) throw new PlatformError('the platform address is not an http(s) URL');
    this.description = baseUrl.replace(/\/+$/, '');
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.timeoutMs = opts.timeoutMs ?? TIMEOUT_MS;
    this.batchSize = opts.batchSize ?? MAX_BATCH;
    this.sleep = opts.sleep ?? wait;
    this.limiter = opts.rateLimitPerMinute ? new RateLimiter(opts.rateLimitPerMinute, undefined, this.sleep) : undefined;
  }

  private count(kind: string): void {
    this.stats.set(kind, (this.stats.get(kind) ?? 0) + 1);
  }

  private async call<T>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown, kind = `${method} ${path.replace(/\?.*/, '')}`): Promise<T> {
    // One key for every attempt of this write: a server that saw the first attempt answers the retry
    // from its record instead of doing the work twice.
    const idempotencyKey = method === 'GET' ? undefined : randomUUID();
    // Reads can always be repeated; writes carry an Idempotency-Key the built-in platform honours, so a
    // retry after a lost answer gets the first answer back instead of doing the write again.
    const repeatSafe = true;
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= this.retry.attempts;
      await this.limiter?.acquire();
      this.count(kind);
      let res;
      try {
        res = await request(`${this.description}${path}`, {
          method,
          dispatcher: this.agent,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        });
      } catch (err) {
        if (!last && retryable({ networkError: true }, repeatSafe)) {
          this.count('retries');
          await this.sleep(backoffMs(attempt, this.retry));
          continue;
        }
        throw new PlatformError(`cannot reach ${this.description}: ${(err as Error).message}`);
      }
      let text: string;
      try {
        text = await res.body.text();
      } catch (err) {
        if (!last && retryable({ networkError: true }, repeatSafe)) {
          this.count('retries');
          await this.sleep(backoffMs(attempt, this.retry));
          continue;
        }
        throw new PlatformError(`${method} ${path.replace(/\?.*/, '')}: connection lost while reading the answer: ${(err as Error).message}`);
      }
      if (res.statusCode === 429 || res.statusCode >= 500) this.count(`answered ${res.statusCode}`);
      if (res.statusCode >= 400 && !last && retryable({ status: res.statusCode }, repeatSafe)) {
        const after = retryAfterMs(res.headers['retry-after']);
        const delay = after ?? backoffMs(attempt, this.retry);
        if (res.statusCode === 429) this.limiter?.pause(delay);
        this.count('retries');
        await this.sleep(delay);
        continue;
      }
      return this.answer<T>(method, path, res.statusCode, text);
    }
  }

  private answer<T>(method: string, path: string, status: number, text: string): T {
    if (status >= 400) {
      let message = text.slice(0, 500);
      let code: string | undefined;
      let details: Record<string, unknown> | undefined;
      try {
        const e = (JSON.parse(text) as { error?: { message?: string; code?: string; details?: Record<string, unknown> } }).error;
        message = e?.message ?? message;
        code = e?.code;
        details = e?.details;
      } catch {
        // not JSON: keep the text
      }
      throw new PlatformError(`${method} ${path.replace(/\?.*/, '')}: ${message} (${status}${code ? ` ${code}` : ''})`, status, code, details);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private org(org: string): string {
    return `/api/v1/orgs/${encodeURIComponent(org)}`;
  }

  private async whoami(): Promise<{ email: string; superuser: boolean }> {
    this.me ??= await this.call<{ email: string; superuser: boolean }>('GET', '/api/v1/me');
    return this.me;
  }

  async actor(): Promise<string> {
    return (await this.whoami()).email;
  }

  async actsForOthers(): Promise<boolean> {
    return (await this.whoami()).superuser;
  }

  private async all<T>(path: string, kind: string): Promise<{ items: T[]; versions: Set<number> }> {
    const items: T[] = [];
    const versions = new Set<number>();
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const page: Page<T> = await this.call<Page<T>>('GET', `${path}${sep}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, undefined, kind);
      items.push(...page.items);
      versions.add(page.stateVersion);
      cursor = page.nextCursor;
    } while (cursor);
    return { items, versions };
  }

  async read(org: string): Promise<ActualOrg | undefined> {
    // Read everything, then check the state version did not move meanwhile; if it did, read again.
    for (let attempt = 0; attempt < 3; attempt++) {
      let view;
      try {
        view = await this.call<OrgViewLike>(
          'GET',
          this.org(org),
          undefined,
          'GET /orgs/:org',
        );
      } catch (err) {
        if (err instanceof PlatformError && err.status === 404) return undefined;
        throw err;
      }
      const members = await this.all<MemberViewLike>(`${this.org(org)}/members`, 'GET /orgs/:org/members');
      const invites = await this.all<InviteViewLike>(`${this.org(org)}/invites?status=open`, 'GET /orgs/:org/invites');
      const integrations = await this.call<{ items: IntegrationViewLike[]; stateVersion: number }>(
        'GET',
        `${this.org(org)}/integrations`,
        undefined,
        'GET /orgs/:org/integrations',
      );
      const versions = new Set([view.stateVersion, ...members.versions, ...invites.versions, integrations.stateVersion]);
      if (versions.size > 1) continue; // something changed while reading: read a consistent snapshot again
      return toActualOrg(view, members.items, invites.items, integrations.items);
    }
    throw new PlatformError(`organization "${org}" kept changing while it was read; try again`);
  }

  async createOrganization(org: string, spec: { displayName: string; plan: 'freemium' | 'premium'; creator?: string }): Promise<void> {
    await this.call('POST', '/api/v1/orgs', { name: org, ...spec }, 'POST /orgs');
  }

  async updateOrganization(org: string, spec: { displayName?: string; plan?: 'freemium' | 'premium'; cache?: { enabled: boolean; podType?: string } }): Promise<void> {
    await this.call('PATCH', this.org(org), spec, 'PATCH /orgs/:org');
  }

  private async batch(path: string, field: string, items: unknown[], kind: string): Promise<ItemResult[]> {
    const out: ItemResult[] = [];
    for (const chunk of chunks(items, this.batchSize)) {
      const res = await this.call<{ results: { email: string; ok: boolean; error?: { message: string; code: string } }[] }>('POST', path, { [field]: chunk }, kind);
      for (const r of res.results) out.push(r.ok ? { email: r.email, ok: true } : { email: r.email, ok: false, error: `${r.error?.message} (${r.error?.code})` });
    }
    return out;
  }

  invite(org: string, items: InviteItem[]): Promise<ItemResult[]> {
    return this.batch(`${this.org(org)}/invites/batch`, 'invites', items, 'POST /orgs/:org/invites/batch');
  }

  resendInvites(org: string, items: InviteItem[]): Promise<ItemResult[]> {
    return this.batch(`${this.org(org)}/invites/batch-resend`, 'invites', items, 'POST /orgs/:org/invites/batch-resend');
  }

  cancelInvites(org: string, emails: string[]): Promise<ItemResult[]> {
    return this.batch(`${this.org(org)}/invites/batch-cancel`, 'emails', emails, 'POST /orgs/:org/invites/batch-cancel');
  }

  updateMembers(org: string, items: MemberUpdateItem[]): Promise<ItemResult[]> {
    return this.batch(`${this.org(org)}/members/batch-update`, 'members', items, 'POST /orgs/:org/members/batch-update');
  }

  removeMembers(org: string, emails: string[]): Promise<ItemResult[]> {
    return this.batch(`${this.org(org)}/members/batch-remove`, 'emails', emails, 'POST /orgs/:org/members/batch-remove');
  }

  async createIntegration(org: string, spec: IntegrationWrite): Promise<void> {
    await this.call('POST', `${this.org(org)}/integrations`, spec, 'POST /orgs/:org/integrations');
  }

  async updateIntegration(org: string, spec: IntegrationWrite): Promise<void> {
    await this.call('PATCH', `${this.org(org)}/integrations/${encodeURIComponent(spec.name)}`, { options: spec.options, ...(spec.credentials ? { credentials: spec.credentials } : {}) }, 'PATCH /orgs/:org/integrations/:name');
  }

  async deleteIntegration(org: string, name: string): Promise<void> {
    await this.call('DELETE', `${this.org(org)}/integrations/${encodeURIComponent(name)}`, undefined, 'DELETE /orgs/:org/integrations/:name');
  }

  async acquireLease(org: string, lease: { id: string; holder: string; ttlMs: number }): Promise<void> {
    try {
      await this.call('POST', `${this.org(org)}/lease`, { id: lease.id, holder: lease.holder, ttlSeconds: Math.ceil(lease.ttlMs / 1000) }, 'POST /orgs/:org/lease');
    } catch (err) {
      throw err instanceof PlatformError ? LeaseHeldError.from(org, err) : err;
    }
  }

  async renewLease(org: string, id: string, ttlMs: number): Promise<void> {
    await this.call('PUT', `${this.org(org)}/lease/${encodeURIComponent(id)}`, { ttlSeconds: Math.ceil(ttlMs / 1000) }, 'PUT /orgs/:org/lease/:id');
  }

  async releaseLease(org: string, id: string): Promise<void> {
    await this.call('DELETE', `${this.org(org)}/lease/${encodeURIComponent(id)}`, undefined, 'DELETE /orgs/:org/lease/:id');
  }

  async breakLease(org: string): Promise<{ holder: string; since: string } | undefined> {
    const res = await this.call<{ removed: { holder: string; since: string } | null }>('DELETE', `${this.org(org)}/lease`, undefined, 'DELETE /orgs/:org/lease');
    return res.removed ?? undefined;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Requests made, by kind: `GET /orgs/:org/members` ... (benchmarks, and ORGCTL_REQUEST_STATS=1). */
  requestStats(): Record<string, number> {
    return Object.fromEntries([...this.stats].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}

import type { ActualIntegration, ActualInvite, ActualMember, ActualOrg } from '../../model/actual.js';
import { chunks, MAX_BATCH } from '../batch.js';
import { HttpClient, type ClientTuning, type ErrorAnswer } from '../http/client.js';
import { isBearerToken } from '../http/address.js';
import type { Locks } from '../locks.js';
import {
  PlatformError,
  type IntegrationWrite,
  type InviteItem,
  type ItemResult,
  type MemberUpdateItem,
  type OrganizationCreate,
  type OrganizationUpdate,
  type OrgRef,
  type Platform,
  type ReadOptions,
} from '../types.js';
import { BUILTIN_CAPABILITIES } from './capabilities.js';
import { leaseError } from './leases.js';
import { actualInvite, actualMember, toActualOrg, type IntegrationViewLike, type InviteViewLike, type MemberViewLike, type OrgViewLike } from './views.js';


interface Page<T> {
  items: T[];
  nextCursor: string | null;
  stateVersion: number;
}

export interface HttpPlatformOptions extends ClientTuning {
  /** Items per batch call (1 to MAX_BATCH); smaller batches make more, smaller requests. */
  batchSize?: number;
  breakerCooldownMs?: number;
  /** Connections kept open to the platform (organizations read at once); default 4. */
  connections?: number;
}

/**
 * The built-in platform's error envelope: `{"error": {"code", "message", "details"}}`. Anything else came from
 * something that is not the platform's API (a web server, a proxy's error page): it is not echoed.
 */
export function readBuiltinError(status: number, text: string): ErrorAnswer {
  try {
    const e = (JSON.parse(text) as { error?: { message?: string; code?: string; details?: Record<string, unknown> } }).error;
    if (e?.code === 'insufficient_scope') {
      return { message: `this token is read-only; apply needs a write token (${e.message})`, code: e.code, details: e.details, final: true };
    }
    if (e?.message) return { message: e.message, code: e.code, details: e.details, final: e.code === 'database_read_only' || e.code === 'disk_full' };
  } catch {
    // not JSON: fall through
  }
  return { message: `not an orgctl platform API: HTTP ${status} without the API's error body (is the address the platform's, e.g. http://HOST:8080?)`, code: 'not_orgctl' };
}

/** A connection to `orgctl platform serve`'s REST API, shared by the platform adapter and its leases. */
export function builtinClient(baseUrl: string, token: string, opts: HttpPlatformOptions = {}): HttpClient {
  if (!isBearerToken(token)) throw new PlatformError('the API token holds characters a bearer token cannot; it is not shown');
  const auth = { authorization: `Bearer ${token}` };
  return new HttpClient({
    baseUrl,
    auth: () => auth,
    readError: readBuiltinError,
    idempotentWrites: BUILTIN_CAPABILITIES.idempotentWrites,
    rateLimitPerMinute: opts.rateLimitPerMinute,
    retry: opts.retry,
    timeoutMs: opts.timeoutMs,
    sleep: opts.sleep,
    now: opts.now,
    onRetry: opts.onRetry,
    breakerCooldownMs: opts.breakerCooldownMs,
    connections: opts.connections,
  });
}

const orgPath = (org: string) => `/api/v1/orgs/${encodeURIComponent(org)}`;

/** The fields of member and invite pages the reconciler compares (`?fields=`), as ActualMember and ActualInvite hold them. */
const MEMBER_FIELDS = 'email,role,creator,firstName,lastName,description';
const INVITE_FIELDS = 'email,role,status,projects';

/**
 * The built-in platform over its REST API (`orgctl platform serve`). Reads are list pages checked for one
 * consistent state version; writes are batch calls carrying Idempotency-Keys, so retries are safe.
 */
export class HttpPlatform implements Platform {
  readonly description: string;
  readonly capabilities = BUILTIN_CAPABILITIES;
  readonly batchSize: number;
  private me: { email: string; superuser: boolean } | undefined;

  constructor(
    readonly client: HttpClient,
    opts: { batchSize?: number } = {},
  ) {
    this.description = client.baseUrl;
    this.batchSize = opts.batchSize ?? MAX_BATCH;
  }

  private async whoami(): Promise<{ email: string; superuser: boolean }> {
    this.me ??= await this.client.request<{ email: string; superuser: boolean }>('GET', '/api/v1/me');
    return this.me;
  }

  async actor(): Promise<string> {
    return (await this.whoami()).email;
  }

  async actsForOthers(): Promise<boolean> {
    return (await this.whoami()).superuser;
  }

  /** A server from before `?fields=` refused it: pages are asked for whole. */
  private wholePages = false;

  /**
   * Reads every page of a list, handing each item to `each` as it arrives; returns the state versions seen.
   * `fields` (`?fields=`) asks for just the item fields needed, unless the server does not know the parameter.
   */
  private async all<T>(path: string, kind: string, each: (item: T) => void, fields?: string): Promise<Set<number>> {
    const versions = new Set<number>();
    let cursor: string | null = null;
    for (;;) {
      const query = [...(fields && !this.wholePages ? [`fields=${fields}`] : []), 'limit=1000', ...(cursor ? [`cursor=${encodeURIComponent(cursor)}`] : [])].join('&');
      let page: Page<T>;
      try {
        page = await this.client.request<Page<T>>('GET', `${path}${path.includes('?') ? '&' : '?'}${query}`, undefined, kind);
      } catch (err) {
        if (fields && !this.wholePages && err instanceof PlatformError && err.status === 400 && String(err.details.field ?? '').endsWith('fields')) {
          this.wholePages = true; // asked again, the same page, whole
          continue;
        }
        throw err;
      }
      for (const item of page.items) each(item);
      versions.add(page.stateVersion);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    return versions;
  }

  async read(org: string, _ref?: OrgRef, opts: ReadOptions = {}): Promise<ActualOrg | undefined> {
    // Read everything, then check the state version did not move meanwhile; if it did, read again.
    for (let attempt = 0; attempt < 3; attempt++) {
      let view;
      try {
        view = await this.client.request<OrgViewLike>('GET', orgPath(org), undefined, 'GET /orgs/:org');
      } catch (err) {
        if (err instanceof PlatformError && err.status === 404 && err.code === 'not_found') return this.absent(org);
        throw err;
      }
      // Items go straight into the maps the diff reads, page by page.
      const members = new Map<string, ActualMember>();
      const invites = new Map<string, ActualInvite>();
      // Only the fields the diff compares (pages a quarter the size to build, send and parse), unless the
      // history is asked for: then whole items.
      const memberFields = opts.history ? undefined : MEMBER_FIELDS;
      const inviteFields = opts.history ? undefined : INVITE_FIELDS;
      const memberVersions = await this.all<MemberViewLike>(`${orgPath(org)}/members`, 'GET /orgs/:org/members', (m) => members.set(m.email, actualMember(m, opts.history)), memberFields);
      const inviteVersions = await this.all<InviteViewLike>(`${orgPath(org)}/invites?status=open`, 'GET /orgs/:org/invites', (i) => invites.set(i.email, actualInvite(i, opts.history)), inviteFields);
      const integrations = await this.client.request<{ items: IntegrationViewLike[]; stateVersion: number }>('GET', `${orgPath(org)}/integrations`, undefined, 'GET /orgs/:org/integrations');
      const versions = new Set([view.stateVersion, ...memberVersions, ...inviteVersions, integrations.stateVersion]);
      if (versions.size > 1) continue; // something changed while reading: read a consistent snapshot again
      return toActualOrg(view, members, invites, integrations.items);
    }
    throw new PlatformError(`organization "${org}" kept changing while it was read; try again`);
  }

  async listProjects(org: string): Promise<string[]> {
    const names: string[] = [];
    await this.all<{ name: string }>(`${orgPath(org)}/projects`, 'GET /orgs/:org/projects', (p) => names.push(p.name));
    return names;
  }

  /**
   * The platform answers 404 for an organization that does not exist and for one this identity is not a
   * member of. A plan must not promise to create the second: the name lookup tells them apart.
   */
  private async absent(org: string): Promise<undefined> {
    let taken = false;
    try {
      taken = (await this.client.request<{ taken: boolean }>('GET', `/api/v1/org-names/${encodeURIComponent(org)}`, undefined, 'GET /org-names/:name')).taken;
    } catch (err) {
      // A platform without the lookup: it cannot be told, as before.
      if (!(err instanceof PlatformError && err.status === 404)) throw err;
    }
    if (taken) {
      throw new PlatformError(
        `organization "${org}" exists on ${this.description}, but ${await this.actor()} cannot see it (not a member); ask one of its owners to add this identity, or use a member's token`,
        403,
        'not_visible',
      );
    }
    return undefined;
  }

  /** The platform compares (only it holds the values and the fingerprint key); nothing is written. */
  async compareCredentials(org: string, integration: ActualIntegration, credentials: Record<string, string>): Promise<boolean | undefined> {
    const res = await this.client.request<{ match: boolean }>(
      'POST',
      `${orgPath(org)}/integrations/${encodeURIComponent(integration.name)}/verify-credentials`,
      { credentials },
      'POST /orgs/:org/integrations/:name/verify-credentials',
      { changesNothing: true },
    );
    return res.match;
  }

  async createOrganization(org: string, spec: OrganizationCreate): Promise<void> {
    await this.client.request('POST', '/api/v1/orgs', { name: org, ...spec }, 'POST /orgs');
  }

  async updateOrganization(org: string, spec: OrganizationUpdate): Promise<void> {
    await this.client.request('PATCH', orgPath(org), spec, 'PATCH /orgs/:org');
  }

  private async batch(path: string, field: string, items: unknown[], kind: string): Promise<ItemResult[]> {
    const out: ItemResult[] = [];
    for (const chunk of chunks(items, this.batchSize)) {
      const res = await this.client.request<{ results: { email: string; ok: boolean; error?: { message: string; code: string } }[] }>('POST', path, { [field]: chunk }, kind);
      for (const r of res.results) out.push(r.ok ? { email: r.email, ok: true } : { email: r.email, ok: false, error: `${r.error?.message} (${r.error?.code})` });
    }
    return out;
  }

  invite(org: string, items: InviteItem[]): Promise<ItemResult[]> {
    return this.batch(`${orgPath(org)}/invites/batch`, 'invites', items, 'POST /orgs/:org/invites/batch');
  }

  resendInvites(org: string, items: InviteItem[]): Promise<ItemResult[]> {
    return this.batch(`${orgPath(org)}/invites/batch-resend`, 'invites', items, 'POST /orgs/:org/invites/batch-resend');
  }

  cancelInvites(org: string, emails: string[]): Promise<ItemResult[]> {
    return this.batch(`${orgPath(org)}/invites/batch-cancel`, 'emails', emails, 'POST /orgs/:org/invites/batch-cancel');
  }

  updateMembers(org: string, items: MemberUpdateItem[]): Promise<ItemResult[]> {
    return this.batch(`${orgPath(org)}/members/batch-update`, 'members', items, 'POST /orgs/:org/members/batch-update');
  }

  removeMembers(org: string, emails: string[]): Promise<ItemResult[]> {
    return this.batch(`${orgPath(org)}/members/batch-remove`, 'emails', emails, 'POST /orgs/:org/members/batch-remove');
  }

  async createIntegration(org: string, spec: IntegrationWrite): Promise<void> {
    await this.client.request('POST', `${orgPath(org)}/integrations`, spec, 'POST /orgs/:org/integrations');
  }

  async updateIntegration(org: string, spec: IntegrationWrite): Promise<void> {
    await this.client.request(
      'PATCH',
      `${orgPath(org)}/integrations/${encodeURIComponent(spec.name)}`,
      { options: spec.options, ...(spec.credentials ? { credentials: spec.credentials } : {}) },
      'PATCH /orgs/:org/integrations/:name',
    );
  }

  async deleteIntegration(org: string, name: string): Promise<void> {
    await this.client.request('DELETE', `${orgPath(org)}/integrations/${encodeURIComponent(name)}`, undefined, 'DELETE /orgs/:org/integrations/:name');
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** Requests made, by kind: `GET /orgs/:org/members` ... (benchmarks, and ORGCTL_REQUEST_STATS=1). */
  requestStats(): Record<string, number> {
    return this.client.requestStats();
  }
}

/** The built-in platform's apply lease over HTTP (`/orgs/{org}/lease`). */
export class HttpLeases implements Locks {
  readonly kind = 'platform lease';
  readonly enforced = true;

  constructor(private readonly client: HttpClient) {}

  async acquire(org: string, lease: { id: string; holder: string; ttlMs: number }): Promise<void> {
    try {
      await this.client.request('POST', `${orgPath(org)}/lease`, { id: lease.id, holder: lease.holder, ttlSeconds: Math.ceil(lease.ttlMs / 1000) }, 'POST /orgs/:org/lease');
    } catch (err) {
      throw leaseError(org, err);
    }
  }

  async renew(org: string, id: string, ttlMs: number): Promise<void> {
    try {
      await this.client.request('PUT', `${orgPath(org)}/lease/${encodeURIComponent(id)}`, { ttlSeconds: Math.ceil(ttlMs / 1000) }, 'PUT /orgs/:org/lease/:id');
    } catch (err) {
      throw leaseError(org, err);
    }
  }

  async release(org: string, id: string): Promise<void> {
    await this.client.request('DELETE', `${orgPath(org)}/lease/${encodeURIComponent(id)}`, undefined, 'DELETE /orgs/:org/lease/:id');
  }

  async break(org: string): Promise<{ holder: string; since: string } | undefined> {
    const res = await this.client.request<{ removed: { holder: string; since: string } | null }>('DELETE', `${orgPath(org)}/lease`, undefined, 'DELETE /orgs/:org/lease');
    return res.removed ?? undefined;
  }

  async holder(org: string): Promise<{ holder: string; since: string; expiresAt: string } | undefined> {
    try {
      return await this.client.request<{ holder: string; since: string; expiresAt: string }>('GET', `${orgPath(org)}/lease`, undefined, 'GET /orgs/:org/lease');
    } catch (err) {
      if (err instanceof PlatformError && err.status === 404) return undefined;
      throw err;
    }
  }
}

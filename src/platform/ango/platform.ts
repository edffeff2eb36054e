import type { ActualIntegration, ActualInvite, ActualMember, ActualOrg } from '../../model/actual.js';
import type { ProjectRole, Role } from '../../model/roles.js';
import { HttpClient, type ClientTuning, type ErrorAnswer } from '../http/client.js';
import { isBearerToken } from '../http/address.js';
import { chunks } from '../batch.js';
import { allFailed, itemError, redacting, snippet } from '../saas/util.js';
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
} from '../types.js';
import { ANGO_CAPABILITIES, ANGO_RATE_LIMIT } from './capabilities.js';

/**
 * Ango Hub (iMerit) through its API v2, as platform-apis.md section 2 describes it: the `apikey` header, the
 * `{status, data}` envelope, `page`/`limit` lists of at most 100, members and invites addressed by email, and
 * the organization by its id (Ango has no call that finds one by name).
 */

interface Envelope<T> {
  status?: string;
  data?: T;
}

interface AngoUser {
  _id?: string;
  email?: string;
  name?: string;
  organizationRole?: string;
}

interface AngoInvite {
  _id?: string;
  to?: string;
  organizationRole?: string;
  status?: string;
  expiresAt?: string | null;
}

interface AngoStorage {
  _id: string;
  name: string;
  type?: string;
  provider?: string;
  bucket?: string;
  region?: string;
  organization?: string;
}

/** Largest `limit` of a list (platform-apis.md 2.1). */
export const PAGE_LIMIT = 100;

/** Ango's project roles for orgctl's (manager, annotator, reviewer; Ango's `Lead` has no counterpart). */
export const PROJECT_ROLES: Record<ProjectRole, string> = { manager: 'Manager', annotator: 'Labeler', reviewer: 'Reviewer' };

/**
 * Share of the documented limit the client keeps to by default: requests are spaced evenly, and with a little
 * room no clock or transit jitter can put one more than the limit into a server's minute.
 */
export const RATE_MARGIN = 0.95;

export interface AngoOptions extends ClientTuning {
  /** The context's organization: an Ango organization id, used for a manifest that names none. */
  organization?: string;
  /** Client-side limit, requests per minute; default the documented 100, less RATE_MARGIN. */
  rateLimitPerMinute?: number;
  /** Most emails per invite, role-update or delete call (the API documents no limit; default 100). */
  batchSize?: number;
  /** ORGCTL_USER: the API key's owner, which the API never says (for the self guard). */
  user?: string;
}

/**
 * Ango's error answer. The docs' "Error Response Format" was not captured; the SDK's chat upload reads
 * `{error: {statusCode}, message}`, so `message` is tried first, then the other places a message may be.
 */
export function readAngoError(_status: number, text: string): ErrorAnswer {
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown; data?: { message?: unknown } };
    const e = body?.error as { message?: unknown } | string | undefined;
    const message = [body?.message, typeof e === 'object' ? e?.message : e, body?.data?.message].find((m) => typeof m === 'string' && m);
    if (typeof message === 'string') return { message };
  } catch {
    // not JSON
  }
  return { message: snippet(text) };
}

/** Ango's organization roles (`Admin`, `Member`, `Guest` in answers; `admin`, `member` sent), compared case-insensitively. */
function orgctlRole(ango: string | undefined): Role | undefined {
  switch (String(ango ?? '').toLowerCase()) {
    case 'admin':
      return 'admin';
    case 'member':
      return 'member';
    // A guest has no organization permissions: orgctl's worker (it cannot be declared: Ango invites only admins and members).
    case 'guest':
      return 'worker';
    default:
      return undefined;
  }
}

const AWS = new Set(['aws', 's3']);
/** Storage kinds (the docs' `type`, or the SDK's `provider`) as orgctl integration types. */
function integrationType(s: AngoStorage): string {
  const t = String(s.type ?? s.provider ?? '').toLowerCase();
  if (AWS.has(t)) return 's3';
  if (t === 'gcs' || t === 'gcp') return 'gcs';
  if (t === 'azure') return 'azureblob';
  return t || 'unknown';
}

export function openAngo(base: string, apiKey: string, opts: AngoOptions = {}): AngoPlatform {
  if (!isBearerToken(apiKey)) throw new PlatformError('the Ango Hub API key holds characters a header cannot; it is not shown');
  const auth = { apikey: apiKey }; // the raw key, as the SDK and the docs' curl examples send it
  const client = new HttpClient({
    baseUrl: base,
    auth: () => auth,
    readError: redacting(readAngoError, () => [apiKey]),
    idempotentWrites: false,
    rateLimitPerMinute: opts.rateLimitPerMinute ?? ANGO_RATE_LIMIT * RATE_MARGIN,
    retry: opts.retry,
    timeoutMs: opts.timeoutMs,
    sleep: opts.sleep,
    onRetry: opts.onRetry,
  });
  return new AngoPlatform(client, opts);
}

export class AngoPlatform implements Platform {
  readonly description: string;
  readonly capabilities = ANGO_CAPABILITIES;
  readonly batchSize: number;
  /** Manifest name -> Ango organization id, and back: one id per name in a run. */
  private readonly ids = new Map<string, string>();
  private readonly names = new Map<string, string>();
  /** Storage ids by organization id and name, from the last read. */
  private readonly storages = new Map<string, Map<string, AngoStorage[]>>();
  private readonly now: () => number;

  constructor(
    readonly client: HttpClient,
    private readonly opts: AngoOptions = {},
  ) {
    this.description = `ango+${client.baseUrl}`;
    this.batchSize = opts.batchSize ?? 100;
    this.now = opts.now ?? Date.now;
  }

  async actor(): Promise<string> {
    return this.opts.user?.toLowerCase() || 'unknown';
  }

  async actsForOthers(): Promise<boolean> {
    return false;
  }

  /**
   * The organization id for a manifest's organization: its `orgctl.dev/external-id` annotation, else the
   * context's organization, else the name itself when it is an id. Two sources that disagree, or one id for two
   * names, are errors: a plan must never read one organization and write another.
   */
  private id(org: string, ref?: OrgRef): string {
    const fromManifest = ref?.externalId;
    const fromContext = this.opts.organization;
    if (fromManifest && fromContext && fromManifest !== fromContext) {
      throw new PlatformError(
        `organization "${org}": its annotation orgctl.dev/external-id says Ango organization ${fromManifest}, but the context names ${fromContext}; make them agree, or use a context without --organization`,
      );
    }
    const id = fromManifest ?? this.ids.get(org) ?? fromContext ?? (/^[0-9a-f]{24}$/i.test(org) ? org : undefined);
    if (!id) {
      throw new PlatformError(
        `organization "${org}": Ango Hub addresses organizations by id, and none is given: set metadata.annotations["orgctl.dev/external-id"] to the id (Organization page, or "Get your Organization ID" in the Ango docs), or name it in the context (orgctl config set-context NAME --platform ango --organization ID)`,
      );
    }
    const bound = this.names.get(id);
    if (bound !== undefined && bound !== org) {
      throw new PlatformError(`organizations "${bound}" and "${org}" both map to Ango organization ${id}; give each its own orgctl.dev/external-id`);
    }
    this.names.set(id, org);
    this.ids.set(org, id);
    return id;
  }

  private orgPath(id: string): string {
    return `/v2/organization/${encodeURIComponent(id)}`;
  }

  /** Every page of a list, `limit=100` each, until a short page (the answers carry no total). */
  private async all<T>(path: string, field: string, kind: string): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; ; page++) {
      const sep = path.includes('?') ? '&' : '?';
      const res = await this.client.request<Envelope<Record<string, T[]>>>('GET', `${path}${sep}page=${page}&limit=${PAGE_LIMIT}`, undefined, kind);
      const items = res?.data?.[field];
      if (!Array.isArray(items)) throw new PlatformError(`${this.description}: ${kind} answered without data.${field}; is this Ango Hub's API v2?`);
      for (const item of items) out.push(item);
      if (items.length < PAGE_LIMIT) return out;
    }
  }

  async read(org: string, ref?: OrgRef): Promise<ActualOrg | undefined> {
    const id = this.id(org, ref);
    let users: AngoUser[];
    try {
      users = await this.all<AngoUser>(`${this.orgPath(id)}/users`, 'users', 'GET /v2/organization/:id/users');
    } catch (err) {
      if (err instanceof PlatformError && err.status === 404) {
        throw new PlatformError(`Ango Hub has no organization ${id} (Organization "${org}"), or this API key cannot see it; orgctl cannot create organizations there (its API has no such call)`, 404, 'not_found');
      }
      throw err;
    }
    const invites = await this.all<AngoInvite>(`${this.orgPath(id)}/invites?status=pending`, 'invites', 'GET /v2/organization/:id/invites');
    const storages = await this.all<AngoStorage>('/v2/storages', 'storages', 'GET /v2/storages');

    const notes: string[] = [];
    const members = new Map<string, ActualMember>();
    const odd: string[] = [];
    let guests = 0;
    for (const u of users) {
      const email = u.email?.toLowerCase();
      const role = orgctlRole(u.organizationRole);
      if (!email || !role) {
        odd.push(`${email ?? u._id ?? '?'} (${u.organizationRole ?? 'no role'})`);
        continue;
      }
      if (role === 'worker') guests++;
      members.set(email, { email, role, creator: false, firstName: '', lastName: '', description: '' });
    }
    if (guests) notes.push(`organization "${org}": ${guests} guest(s) on ${this.description} appear as role worker (no organization permissions); Ango invites only admins and members, so declare them as one of those or leave them undeclared`);
    if (odd.length) notes.push(`organization "${org}": user(s) orgctl cannot read are left alone: ${odd.slice(0, 5).join(', ')}${odd.length > 5 ? ', ...' : ''}`);
    if (!this.opts.user) notes.push(`${this.description} does not say whose API key this is: set ORGCTL_USER to its owner's email so the self guard can keep the plan from removing or demoting them`);

    const open = new Map<string, ActualInvite>();
    for (const i of invites) {
      const email = i.to?.toLowerCase();
      const role = orgctlRole(i.organizationRole);
      if (!email || !role || members.has(email)) continue;
      // The docs show only "Pending" with an `expiresAt`: an invite past it is treated as expired.
      const expires = i.expiresAt ? Date.parse(i.expiresAt) : NaN;
      open.set(email, { email, role, status: Number.isFinite(expires) && expires <= this.now() ? 'expired' : 'pending', projects: [] });
    }

    const byName = new Map<string, AngoStorage[]>();
    const integrations = new Map<string, ActualIntegration>();
    for (const s of storages) {
      // The list is the API key's; a storage names its organization (`organization`), so others are skipped.
      if (s.organization !== undefined && s.organization !== id) continue;
      byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
      integrations.set(s.name, {
        name: s.name,
        type: integrationType(s),
        options: { ...(s.bucket !== undefined ? { bucket: s.bucket } : {}), ...(s.region !== undefined ? { region: s.region } : {}) },
        credentialsFingerprint: null,
      });
    }
    this.storages.set(id, byName);

    return {
      name: org,
      externalId: id,
      displayName: org,
      plan: 'freemium', // Ango has no plan (Capabilities: plan false); export leaves it out
      creator: '', // the API does not say who created the organization
      cache: { enabled: false, podType: null },
      members,
      invites: open,
      integrations,
      ...(notes.length ? { notes } : {}),
    };
  }

  async compareCredentials(): Promise<boolean | undefined> {
    return undefined;
  }

  async createOrganization(org: string, _spec: OrganizationCreate): Promise<void> {
    throw new PlatformError(`cannot create organization "${org}": Ango Hub's API has no call that creates organizations`);
  }

  async updateOrganization(org: string, _spec: OrganizationUpdate): Promise<void> {
    throw new PlatformError(`cannot change organization "${org}": Ango Hub's API has no call that renames it or sets a plan or cache`);
  }

  /**
   * `POST /v2/organization/{id}/invites` with `{to, organizationRole, projectAssignments?}`: one call per role and
   * project assignments (every invitee of a call gets them), at most a batch of emails each.
   */
  async invite(org: string, items: InviteItem[]): Promise<ItemResult[]> {
    const id = this.id(org);
    const groups = new Map<string, { role: Role; projects: { projectId: string; projectRole: string }[]; emails: string[] }>();
    const out: ItemResult[] = [];
    for (const i of items) {
      if (i.role !== 'admin' && i.role !== 'member') {
        out.push({ email: i.email, ok: false, error: `Ango Hub invites only admins and members, not ${i.role}` });
        continue;
      }
      const projects = (i.projects ?? []).map((p) => ({ projectId: p.project, projectRole: PROJECT_ROLES[p.role] }));
      const key = JSON.stringify([i.role, projects]);
      const g = groups.get(key) ?? { role: i.role, projects, emails: [] };
      g.emails.push(i.email);
      groups.set(key, g);
    }
    for (const g of groups.values()) {
      for (const batch of chunks(g.emails, this.batchSize)) {
        try {
          await this.client.request(
            'POST',
            `${this.orgPath(id)}/invites`,
            { to: batch, organizationRole: g.role, ...(g.projects.length ? { projectAssignments: g.projects } : {}) },
            'POST /v2/organization/:id/invites',
          );
          for (const email of batch) out.push({ email, ok: true });
        } catch (err) {
          for (const failed of allFailed(batch, itemError(err))) out.push(failed);
        }
      }
    }
    return out;
  }

  /** No resend call exists: the invite is deleted (`DELETE .../invites` with `{invites: [email]}`) and sent again. */
  async resendInvites(org: string, items: InviteItem[]): Promise<ItemResult[]> {
    const out: ItemResult[] = [];
    for (const batch of chunks(items, this.batchSize)) {
      const emails = batch.map((i) => i.email);
      const cancelled = await this.cancelInvites(org, emails);
      const gone = new Set(cancelled.filter((r) => r.ok).map((r) => r.email));
      for (const r of cancelled) if (!r.ok) out.push({ email: r.email, ok: false, error: `could not delete the old invite to send a new one: ${r.error}` });
      const sent = await this.invite(org, batch.filter((i) => gone.has(i.email)));
      for (const r of sent) out.push(r.ok ? r : { ...r, error: `the old invite was deleted but the new one failed (the next plan invites again): ${r.error}` });
    }
    return out;
  }

  /** `DELETE /v2/organization/{id}/invites` with the JSON body `{invites: [email, ...]}` (emails, not invite ids). */
  async cancelInvites(org: string, emails: string[]): Promise<ItemResult[]> {
    const id = this.id(org);
    const out: ItemResult[] = [];
    for (const batch of chunks(emails, this.batchSize)) {
      try {
        await this.client.request('DELETE', `${this.orgPath(id)}/invites`, { invites: batch }, 'DELETE /v2/organization/:id/invites');
        for (const email of batch) out.push({ email, ok: true });
      } catch (err) {
        for (const failed of allFailed(batch, itemError(err))) out.push(failed);
      }
    }
    return out;
  }

  /**
   * `POST /v2/organization/{id}/users` (POST, not PATCH) with `{users: [{email, organizationRole}]}`. The answer
   * counts `updated` and `failed` and lists `results: [{email, status}]`; the status words are not documented,
   * so a result counts as done unless its status says it failed or the counts say some failed without naming them.
   */
  async updateMembers(org: string, items: MemberUpdateItem[]): Promise<ItemResult[]> {
    const id = this.id(org);
    const out: ItemResult[] = [];
    const roles: { email: string; organizationRole: Role }[] = [];
    for (const i of items) {
      if (i.role === 'admin' || i.role === 'member') roles.push({ email: i.email, organizationRole: i.role });
      else out.push({ email: i.email, ok: false, error: i.role ? `Ango Hub has no organization role ${i.role}` : "Ango Hub's API cannot change a member's name or description" });
    }
    for (const batch of chunks(roles, this.batchSize)) {
      const emails = batch.map((b) => b.email);
      let res: Envelope<{ users?: { updated?: number; failed?: number; results?: { email?: string; status?: string }[] } }>;
      try {
        res = await this.client.request('POST', `${this.orgPath(id)}/users`, { users: batch }, 'POST /v2/organization/:id/users');
      } catch (err) {
        for (const failed of allFailed(emails, itemError(err))) out.push(failed);
        continue;
      }
      const summary = res?.data?.users;
      const status = new Map((summary?.results ?? []).filter((r) => r.email).map((r) => [r.email!.toLowerCase(), String(r.status ?? '')]));
      for (const email of emails) {
        const s = status.get(email);
        if (s !== undefined && /fail|error|not/i.test(s)) out.push({ email, ok: false, error: `Ango Hub: ${s}` });
        else if (s !== undefined || !summary?.failed) out.push({ email, ok: true });
        else out.push({ email, ok: false, error: `Ango Hub reported ${summary.failed} failed update(s) without saying whose; the next plan shows what is left` });
      }
    }
    return out;
  }

  /**
   * `DELETE /v2/organization/{id}/users` with the JSON body `{users: [email, ...]}`. The answer only counts
   * `deleted` and `failed`; when some failed, the member list is read again to tell whose.
   */
  async removeMembers(org: string, emails: string[]): Promise<ItemResult[]> {
    const id = this.id(org);
    const out: ItemResult[] = [];
    for (const batch of chunks(emails, this.batchSize)) {
      let res: Envelope<{ deleted?: number; failed?: number }>;
      try {
        res = await this.client.request('DELETE', `${this.orgPath(id)}/users`, { users: batch }, 'DELETE /v2/organization/:id/users');
      } catch (err) {
        for (const failed of allFailed(batch, itemError(err))) out.push(failed);
        continue;
      }
      if (!res?.data?.failed) {
        for (const email of batch) out.push({ email, ok: true });
        continue;
      }
      const still = new Set((await this.all<AngoUser>(`${this.orgPath(id)}/users`, 'users', 'GET /v2/organization/:id/users')).map((u) => u.email?.toLowerCase()));
      for (const email of batch) out.push(still.has(email) ? { email, ok: false, error: `Ango Hub did not remove them (it counted ${res.data.failed} failure(s); an organization's owner cannot be removed)` } : { email, ok: true });
    }
    return out;
  }

  /**
   * `POST /v2/storages` in the API docs' form, `{name, type: "aws", bucket, region?, credentials: {accessKeyId,
   * secretAccessKey}}` (the SDK sends another, `{provider, publicKey, privateKey}`; which the server takes today is
   * unverified, see README). The body names no organization: Ango puts the storage where the key belongs, so the
   * answer's `organization` is checked.
   */
  async createIntegration(org: string, spec: IntegrationWrite): Promise<void> {
    const id = this.id(org);
    if (spec.type !== 's3') throw new PlatformError(`integration "${spec.name}": Ango Hub storages of type ${spec.type} are not managed by orgctl`);
    const bucket = spec.options.bucket;
    if (typeof bucket !== 'string' || !bucket) throw new PlatformError(`integration "${spec.name}": an Ango Hub storage needs options.bucket`);
    const { accessKeyId, secretAccessKey, ...extra } = spec.credentials ?? {};
    if (Object.keys(extra).length) throw new PlatformError(`integration "${spec.name}": Ango Hub storages take no credential field ${Object.keys(extra).join(', ')} (they take: accessKeyId, secretAccessKey)`);
    if (!accessKeyId || !secretAccessKey) throw new PlatformError(`integration "${spec.name}": an Ango Hub storage needs the credential fields accessKeyId and secretAccessKey`);
    const res = await this.client.request<Envelope<{ storage?: AngoStorage }>>(
      'POST',
      '/v2/storages',
      { name: spec.name, type: 'aws', bucket, ...(typeof spec.options.region === 'string' ? { region: spec.options.region } : {}), credentials: { accessKeyId, secretAccessKey } },
      'POST /v2/storages',
    );
    const made = res?.data?.storage;
    if (made?.organization !== undefined && made.organization !== id) {
      throw new PlatformError(
        `storage "${spec.name}" was created in Ango organization ${made.organization}, not ${id}: Ango puts a storage in the API key's organization; use a key of ${id}'s admin (and delete storage ${made._id} there)`,
      );
    }
  }

  async updateIntegration(org: string, spec: IntegrationWrite): Promise<void> {
    throw new PlatformError(
      `cannot change storage "${spec.name}" of "${org}": Ango Hub's API has no storage update. Give it a new name in the manifest to create a new storage (with spec.integrations.policy authoritative the old one is then deleted)`,
    );
  }

  /** `DELETE /v2/storages/{storageId}`. */
  async deleteIntegration(org: string, name: string): Promise<void> {
    const id = this.id(org);
    if (!this.storages.has(id)) await this.read(org);
    const same = this.storages.get(id)?.get(name) ?? [];
    if (same.length > 1) throw new PlatformError(`${same.length} storages of "${org}" are named "${name}" (ids ${same.map((s) => s._id).join(', ')}); delete all but one in Ango Hub`);
    if (!same[0]) throw new PlatformError(`storage "${name}" of "${org}" does not exist`);
    await this.client.request('DELETE', `/v2/storages/${encodeURIComponent(same[0]._id)}`, undefined, 'DELETE /v2/storages/:id');
    this.storages.get(id)!.delete(name);
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  requestStats(): Record<string, number> {
    return this.client.requestStats();
  }
}

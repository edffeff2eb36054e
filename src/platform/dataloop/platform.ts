import type { ActualIntegration, ActualMember, ActualOrg } from '../../model/actual.js';
import type { Capabilities } from '../../model/capabilities.js';
import { ROLES, type OrgPlan, type PodType, type Role } from '../../model/roles.js';
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
import { DataloopAuth } from './auth.js';
import { dataloopCapabilities } from './capabilities.js';
import { setsOptionsOnUpdate, wireOptions } from './integrations.js';

/**
 * Dataloop (https://dataloop.ai) through its REST API at `<base>/...` (default https://gate.dataloop.ai/api/v1),
 * exactly as platform-apis.md section 1 describes it: the calls dtlpy makes, with its bodies. Every list is a
 * plain JSON array (no pagination), every error a `{message}`. What the API cannot do is declared in the
 * capabilities, so the planner refuses or explains it instead of this adapter skipping it in silence.
 */

/** An organization as `GET /orgs` and `GET /orgs/{id}` return it (the fields orgctl reads). */
interface DlOrg {
  id: string;
  name: string;
  plan?: unknown;
  creator?: unknown;
}

/** A member as `GET /orgs/{id}/members` returns it (dtlpy's User). */
interface DlUser {
  id: string;
  email?: string | null;
  role?: string | null;
  firstName?: string | null;
  lastName?: string | null;
}

interface DlIntegration {
  id: string;
  name: string;
  type: string;
}

/** The organization as far as this run knows it: id always; name and plan when the token may read them. */
interface Known {
  id: string;
  /** The name on Dataloop; the manifest's when a non-superuser found it by id. */
  name: string;
  nameKnown: boolean;
  plan?: OrgPlan;
  creator: string;
  memberIds: Map<string, string>;
  integrations: Map<string, DlIntegration[]>;
}

export interface DataloopOptions extends ClientTuning {
  /** Client-side limit, requests per minute (Dataloop documents none). */
  rateLimitPerMinute?: number;
  /** Most emails per `POST /orgs/{id}/members` (the API documents no limit; default 100). */
  batchSize?: number;
  /** ORGCTL_USER: who acts, when `GET /users/me` does not say. */
  user?: string;
}

/** Dataloop's error shape: a JSON body with `message` (dtlpy reads `response.json().get('message', response.text)`). */
export function readDataloopError(_status: number, text: string): ErrorAnswer {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body?.message === 'string' && body.message) return { message: body.message };
  } catch {
    // not JSON
  }
  return { message: snippet(text) };
}

/** The cache poll's backoff, as dtlpy's __polling_wait: 1, 2, 4, 8, 8, ... seconds. */
export function cachePollDelayMs(attempt: number): number {
  return Math.min(8, 2 ** attempt) * 1000;
}

/** Gives up on the cache after this many polls (about 15 minutes at 8 s each). */
const CACHE_POLLS = 120;

const isRole = (r: string): r is Role => (ROLES as readonly string[]).includes(r);

export function openDataloop(base: string, token: string, refreshToken: string | undefined, opts: DataloopOptions = {}): DataloopPlatform {
  for (const [what, value] of [['token', token], ['refresh token', refreshToken]] as const) {
    if (value !== undefined && !isBearerToken(value)) throw new PlatformError(`the Dataloop ${what} holds characters a bearer token cannot; it is not shown`);
  }
  let auth: DataloopAuth | undefined;
  const secrets = () => auth?.secrets() ?? [token, refreshToken ?? ''];
  const readError = redacting(readDataloopError, secrets);
  const common = { readError, idempotentWrites: false, retry: opts.retry, timeoutMs: opts.timeoutMs, sleep: opts.sleep, onRetry: opts.onRetry };
  // `/token` lives on the gate's origin, outside /api/v1 (platform-apis.md 1.1).
  const gate = new HttpClient({ ...common, baseUrl: new URL(base).origin, auth: () => ({}) });
  auth = new DataloopAuth(token, refreshToken, gate, opts.now);
  const client = new HttpClient({ ...common, baseUrl: base, auth: () => auth.headers(), rateLimitPerMinute: opts.rateLimitPerMinute });
  return new DataloopPlatform(client, gate, opts);
}

export class DataloopPlatform implements Platform {
  readonly description: string;
  readonly batchSize: number;
  private superuser: boolean | undefined;
  private allOrgs: DlOrg[] | undefined;
  private me: string | undefined;
  private readonly known = new Map<string, Known>();
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    readonly client: HttpClient,
    private readonly gate: HttpClient,
    private readonly opts: DataloopOptions = {},
  ) {
    this.description = `dataloop+${client.baseUrl}`;
    this.batchSize = opts.batchSize ?? 100;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Until the token is probed (actor() and read() do it first), plan changes count as not allowed. */
  get capabilities(): Capabilities {
    return dataloopCapabilities(this.superuser === true);
  }

  /** Whether the token is a superuser's: `GET /orgs` is theirs only (dtlpy's organizations.list docstring). */
  private async probe(): Promise<boolean> {
    if (this.superuser !== undefined) return this.superuser;
    try {
      this.allOrgs = await this.client.request<DlOrg[]>('GET', '/orgs', undefined, 'GET /orgs');
      this.superuser = true;
    } catch (err) {
      if (!(err instanceof PlatformError) || err.status !== 403) throw err;
      this.superuser = false;
    }
    return this.superuser;
  }

  async actor(): Promise<string> {
    await this.probe();
    if (this.me === undefined) {
      // dtlpy checks a key with GET /users/me; that it answers with the User (and its email) is inferred.
      const me = await this.client.request<{ email?: unknown }>('GET', '/users/me', undefined, 'GET /users/me').catch((err: unknown) => {
        if (err instanceof PlatformError && err.status !== undefined && err.status < 500 && err.status !== 401) return undefined;
        throw err;
      });
      this.me = typeof me?.email === 'string' && me.email ? me.email.toLowerCase() : (this.opts.user?.toLowerCase() ?? '');
    }
    return this.me || 'unknown';
  }

  async actsForOthers(): Promise<boolean> {
    return false; // organizations cannot be created on Dataloop at all
  }

  /** Finds the organization: by its id (annotation orgctl.dev/external-id), else by name in `GET /orgs` as dtlpy does. */
  private async locate(org: string, ref?: OrgRef): Promise<Known> {
    const superuser = await this.probe();
    const fresh = (o: DlOrg | undefined, id: string): Known => ({
      id,
      name: o?.name ?? org,
      nameKnown: o !== undefined,
      ...(o && (o.plan === 'premium' || o.plan === 'freemium') ? { plan: o.plan } : {}),
      creator: o && typeof o.creator === 'string' && o.creator.includes('@') ? o.creator.toLowerCase() : '',
      memberIds: new Map(),
      integrations: new Map(),
    });
    if (ref?.externalId) {
      if (!superuser) return fresh(undefined, ref.externalId);
      try {
        return fresh(await this.client.request<DlOrg>('GET', `/orgs/${encodeURIComponent(ref.externalId)}`, undefined, 'GET /orgs/:id'), ref.externalId);
      } catch (err) {
        if (err instanceof PlatformError && err.status === 404) throw notFound(org, `with id ${ref.externalId} (annotation orgctl.dev/external-id)`, this.description);
        throw err;
      }
    }
    if (!superuser) {
      throw new PlatformError(
        `cannot find organization "${org}" on ${this.description} by name: that needs GET /orgs, which Dataloop allows superusers only, and this token is not one. ` +
          `Give the Organization its id instead: metadata.annotations["orgctl.dev/external-id"] (the id is in its console address, https://console.dataloop.ai/iam/<id>/members)`,
        403,
        'forbidden',
      );
    }
    const matches = (this.allOrgs ?? []).filter((o) => o.name === org);
    if (matches.length > 1) {
      throw new PlatformError(`${matches.length} organizations are named "${org}" on ${this.description} (ids ${matches.map((o) => o.id).join(', ')}): set metadata.annotations["orgctl.dev/external-id"] to the one meant`);
    }
    if (!matches[0]) {
      const near = (this.allOrgs ?? []).filter((o) => o.name.toLowerCase().replace(/[^a-z0-9]+/g, '-') === org).map((o) => `"${o.name}" (id ${o.id})`);
      throw notFound(org, near.length ? `named "${org}"; a name differs only in case or punctuation: ${near.join(', ')}: set orgctl.dev/external-id to its id` : `named "${org}"`, this.description);
    }
    return fresh(matches[0], matches[0].id);
  }

  /** The organization as located by the last read, or located now (a write without a read in this run). */
  private async org(org: string): Promise<Known> {
    const k = this.known.get(org);
    if (k) return k;
    await this.read(org);
    return this.known.get(org)!;
  }

  async read(org: string, ref?: OrgRef): Promise<ActualOrg | undefined> {
    const k = await this.locate(org, ref);
    const path = `/orgs/${encodeURIComponent(k.id)}`;
    let users: DlUser[];
    try {
      users = await this.client.request<DlUser[]>('GET', `${path}/members`, undefined, 'GET /orgs/:id/members');
    } catch (err) {
      if (err instanceof PlatformError && err.status === 404) throw notFound(org, `with id ${k.id}`, this.description);
      throw err;
    }
    const list = await this.client.request<DlIntegration[]>('GET', `${path}/integrations`, undefined, 'GET /orgs/:id/integrations');
    if (!Array.isArray(users) || !Array.isArray(list)) throw new PlatformError(`${this.description}: the member or integration list is not a JSON array; is this Dataloop's API?`);

    const notes: string[] = [];
    const members = new Map<string, ActualMember>();
    const noEmail: string[] = [];
    const oddRoles: string[] = [];
    for (const u of users) {
      const email = typeof u.email === 'string' && u.email ? u.email.toLowerCase() : undefined;
      const role = String(u.role ?? '').toLowerCase();
      if (!email) {
        noEmail.push(u.id);
        continue;
      }
      if (!isRole(role)) {
        oddRoles.push(`${email} (${u.role})`);
        continue;
      }
      k.memberIds.set(email, u.id);
      members.set(email, { email, role, creator: email === k.creator, firstName: u.firstName ?? '', lastName: u.lastName ?? '', description: '' });
    }
    if (noEmail.length) notes.push(`organization "${org}": ${noEmail.length} member(s) of ${this.description} have no email in the member list (ids ${noEmail.slice(0, 5).join(', ')}${noEmail.length > 5 ? ', ...' : ''}); orgctl cannot match them to manifests and leaves them alone`);
    if (oddRoles.length) notes.push(`organization "${org}": member(s) with a role orgctl does not know are left alone: ${oddRoles.slice(0, 5).join(', ')}${oddRoles.length > 5 ? ', ...' : ''}`);
    if (!this.me && !this.opts.user) notes.push(`${this.description} did not say whose token this is (GET /users/me): set ORGCTL_USER to its email so the self guard can keep the plan from removing or demoting it`);

    const integrations = new Map<string, ActualIntegration>();
    for (const i of list) {
      const same = k.integrations.get(i.name) ?? [];
      same.push(i);
      k.integrations.set(i.name, same);
      // Dataloop returns neither options nor a fingerprint of the secrets (Capabilities: optionDrift/credentialDrift none).
      integrations.set(i.name, { name: i.name, type: i.type, options: {}, credentialsFingerprint: null });
    }
    this.known.set(org, k);
    return {
      name: org,
      externalId: k.id,
      displayName: k.name,
      // Unknown to a non-superuser; the capabilities then refuse spec.plan and export leaves it out.
      plan: k.plan ?? 'freemium',
      creator: k.creator,
      cache: { enabled: false, podType: null }, // never read: Capabilities.organizations.cache is write-only
      members,
      invites: new Map(), // Dataloop cannot list pending invites
      integrations,
      ...(notes.length ? { notes } : {}),
    };
  }

  async compareCredentials(): Promise<boolean | undefined> {
    return undefined;
  }

  async createOrganization(org: string, _spec: OrganizationCreate): Promise<void> {
    throw new PlatformError(`cannot create organization "${org}": Dataloop's API has no call that creates organizations (dtlpy's organizations.create() is removed); create it in the console`);
  }

  async updateOrganization(org: string, spec: OrganizationUpdate): Promise<void> {
    const k = await this.org(org);
    if (spec.displayName !== undefined) throw new PlatformError(`cannot rename "${org}": Dataloop's API has no call that renames an organization`);
    if (spec.plan !== undefined) {
      // The answer is ignored, as dtlpy ignores it.
      await this.client.request('PATCH', `/orgs/${encodeURIComponent(k.id)}/plan`, { plan: spec.plan }, 'PATCH /orgs/:id/plan');
    }
    if (spec.cache) await this.cache(org, k, spec.cache.enabled ? 'apply' : 'destroy', spec.cache.podType ?? 'small');
  }

  /**
   * dtlpy's cache_action (platform-apis.md 1.6): `fs-cache?mode=apply-filestore`, then poll `fs-cache?mode=get`
   * until `state` is READY (1, 2, 4, 8, 8... s apart), then `fs-cache?mode=apply`, then `cache?mode=apply`; or
   * `fs-cache?mode=destroy` and `cache?mode=destroy`. Every call carries `{org: {name, id}, runner: {podType}}`,
   * and `mode` is sent as the lowercase word (not Python's enum repr).
   */
  private async cache(org: string, k: Known, action: 'apply' | 'destroy', podType: PodType): Promise<void> {
    if (!k.nameKnown) {
      throw new PlatformError(`cannot switch the cache of "${org}": Dataloop's cache calls need the organization's name, which only a superuser token can read when it is found by id`);
    }
    const body = { org: { name: k.name, id: k.id }, runner: { podType } };
    const call = <T>(service: 'fs-cache' | 'cache', mode: string) => this.client.request<T>('POST', `/services/${service}?mode=${mode}`, body, `POST /services/${service}?mode=${mode}`);
    if (action === 'destroy') {
      await call('fs-cache', 'destroy');
      await call('cache', 'destroy');
      return;
    }
    await call('fs-cache', 'apply-filestore');
    for (let attempt = 0; ; attempt++) {
      const state = await call<{ state?: unknown }>('fs-cache', 'get');
      if (state?.state === 'READY') break;
      if (attempt + 1 >= CACHE_POLLS) throw new PlatformError(`the file store of "${org}" was not READY after ${CACHE_POLLS} polls (last state ${JSON.stringify(state?.state ?? null)}); run apply again later`);
      await this.sleep(cachePollDelayMs(attempt));
    }
    await call('fs-cache', 'apply');
    await call('cache', 'apply');
  }

  /** `POST /orgs/{id}/members` with `{emails, role}`: the invite. One call per role and batch; the answer is ignored, as dtlpy's. */
  async invite(org: string, items: InviteItem[]): Promise<ItemResult[]> {
    const k = await this.org(org);
    const out: ItemResult[] = [];
    const byRole = new Map<Role, string[]>();
    for (const i of items) {
      if (i.projects?.length) {
        out.push({ email: i.email, ok: false, error: 'Dataloop invites cannot pre-assign projects' });
        continue;
      }
      byRole.set(i.role, [...(byRole.get(i.role) ?? []), i.email]);
    }
    for (const [role, emails] of byRole) {
      for (const batch of chunks(emails, this.batchSize)) {
        try {
          await this.client.request('POST', `/orgs/${encodeURIComponent(k.id)}/members`, { emails: batch, role }, 'POST /orgs/:id/members');
          for (const email of batch) out.push({ email, ok: true });
        } catch (err) {
          for (const failed of allFailed(batch, itemError(err))) out.push(failed);
        }
      }
    }
    return out;
  }

  async resendInvites(_org: string, items: InviteItem[]): Promise<ItemResult[]> {
    return allFailed(items.map((i) => i.email), "Dataloop's API cannot resend an invite (pending invites cannot even be listed)");
  }

  async cancelInvites(_org: string, emails: string[]): Promise<ItemResult[]> {
    return allFailed(emails, "Dataloop's API cannot cancel an invite (pending invites cannot even be listed)");
  }

  /** `PATCH /orgs/{id}/members` with `{email, role}`, one member per call (the API takes no batch). */
  async updateMembers(org: string, items: MemberUpdateItem[]): Promise<ItemResult[]> {
    const k = await this.org(org);
    const out: ItemResult[] = [];
    for (const i of items) {
      if (!i.role) {
        out.push({ email: i.email, ok: false, error: "Dataloop's API cannot change a member's name or description" });
        continue;
      }
      try {
        await this.client.request('PATCH', `/orgs/${encodeURIComponent(k.id)}/members`, { email: i.email, role: i.role }, 'PATCH /orgs/:id/members');
        out.push({ email: i.email, ok: true });
      } catch (err) {
        out.push({ email: i.email, ok: false, error: itemError(err) });
      }
    }
    return out;
  }

  /** `DELETE /orgs/{id}/members/{userId}`, one member per call, by the user id the member list gave. */
  async removeMembers(org: string, emails: string[]): Promise<ItemResult[]> {
    let k = await this.org(org);
    if (emails.some((e) => !k.memberIds.has(e))) {
      await this.read(org, { externalId: k.id }); // members added since the read
      k = this.known.get(org)!;
    }
    const out: ItemResult[] = [];
    for (const email of emails) {
      const id = k.memberIds.get(email);
      if (!id) {
        out.push({ email, ok: false, error: 'not a member' });
        continue;
      }
      try {
        await this.client.request('DELETE', `/orgs/${encodeURIComponent(k.id)}/members/${encodeURIComponent(id)}`, undefined, 'DELETE /orgs/:id/members/:userId');
        k.memberIds.delete(email);
        out.push({ email, ok: true });
      } catch (err) {
        out.push({ email, ok: false, error: itemError(err) });
      }
    }
    return out;
  }

  private integrationId(org: string, k: Known, name: string): string {
    const same = k.integrations.get(name) ?? [];
    if (same.length > 1) throw new PlatformError(`${same.length} integrations of "${org}" are named "${name}" (ids ${same.map((i) => i.id).join(', ')}); remove all but one in the console`);
    if (!same[0]) throw new PlatformError(`integration "${name}" of "${org}" does not exist`);
    return same[0].id;
  }

  /** `POST /orgs/{id}/integrations` with `{type, name, options}`; the cross-account types then get their options by an update. */
  async createIntegration(org: string, spec: IntegrationWrite): Promise<void> {
    const k = await this.org(org);
    const created = await this.client.request<DlIntegration>(
      'POST',
      `/orgs/${encodeURIComponent(k.id)}/integrations`,
      { type: spec.type, name: spec.name, options: wireOptions(spec, 'create') },
      'POST /orgs/:id/integrations',
    );
    if (created?.id) k.integrations.set(spec.name, [{ id: created.id, name: spec.name, type: spec.type }]);
    if (setsOptionsOnUpdate(spec.type) && Object.keys(spec.options).length) {
      if (!created?.id) throw new PlatformError(`integration "${spec.name}" of "${org}" was created, but the answer has no id to set its options with; run apply again`);
      await this.patchIntegration(k, created.id, spec);
    }
  }

  /** `PATCH /orgs/{id}/integrations` with `{integrationId, credentials: {options, type}}` (the id in the body). */
  async updateIntegration(org: string, spec: IntegrationWrite): Promise<void> {
    const k = await this.org(org);
    await this.patchIntegration(k, this.integrationId(org, k, spec.name), spec);
  }

  private async patchIntegration(k: Known, id: string, spec: IntegrationWrite): Promise<void> {
    await this.client.request(
      'PATCH',
      `/orgs/${encodeURIComponent(k.id)}/integrations`,
      { integrationId: id, credentials: { options: wireOptions(spec, 'update'), type: spec.type } },
      'PATCH /orgs/:id/integrations',
    );
  }

  async deleteIntegration(org: string, name: string): Promise<void> {
    const k = await this.org(org);
    const id = this.integrationId(org, k, name);
    await this.client.request('DELETE', `/orgs/${encodeURIComponent(k.id)}/integrations/${encodeURIComponent(id)}`, undefined, 'DELETE /orgs/:id/integrations/:id');
    k.integrations.delete(name);
  }

  async close(): Promise<void> {
    await this.client.close();
    await this.gate.close();
  }

  requestStats(): Record<string, number> {
    return this.client.requestStats();
  }
}

function notFound(org: string, how: string, platform: string): PlatformError {
  return new PlatformError(
    `no organization ${how} on ${platform} for Organization "${org}"; orgctl cannot create organizations on Dataloop (its API has none): create it in the console, or set metadata.annotations["orgctl.dev/external-id"] to the existing one's id`,
    404,
    'not_found',
  );
}

import type { ActualIntegration, ActualOrg } from '../../src/model/actual.js';
import type { Capabilities } from '../../src/model/capabilities.js';
import { BUILTIN_CAPABILITIES } from '../../src/platform/builtin/capabilities.js';
import { LeaseHeldError, LockLostError, type Locks } from '../../src/platform/locks.js';
import type { IntegrationWrite, InviteItem, ItemResult, MemberUpdateItem, OrganizationCreate, OrganizationUpdate, Platform } from '../../src/platform/types.js';

/**
 * An in-memory platform for unit tests of the reconcile: state as the reconciler sees it, every write
 * recorded, and hooks to fail or delay a call. Not a stand-in for any real platform's wire behaviour.
 */
export class FakePlatform implements Platform {
  readonly description = 'fake:test';
  batchSize = 1000;
  readonly orgs = new Map<string, ActualOrg>();
  /** Every write, in order: `invite acme a@x.example`. */
  readonly writes: string[] = [];
  /** Stored credentials per `org/integration`, compared by compareCredentials. */
  readonly secrets = new Map<string, string>();
  /** Called before each write; may throw or wait. */
  beforeWrite: (what: string) => Promise<void> | void = () => undefined;
  /** Per-email failures of batch calls. */
  failEmails = new Set<string>();
  /** Projects per organization, as listProjects reports them. */
  readonly projects = new Map<string, string[]>();

  constructor(
    readonly capabilities: Capabilities = BUILTIN_CAPABILITIES,
    private readonly me = 'ops@x.example',
  ) {}

  seed(org: Partial<ActualOrg> & { name: string }): ActualOrg {
    const full: ActualOrg = {
      displayName: org.name,
      plan: 'freemium',
      creator: this.me,
      cache: { enabled: false, podType: null },
      ...(this.capabilities.stateVersion ? { stateVersion: 1 } : {}),
      members: new Map([[this.me, { email: this.me, role: 'owner', creator: true, firstName: '', lastName: '', description: '' }]]),
      invites: new Map(),
      integrations: new Map(),
      ...org,
    };
    this.orgs.set(org.name, full);
    return full;
  }

  private bump(org: string): void {
    const o = this.orgs.get(org);
    if (o && o.stateVersion !== undefined) o.stateVersion++;
  }

  private async write(what: string, org: string): Promise<void> {
    await this.beforeWrite(what);
    this.writes.push(what);
    this.bump(org);
  }

  private items(emails: string[], apply: (email: string) => void): ItemResult[] {
    return emails.map((email) => {
      if (this.failEmails.has(email)) return { email, ok: false, error: 'refused by the fake (test)' };
      apply(email);
      return { email, ok: true };
    });
  }

  async actor(): Promise<string> {
    return this.me;
  }
  async actsForOthers(): Promise<boolean> {
    return false;
  }
  async read(org: string): Promise<ActualOrg | undefined> {
    const o = this.orgs.get(org);
    // A copy, as a real read is: later writes must not change what a plan was made from.
    return o && { ...o, members: new Map(o.members), invites: new Map(o.invites), integrations: new Map(o.integrations) };
  }
  async listProjects(org: string): Promise<string[]> {
    return [...(this.projects.get(org) ?? [])];
  }
  async compareCredentials(org: string, integration: ActualIntegration, credentials: Record<string, string>): Promise<boolean | undefined> {
    if (this.capabilities.credentialDrift === 'none') return undefined;
    return this.secrets.get(`${org}/${integration.name}`) === JSON.stringify(credentials);
  }
  async createOrganization(org: string, spec: OrganizationCreate): Promise<void> {
    await this.write(`create-organization ${org}`, org);
    this.seed({ name: org, displayName: spec.displayName, plan: spec.plan });
  }
  async updateOrganization(org: string, spec: OrganizationUpdate): Promise<void> {
    await this.write(`update-organization ${org} ${JSON.stringify(spec)}`, org);
    const o = this.orgs.get(org)!;
    if (spec.displayName) o.displayName = spec.displayName;
    if (spec.plan) o.plan = spec.plan;
  }
  async invite(org: string, items: InviteItem[]): Promise<ItemResult[]> {
    await this.write(`invite ${org} ${items.map((i) => i.email).join(',')}`, org);
    const byEmail = new Map(items.map((i) => [i.email, i]));
    return this.items([...byEmail.keys()], (email) => {
      const item = byEmail.get(email)!;
      this.orgs.get(org)!.invites.set(email, { email, role: item.role, status: 'pending', projects: item.projects ?? [] });
    });
  }
  async resendInvites(org: string, items: InviteItem[]): Promise<ItemResult[]> {
    await this.write(`resend ${org} ${items.map((i) => i.email).join(',')}`, org);
    return this.items(items.map((i) => i.email), () => undefined);
  }
  async cancelInvites(org: string, emails: string[]): Promise<ItemResult[]> {
    await this.write(`cancel ${org} ${emails.join(',')}`, org);
    return this.items(emails, (email) => this.orgs.get(org)!.invites.delete(email));
  }
  async updateMembers(org: string, items: MemberUpdateItem[]): Promise<ItemResult[]> {
    await this.write(`update-members ${org} ${items.map((i) => i.email).join(',')}`, org);
    const byEmail = new Map(items.map((i) => [i.email, i]));
    return this.items([...byEmail.keys()], (email) => {
      const m = this.orgs.get(org)!.members.get(email)!;
      const item = byEmail.get(email)!;
      this.orgs.get(org)!.members.set(email, { ...m, ...(item.role ? { role: item.role } : {}) });
    });
  }
  async removeMembers(org: string, emails: string[]): Promise<ItemResult[]> {
    await this.write(`remove ${org} ${emails.join(',')}`, org);
    return this.items(emails, (email) => this.orgs.get(org)!.members.delete(email));
  }
  async createIntegration(org: string, spec: IntegrationWrite): Promise<void> {
    await this.write(`create-integration ${org} ${spec.name}`, org);
    this.orgs.get(org)!.integrations.set(spec.name, { name: spec.name, type: spec.type, options: spec.options, credentialsFingerprint: null });
    this.secrets.set(`${org}/${spec.name}`, JSON.stringify(spec.credentials));
  }
  async updateIntegration(org: string, spec: IntegrationWrite): Promise<void> {
    await this.write(`update-integration ${org} ${spec.name}`, org);
    this.secrets.set(`${org}/${spec.name}`, JSON.stringify(spec.credentials));
  }
  async deleteIntegration(org: string, name: string): Promise<void> {
    await this.write(`delete-integration ${org} ${name}`, org);
    this.orgs.get(org)!.integrations.delete(name);
  }
  async close(): Promise<void> {}
}

/** An in-memory lock: one holder per organization, with hooks to make renewals fail. */
export class FakeLocks implements Locks {
  readonly kind = 'fake lease';
  readonly enforced = true;
  readonly held = new Map<string, { id: string; holder: string }>();
  readonly log: string[] = [];
  renewals = 0;
  /** When set, the next renewal says the lease was taken. */
  loseOnRenew = false;
  onRenew: () => void = () => undefined;

  async acquire(org: string, lease: { id: string; holder: string; ttlMs: number }): Promise<void> {
    const h = this.held.get(org);
    if (h && h.id !== lease.id) throw new LeaseHeldError(org, h.holder, 'a while ago', 'later');
    this.held.set(org, { id: lease.id, holder: lease.holder });
    this.log.push(`acquire ${org}`);
  }
  async renew(org: string): Promise<void> {
    this.renewals++;
    this.onRenew();
    if (this.loseOnRenew) throw new LockLostError(`someone else holds "${org}" now`);
  }
  async release(org: string, id: string): Promise<void> {
    if (this.held.get(org)?.id === id) this.held.delete(org);
    this.log.push(`release ${org}`);
  }
  async break(org: string): Promise<{ holder: string; since: string } | undefined> {
    const h = this.held.get(org);
    this.held.delete(org);
    return h && { holder: h.holder, since: 'a while ago' };
  }
  async holder(org: string): Promise<{ holder: string; since: string; expiresAt: string } | undefined> {
    const h = this.held.get(org);
    return h && { holder: h.holder, since: 'a while ago', expiresAt: 'later' };
  }
}

import type { ActualIntegration, ActualOrg } from '../model/actual.js';
import type { Capabilities } from '../model/capabilities.js';
import type { OrgPlan, PodType, Profile, ProjectAssignment, Role } from '../model/roles.js';

/** What a manifest says of an organization's identity on the platform, besides its name. */
export interface OrgRef {
  externalId?: string;
}

/** What a read brings beyond what the diff compares. */
export interface ReadOptions {
  /** Who joined and who invited whom, when (`orgctl report`): slower reads of whole list items; the diff ignores it. */
  history?: boolean;
}

/** Per-email outcome of a batched write. */
export interface ItemResult {
  email: string;
  ok: boolean;
  error?: string;
}

export interface InviteItem extends Profile {
  email: string;
  role: Role;
  projects?: ProjectAssignment[];
}

export interface MemberUpdateItem extends Profile {
  email: string;
  role?: Role;
}

export interface IntegrationWrite {
  name: string;
  type: string;
  options: Record<string, unknown>;
  credentials?: Record<string, string>;
}

export interface OrganizationCreate {
  displayName: string;
  plan: OrgPlan;
  creator?: string;
}

export interface OrganizationUpdate {
  displayName?: string;
  plan?: OrgPlan;
  cache?: { enabled: boolean; podType?: PodType };
}

/**
 * What the reconciler needs from a platform, and nothing more (peribolos style: the interface lives where
 * it is used): read one organization, write its parts. Each platform (the built-in one, embedded or over
 * HTTP, and the SaaS adapters) implements it; locking is a separate interface (locks.ts), since most
 * platforms have no lease API. Batch methods take any number of items; adapters split them to the
 * platform's batch limit.
 */
export interface Platform {
  /** For plans and messages: `embedded:.orgctl/platform.db`, `http://127.0.0.1:8080`, ... Never a secret. */
  readonly description: string;
  readonly capabilities: Capabilities;
  /** Most items one batch call takes: apply sends batch actions in runs of at most this many. */
  readonly batchSize: number;
  /** Email of the identity acting on the platform. */
  actor(): Promise<string>;
  /** Whether the actor may create organizations for someone else (who becomes the creator). */
  actsForOthers(): Promise<boolean>;
  /**
   * The organization's current state, read with list calls only; undefined if it does not exist. `ref` carries
   * what the manifest says of the organization's identity on the platform (its id, for platforms that address
   * organizations by id).
   */
  read(org: string, ref?: OrgRef, opts?: ReadOptions): Promise<ActualOrg | undefined>;
  /**
   * Names of an existing organization's projects (list calls only), which invites may pre-assign: a plan checks
   * the projects its invites name exist. Absent on a platform that cannot list them (nothing is checked).
   */
  listProjects?(org: string): Promise<string[]>;
  /**
   * Whether `credentials` are the values stored for an existing integration (Capabilities.credentialDrift
   * `compare`); undefined when that cannot be told. Never returns or logs the stored values.
   */
  compareCredentials(org: string, integration: ActualIntegration, credentials: Record<string, string>): Promise<boolean | undefined>;
  createOrganization(org: string, spec: OrganizationCreate): Promise<void>;
  updateOrganization(org: string, spec: OrganizationUpdate): Promise<void>;
  invite(org: string, items: InviteItem[]): Promise<ItemResult[]>;
  /** Resends open invites (new link, new expiry), changing role or profile when given. */
  resendInvites(org: string, items: InviteItem[]): Promise<ItemResult[]>;
  cancelInvites(org: string, emails: string[]): Promise<ItemResult[]>;
  updateMembers(org: string, items: MemberUpdateItem[]): Promise<ItemResult[]>;
  removeMembers(org: string, emails: string[]): Promise<ItemResult[]>;
  createIntegration(org: string, spec: IntegrationWrite): Promise<void>;
  updateIntegration(org: string, spec: IntegrationWrite): Promise<void>;
  deleteIntegration(org: string, name: string): Promise<void>;
  close(): Promise<void>;
}

/** A platform refused or failed a whole call (not one item of a batch). */
export class PlatformError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
    readonly details: Record<string, unknown> = {},
    /**
     * The request may have been carried out although no answer came back (a timeout or a connection lost
     * after sending a write the platform does not deduplicate): the state must be read again before retrying.
     */
    readonly ambiguous = false,
  ) {
    super(message);
  }
}

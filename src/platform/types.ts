import type { ActualOrg, Role } from '../plan/model.js';

/** Per-email outcome of a batched write. */
export interface ItemResult {
  email: string;
  ok: boolean;
  error?: string;
}

export interface InviteItem {
  email: string;
  role: Role;
  firstName?: string;
  lastName?: string;
  description?: string;
  projects?: { project: string; role: string }[];
}

export interface MemberUpdateItem {
  email: string;
  role?: Role;
  firstName?: string;
  lastName?: string;
  description?: string;
}

export interface IntegrationWrite {
  name: string;
  type: string;
  options: Record<string, unknown>;
  credentials?: Record<string, string>;
}

/**
 * What the reconciler needs from a platform, and nothing more (peribolos style: the interface lives where
 * it is used). Each platform — the built-in one, embedded or over HTTP, and the SaaS adapters — implements it.
 * Batch methods take any number of items; adapters split them to the platform's batch limit.
 */
export interface Platform {
  /** For plans and messages: `embedded:.orgctl/platform.db`, `http://127.0.0.1:8080`, ... */
  readonly description: string;
  /** Most items one batch call takes: apply sends batch actions in runs of at most this many. */
  readonly batchSize: number;
  /** Email of the identity acting on the platform. */
  actor(): Promise<string>;
  /** Whether the actor may create organizations for someone else (who becomes the creator). */
  actsForOthers(): Promise<boolean>;
  /** The organization's current state, read with list calls only; undefined if it does not exist. */
  read(org: string): Promise<ActualOrg | undefined>;
  createOrganization(org: string, spec: { displayName: string; plan: 'freemium' | 'premium'; creator?: string }): Promise<void>;
  updateOrganization(org: string, spec: { displayName?: string; plan?: 'freemium' | 'premium'; cache?: { enabled: boolean; podType?: string } }): Promise<void>;
  invite(org: string, items: InviteItem[]): Promise<ItemResult[]>;
  /** Resends open invites (new link, new expiry), changing role or profile when given. */
  resendInvites(org: string, items: InviteItem[]): Promise<ItemResult[]>;
  cancelInvites(org: string, emails: string[]): Promise<ItemResult[]>;
  updateMembers(org: string, items: MemberUpdateItem[]): Promise<ItemResult[]>;
  removeMembers(org: string, emails: string[]): Promise<ItemResult[]>;
  createIntegration(org: string, spec: IntegrationWrite): Promise<void>;
  updateIntegration(org: string, spec: IntegrationWrite): Promise<void>;
  deleteIntegration(org: string, name: string): Promise<void>;
  /**
   * Takes the apply lease on an organization (which need not exist yet) for `ttlMs`, or extends it when
   * `id` holds it already. Throws LeaseHeldError while someone else holds it.
   */
  acquireLease(org: string, lease: { id: string; holder: string; ttlMs: number }): Promise<void>;
  /** Extends a held lease; throws PlatformError (code lease_lost) if it ran out and was taken. */
  renewLease(org: string, id: string, ttlMs: number): Promise<void>;
  /** Gives a lease up; a lease no longer held is fine. */
  releaseLease(org: string, id: string): Promise<void>;
  /** Breaks whatever lease an organization has (force-unlock); returns whose it was, if any. */
  breakLease(org: string): Promise<{ holder: string; since: string } | undefined>;
  close(): Promise<void>;
}

/** A platform refused or failed a whole call (not one item of a batch). */
export class PlatformError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Someone else holds an organization's apply lease. */
export class LeaseHeldError extends PlatformError {
  constructor(
    readonly organization: string,
    readonly holder: string,
    readonly since: string,
    readonly expiresAt: string,
  ) {
    super(`organization "${organization}" is locked by ${holder} since ${since}`, 409, 'lease_held');
  }

  /** From a platform's 409 lease_held answer. */
  static from(org: string, err: PlatformError): PlatformError {
    if (err.code !== 'lease_held') return err;
    const d = err.details;
    return new LeaseHeldError(org, String(d.holder ?? 'someone'), String(d.since ?? 'an unknown time'), String(d.expiresAt ?? 'an unknown time'));
  }
}

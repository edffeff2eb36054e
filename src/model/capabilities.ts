import type { Role } from './roles.js';

/**
 * What a platform can do, declared by its adapter. The planner checks manifests against it (a request the
 * platform cannot honour is an error naming the field and the platform, never a silent skip), the diff reads
 * it instead of assuming the built-in platform, and apply reads it to know which writes may be retried.
 */
export interface Capabilities {
  /** Roles the platform has. */
  roles: readonly Role[];
  organizations: {
    /** orgctl may create an organization that does not exist yet. */
    create: boolean;
    /** The display name can be changed. */
    rename: boolean;
    /** The billing plan (freemium/premium) can be read and changed. */
    plan: boolean;
    /**
     * The dataset cache can be read and switched. `write-only`: it can be switched but its state cannot be
     * read, so a declared cache is applied on every run (and the plan says why).
     */
    cache: boolean | 'write-only';
  };
  invites: {
    /** Pending and expired invites can be listed (else they cannot be told from people never invited). */
    list: boolean;
    cancel: boolean;
    resend: boolean;
    /** Invites can pre-assign projects. */
    projects: boolean;
  };
  /** firstName, lastName and description can be set on members. */
  profiles: boolean;
  /** Integration types the platform takes; empty when it has no integrations. */
  integrationTypes: readonly string[];
  /**
   * How drift of an existing integration's credentials is found: `compare`: the adapter can tell whether given
   * values are the stored ones; `none`: it cannot, so the diff never plans an update for credentials alone.
   */
  credentialDrift: 'compare' | 'none';
  /**
   * How drift of an existing integration's non-secret options is found: `compare` (the default): the platform
   * returns them; `none`: it does not, so the diff never plans an update for options alone.
   */
  optionDrift?: 'compare' | 'none';
  /**
   * Per integration type, the `options` and credential fields the platform takes (a type not listed takes any):
   * the planner refuses others, naming them, instead of letting apply drop them.
   */
  integrationFields?: Readonly<Record<string, { options: readonly string[]; credentials: readonly string[] }>>;
  /** Why something is missing, by manifest field (`spec.plan`, `spec.cache`, ...), for the planner's messages. */
  why?: Readonly<Record<string, string>>;
  /** The platform keeps a state version per organization; without one, staleness compares a digest of the state. */
  stateVersion: boolean;
  /**
   * A write repeated with the same Idempotency-Key is done once. Without it, a write whose answer was lost
   * (timeout, dropped connection) is not re-sent: the reconcile reads the state again instead.
   */
  idempotentWrites: boolean;
  /** The platform's own request limit, per minute, when it has a documented one. */
  rateLimitPerMinute?: number;
}

import type { OrgPlan, PodType, Profile, ProjectAssignment, Role } from './roles.js';

/** What a platform holds for one organization, as an adapter reads it (list calls only). */

export interface ActualMember extends Required<Profile> {
  email: string;
  role: Role;
  creator: boolean;
  /** When they joined, where the platform says (access reports). */
  joinedAt?: string;
}

export interface ActualInvite {
  email: string;
  role: Role;
  status: 'pending' | 'expired';
  projects: { project: string; role: ProjectAssignment['role'] | string }[];
  /** When it was sent first, and by whom, and when it runs out: for access reports, where the platform says. */
  invitedAt?: string;
  invitedBy?: string;
  expiresAt?: string;
}

export interface ActualIntegration {
  name: string;
  type: string;
  options: Record<string, unknown>;
  /**
   * Opaque to the reconciler: whatever the adapter needs to compare desired credentials with the stored ones
   * (the built-in platform's fingerprint); null when the platform shows nothing.
   */
  credentialsFingerprint: string | null;
}

export interface ActualOrg {
  name: string;
  /** The platform's own id of the organization, where it differs from the name (export writes it as `orgctl.dev/external-id`). */
  externalId?: string;
  displayName: string;
  plan: OrgPlan;
  creator: string;
  cache: { enabled: boolean; podType: PodType | null };
  /** The platform's version of the organization's state, when it keeps one (see Capabilities.stateVersion). */
  stateVersion?: number;
  members: Map<string, ActualMember>;
  invites: Map<string, ActualInvite>;
  integrations: Map<string, ActualIntegration>;
  /** What the adapter could not read or had to interpret (a platform API's limits), said once in the plan. */
  notes?: string[];
}

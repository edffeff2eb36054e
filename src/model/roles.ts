/** The vocabulary every layer shares: roles, policies, plans. Manifests, plans, platforms and the server import it. */

export const ROLES = ['owner', 'admin', 'member', 'worker'] as const;
export type Role = (typeof ROLES)[number];

/** Higher ranks may do more; a change to a lower rank is a demotion. */
export const ROLE_RANK: Record<Role, number> = { worker: 0, member: 1, admin: 2, owner: 3 };

/** The role of a declared person who names none, in a Membership that names none either (the CRD's default). */
export const DEFAULT_ROLE: Role = 'member';

export type Policy = 'additive' | 'authoritative';
export type OrgPlan = 'freemium' | 'premium';
export type PodType = 'small' | 'medium' | 'high';
export type ProjectRole = 'manager' | 'annotator' | 'reviewer';

export interface Profile {
  firstName?: string;
  lastName?: string;
  description?: string;
}

export const PROFILE_FIELDS = ['firstName', 'lastName', 'description'] as const;

/** A project a person is added to when their invite is accepted. */
export interface ProjectAssignment {
  project: string;
  role: ProjectRole;
}

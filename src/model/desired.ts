import type { OrgPlan, Policy, PodType, Profile, ProjectAssignment, Role } from './roles.js';

/** What the manifests declare, folded into one record per organization. */

export interface DesiredMember extends Profile {
  email: string;
  role: Role;
  projects: ProjectAssignment[];
  /** When this person's access ends (ISO 8601 instant); from then on they are removed, within the guards. */
  expiresAt?: string;
  /** Where the person was declared, for problems found later (a project that does not exist); placed on demand. */
  source?: MemberSource;
}

/** An object in a manifest file, unplaced: the file, the document in it, and the path to the object (inside a `kind: List`: `items[i]`). */
export interface DeclaredIn {
  file: string;
  doc: number;
  object: readonly (string | number)[];
}

/**
 * A person's entry in a Membership's `spec.members`: the Membership, the entry's index and how many of the
 * person's `projects` it gave. Someone declared by two Memberships has the second in `also`, whose projects
 * follow the first's.
 */
export interface MemberSource {
  in: DeclaredIn;
  index: number;
  projects: number;
  also?: MemberSource;
}

/** Where an integration's secret values come from: names of variables, files or Secrets, never values. */
export interface CredentialsSource {
  secretName?: string;
  keys?: Record<string, string>;
  env?: Record<string, string>;
  file?: string;
  /** Directory `file` is relative to (the manifest's). */
  baseDir?: string;
  /** Namespace `secretName` is read from (the manifest's, in a cluster). */
  namespace?: string;
}

export interface DesiredIntegration {
  name: string;
  type: string;
  options: Record<string, unknown>;
  credentialsRef?: CredentialsSource;
}

export interface DesiredOrg {
  name: string;
  /** The platform's own id of the organization (annotation `orgctl.dev/external-id`), for platforms that address organizations by id. */
  externalId?: string;
  displayName?: string;
  plan?: OrgPlan;
  cache?: { enabled: boolean; podType: PodType };
  membersPolicy: Policy;
  ignore: string[];
  integrationsPolicy: Policy;
  deletionPolicy?: 'Orphan' | 'Delete';
  members: Map<string, DesiredMember>;
  integrations: Map<string, DesiredIntegration>;
}

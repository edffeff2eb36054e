/** The reconciler's data: desired state (from manifests), actual state (from a platform), and the plan between. */

export type Role = 'owner' | 'admin' | 'member' | 'worker';
export type Policy = 'additive' | 'authoritative';

export const ROLE_RANK: Record<Role, number> = { worker: 0, member: 1, admin: 2, owner: 3 };

export interface Profile {
  firstName?: string;
  lastName?: string;
  description?: string;
}

export interface DesiredMember extends Profile {
  email: string;
  role: Role;
  projects: { project: string; role: 'manager' | 'annotator' | 'reviewer' }[];
}

export interface CredentialsSource {
  secretName?: string;
  keys?: Record<string, string>;
  env?: Record<string, string>;
  file?: string;
  /** Directory `file` is relative to (the manifest's). */
  baseDir?: string;
}

export interface DesiredIntegration {
  name: string;
  type: string;
  options: Record<string, unknown>;
  credentialsRef?: CredentialsSource;
  /** Resolved values; never printed, never saved. Absent when the integration takes none. */
  credentials?: Record<string, string>;
}

export interface DesiredOrg {
  name: string;
  displayName?: string;
  plan?: 'freemium' | 'premium';
  cache?: { enabled: boolean; podType: 'small' | 'medium' | 'high' };
  membersPolicy: Policy;
  ignore: string[];
  integrationsPolicy: Policy;
  members: Map<string, DesiredMember>;
  integrations: Map<string, DesiredIntegration>;
}

export interface ActualMember extends Required<Profile> {
  email: string;
  role: Role;
  creator: boolean;
}

export interface ActualInvite {
  email: string;
  role: Role;
  status: 'pending' | 'expired';
  projects: { project: string; role: string }[];
}

export interface ActualIntegration {
  name: string;
  type: string;
  options: Record<string, unknown>;
  credentialsFingerprint: string | null;
}

export interface ActualOrg {
  name: string;
  displayName: string;
  plan: 'freemium' | 'premium';
  creator: string;
  cache: { enabled: boolean; podType: 'small' | 'medium' | 'high' | null };
  stateVersion: number;
  members: Map<string, ActualMember>;
  invites: Map<string, ActualInvite>;
  integrations: Map<string, ActualIntegration>;
}

export const ACTIONS = [
  'create-organization',
  'rename',
  'update-plan',
  'cache-apply',
  'cache-destroy',
  'create-integration',
  'update-integration',
  'invite',
  'resend-invite',
  'reinvite',
  'update-role',
  'update-profile',
  'remove-member',
  'cancel-invite',
  'delete-integration',
] as const;
export type Action = (typeof ACTIONS)[number];

/** One change of a plan. `before`/`after` never hold secret values. */
export interface Change {
  id: string;
  action: Action;
  organization: string;
  target: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  reason: string;
}

export interface Plan {
  formatVersion: 1;
  platform: string;
  /** State version of each organization as read; applying a saved plan refuses if it moved. */
  observed: Record<string, number | null>;
  changes: Change[];
  summary: Record<string, number> & { total: number };
}

/** Changes grouped by organization, in plan order; `orgs` lists organizations to include even when unchanged. */
export function byOrganization(changes: Change[], orgs: string[] = []): Map<string, Change[]> {
  const out = new Map<string, Change[]>(orgs.map((o) => [o, []]));
  for (const c of changes) {
    let list = out.get(c.organization);
    if (!list) out.set(c.organization, (list = []));
    list.push(c);
  }
  return out;
}

import type { CredentialsSource } from './desired.js';
import type { OrgPlan, PodType, Profile, ProjectAssignment, Role } from './roles.js';

/** A plan: the changes between desired and actual state, as plain data that can be printed, saved and applied later. */

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

/** An invite as planned: role, profile and project pre-assignments. */
export interface InviteSpec extends Profile {
  role: Role;
  projects?: ProjectAssignment[];
}

/** An integration as planned. `credentials` says where values come from (names only); values are never in a plan. */
export interface IntegrationSpec {
  type: string;
  options: Record<string, unknown>;
  credentials?: string;
  credentialsRef?: CredentialsSource;
}

export interface IntegrationBefore {
  type: string;
  options: Record<string, unknown>;
}

interface ChangeOf<A extends Action, B, F> {
  /** `action:organization:target`, unique in a plan. */
  id: string;
  action: A;
  organization: string;
  /** An email, an integration name, or the organization. */
  target: string;
  before: B;
  after: F;
  reason: string;
}

/** One change of a plan, typed per action. `before`/`after` never hold secret values. */
export type Change =
  | ChangeOf<'create-organization', null, { displayName: string; plan: OrgPlan; creator?: string }>
  | ChangeOf<'rename', { displayName: string }, { displayName: string }>
  | ChangeOf<'update-plan', { plan: OrgPlan }, { plan: OrgPlan }>
  | ChangeOf<'cache-apply', { podType: PodType | null } | null, { podType: PodType }>
  | ChangeOf<'cache-destroy', { podType: PodType | null }, null>
  | ChangeOf<'create-integration', null, IntegrationSpec>
  | ChangeOf<'update-integration', IntegrationBefore, IntegrationSpec>
  | ChangeOf<'delete-integration', IntegrationBefore, null>
  | ChangeOf<'invite', null, InviteSpec>
  | ChangeOf<'resend-invite', { role: Role; status: 'expired' }, InviteSpec>
  | ChangeOf<'reinvite', { role: Role; status: 'pending' }, InviteSpec>
  | ChangeOf<'update-role', { role: Role }, { role: Role }>
  | ChangeOf<'update-profile', Profile | null, Profile>
  | ChangeOf<'remove-member', { role: Role }, null>
  | ChangeOf<'cancel-invite', { role: Role; status: 'pending' | 'expired' }, null>;

/** The change of one action. */
export type ChangeFor<A extends Action> = Extract<Change, { action: A }>;

/**
 * What was observed of an organization when the plan was made, to refuse applying a stale plan: its state
 * version (a number) where the platform keeps one, else a digest of the state as read (`sha256:...`); null
 * when it did not exist.
 */
export type Observed = number | string | null;

/** `--max-removals`: a share of current members ("25%") or an absolute count ("10"). */
export type RemovalLimit = { percent: number } | { count: number };

/** The guards' settings, as the flags give them. */
export interface GuardSettings {
  maxRemovals: RemovalLimit;
  allowOwnerChanges: boolean;
}

/** The settings without any override flag. */
export const DEFAULT_GUARDS: GuardSettings = Object.freeze({ maxRemovals: Object.freeze({ percent: 25 }), allowOwnerChanges: false });

export interface Plan {
  formatVersion: 1;
  platform: string;
  observed: Record<string, Observed>;
  /** The guard settings the plan was made with: a saved plan made with overrides applies only with the same ones. */
  guards?: GuardSettings;
  changes: Change[];
  summary: Record<string, number> & { total: number };
}

/** Builds a change; its id follows from action, organization and target. */
export function change<A extends Action>(action: A, organization: string, target: string, before: ChangeFor<A>['before'], after: ChangeFor<A>['after'], reason: string): ChangeFor<A> {
  return { id: `${action}:${organization}:${target}`, action, organization, target, before, after, reason } as ChangeFor<A>;
}

/** Changes grouped by organization, in plan order; `orgs` lists organizations to include even when unchanged. */
export function byOrganization(changes: readonly Change[], orgs: string[] = []): Map<string, Change[]> {
  const out = new Map<string, Change[]>(orgs.map((o) => [o, []]));
  for (const c of changes) {
    let list = out.get(c.organization);
    if (!list) out.set(c.organization, (list = []));
    list.push(c);
  }
  return out;
}

export function summarize(changes: readonly Change[]): Plan['summary'] {
  const summary: Record<string, number> = {};
  for (const c of changes) summary[c.action] = (summary[c.action] ?? 0) + 1;
  return { ...summary, total: changes.length };
}

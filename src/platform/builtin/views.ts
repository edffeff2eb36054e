import type { ActualIntegration, ActualInvite, ActualMember, ActualOrg } from '../../model/actual.js';

/** The built-in platform's views, as both of its adapters (embedded and HTTP) receive them. */
export type OrgViewLike = Omit<ActualOrg, 'members' | 'invites' | 'integrations'>;
/** Members and integrations arrive in the reconciler's own shape; invites carry the platform's status. */
export type MemberViewLike = ActualMember;
export type IntegrationViewLike = ActualIntegration;
export type InviteViewLike = Omit<ActualInvite, 'status' | 'invitedAt' | 'invitedBy'> & { status: string; createdAt?: string; createdBy?: string };

/**
 * The compared fields of a member view (a page item carries more: timestamps, ...); with `history`, also when
 * they joined. A read gives the same either way, whether the server sent whole items or just those fields.
 */
export function actualMember(m: MemberViewLike, history = false): ActualMember {
  const member: ActualMember = { email: m.email, role: m.role, creator: m.creator, firstName: m.firstName, lastName: m.lastName, description: m.description };
  if (history && m.joinedAt) member.joinedAt = m.joinedAt;
  return member;
}

/**
 * The compared fields of an open invite's view: the platform's `expired` status, everything else open is
 * pending; with `history`, also who sent it, when, and when it lapses.
 */
export function actualInvite(i: InviteViewLike, history = false): ActualInvite {
  const invite: ActualInvite = { email: i.email, role: i.role, status: i.status === 'expired' ? 'expired' : 'pending', projects: i.projects };
  if (!history) return invite;
  // Who invited whom and when: `orgctl report` shows it; the diff ignores it.
  if (i.createdAt) invite.invitedAt = i.createdAt;
  if (i.createdBy) invite.invitedBy = i.createdBy;
  if (i.expiresAt) invite.expiresAt = i.expiresAt;
  return invite;
}

/** Builds the reconciler's actual state from the organization's view and the maps read for it. */
export function toActualOrg(
  view: OrgViewLike,
  members: Map<string, ActualMember>,
  invites: Map<string, ActualInvite>,
  integrations: IntegrationViewLike[],
): ActualOrg {
  return {
    name: view.name,
    displayName: view.displayName,
    plan: view.plan,
    creator: view.creator,
    cache: { enabled: view.cache.enabled, podType: view.cache.podType },
    stateVersion: view.stateVersion,
    members,
    invites,
    integrations: new Map(integrations.map((i) => [i.name, { name: i.name, type: i.type, options: i.options, credentialsFingerprint: i.credentialsFingerprint }])),
  };
}

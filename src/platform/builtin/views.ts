import type { ActualIntegration, ActualInvite, ActualMember, ActualOrg } from '../../model/actual.js';

/** The built-in platform's views, as both of its adapters (embedded and HTTP) receive them. */
export type OrgViewLike = Omit<ActualOrg, 'members' | 'invites' | 'integrations'>;
/** Members and integrations arrive in the reconciler's own shape; invites carry the platform's status. */
export type MemberViewLike = ActualMember;
export type IntegrationViewLike = ActualIntegration;
export type InviteViewLike = Omit<ActualInvite, 'status' | 'invitedAt' | 'invitedBy'> & { status: string; createdAt?: string; createdBy?: string };

/** Builds the reconciler's actual state from the platform's views (members, open invites, integrations). */
export function toActualOrg(view: OrgViewLike, members: MemberViewLike[], invites: InviteViewLike[], integrations: IntegrationViewLike[]): ActualOrg {
  return {
    name: view.name,
    displayName: view.displayName,
    plan: view.plan,
    creator: view.creator,
    cache: { enabled: view.cache.enabled, podType: view.cache.podType },
    stateVersion: view.stateVersion,
    members: new Map(
      members.map((m) => [
        m.email,
        { email: m.email, role: m.role, creator: m.creator, firstName: m.firstName, lastName: m.lastName, description: m.description, ...(m.joinedAt ? { joinedAt: m.joinedAt } : {}) },
      ]),
    ),
    invites: new Map(
      invites.map((i): [string, ActualInvite] => [
        i.email,
        {
          email: i.email,
          role: i.role,
          status: i.status === 'expired' ? 'expired' : 'pending',
          projects: i.projects,
          ...(i.createdAt ? { invitedAt: i.createdAt } : {}),
          ...(i.createdBy ? { invitedBy: i.createdBy } : {}),
          ...(i.expiresAt ? { expiresAt: i.expiresAt } : {}),
        },
      ]),
    ),
    integrations: new Map(integrations.map((i) => [i.name, { name: i.name, type: i.type, options: i.options, credentialsFingerprint: i.credentialsFingerprint }])),
  };
}

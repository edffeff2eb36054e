import type { ActualMember, ActualOrg } from '../model/actual.js';
import type { Change } from '../model/plan.js';

/**
 * The state an organization will be in once `changes` are applied to `actual`: what `orgctl diff` shows
 * against the live state, rendered the way `export` renders it. Pure; `actual` is not changed.
 */
export function predictState(name: string, actual: ActualOrg | undefined, changes: readonly Change[]): ActualOrg | undefined {
  let state: ActualOrg | undefined = actual && {
    ...actual,
    cache: { ...actual.cache },
    members: new Map(actual.members),
    invites: new Map(actual.invites),
    integrations: new Map(actual.integrations),
  };
  for (const c of changes) {
    if (c.organization !== name) continue;
    if (c.action === 'create-organization') {
      const creator = c.after.creator ?? '';
      state = {
        name,
        displayName: c.after.displayName,
        plan: c.after.plan,
        creator,
        cache: { enabled: false, podType: null },
        members: new Map(creator ? [[creator, { email: creator, role: 'owner', creator: true, firstName: '', lastName: '', description: '' } as ActualMember]] : []),
        invites: new Map(),
        integrations: new Map(),
      };
      continue;
    }
    if (!state) continue;
    switch (c.action) {
      case 'rename':
        state.displayName = c.after.displayName;
        break;
      case 'update-plan':
        state.plan = c.after.plan;
        break;
      case 'cache-apply':
        state.cache = { enabled: true, podType: c.after.podType };
        break;
      case 'cache-destroy':
        state.cache = { enabled: false, podType: null };
        break;
      case 'create-integration':
      case 'update-integration':
        state.integrations.set(c.target, { name: c.target, type: c.after.type, options: c.after.options, credentialsFingerprint: null });
        break;
      case 'delete-integration':
        state.integrations.delete(c.target);
        break;
      case 'invite':
      case 'resend-invite':
      case 'reinvite':
        state.invites.set(c.target, { email: c.target, role: c.after.role, status: 'pending', projects: c.after.projects ?? [] });
        break;
      case 'update-role': {
        const m = state.members.get(c.target);
        if (m) state.members.set(c.target, { ...m, role: c.after.role });
        break;
      }
      case 'update-profile': {
        const m = state.members.get(c.target);
        if (m) state.members.set(c.target, { ...m, ...c.after } as ActualMember);
        break;
      }
      case 'remove-member':
        state.members.delete(c.target);
        break;
      case 'cancel-invite':
        state.invites.delete(c.target);
        break;
    }
  }
  return state;
}

import type { ActualOrg } from '../model/actual.js';
import type { Change } from '../model/plan.js';
import { PROFILE_FIELDS } from '../model/roles.js';
import type { Platform } from '../platform/types.js';

/** Whether the state shows a change done. Unknowable ones (credentials, a resend's new link) count as not done. */
function visible(c: Change, state: ActualOrg | undefined): boolean {
  if (c.action === 'create-organization') return state !== undefined;
  if (!state) return false;
  switch (c.action) {
    case 'rename':
      return state.displayName === c.after.displayName;
    case 'update-plan':
      return state.plan === c.after.plan;
    case 'cache-apply':
      return state.cache.enabled && state.cache.podType === c.after.podType;
    case 'cache-destroy':
      return !state.cache.enabled;
    case 'create-integration':
      return state.integrations.has(c.target);
    case 'update-integration':
      // Credentials cannot be seen: only an update of type or options alone could be confirmed, and not
      // even then that the credentials went with it. Report it as not done; the next plan says what is left.
      return false;
    case 'delete-integration':
      return !state.integrations.has(c.target);
    case 'invite':
      return state.invites.has(c.target) || state.members.has(c.target);
    case 'resend-invite':
    case 'reinvite':
      return false; // a new link and expiry do not show in a list
    case 'update-role':
      return state.members.get(c.target)?.role === c.after.role;
    case 'update-profile': {
      const m = state.members.get(c.target);
      return !!m && PROFILE_FIELDS.every((f) => c.after[f] === undefined || c.after[f] === m[f]);
    }
    case 'remove-member':
      return !state.members.has(c.target);
    case 'cancel-invite':
      return !state.invites.has(c.target);
  }
}

/**
 * After a write whose answer was lost on a platform that does not deduplicate writes, reads the
 * organization again and returns the changes it shows done. Re-sending instead could do a write twice (two
 * invites, two emails); what is not shown done is reported failed and left to the next plan.
 */
export async function confirmByReading(platform: Platform, org: string, changes: readonly Change[]): Promise<Set<Change>> {
  let state: ActualOrg | undefined;
  try {
    state = await platform.read(org);
  } catch {
    return new Set(); // cannot tell: nothing is claimed done
  }
  return new Set(changes.filter((c) => visible(c, state)));
}


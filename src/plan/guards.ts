import type { ActualOrg } from '../model/actual.js';
import { byOrganization, type Change, type GuardSettings, type RemovalLimit } from '../model/plan.js';

export type { GuardSettings, RemovalLimit };
import { ROLE_RANK, type Role } from '../model/roles.js';


export function parseRemovalLimit(text: string): RemovalLimit | undefined {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  if (pct) {
    const percent = Number(pct[1]);
    return percent <= 100 ? { percent } : undefined;
  }
  return /^\d+$/.test(text.trim()) ? { count: Number(text) } : undefined;
}

export interface GuardOptions extends GuardSettings {
  /** Email of the identity applying the plan. */
  actor: string;
}

export interface GuardViolation {
  guard: 'max-removals' | 'self' | 'creator' | 'owner-changes';
  organization: string;
  target?: string;
  message: string;
}

/**
 * The safety guards. A plan with any violation is refused whole: nothing is written. Pure: it looks only at
 * the changes and the actual state they were computed from.
 */
export function checkGuards(changes: readonly Change[], actual: Map<string, ActualOrg | undefined>, opts: GuardOptions): GuardViolation[] {
  const out: GuardViolation[] = [];
  for (const [org, list] of byOrganization(changes)) {
    const state = actual.get(org);
    const members = state?.members ?? new Map();
    // Losing a pending invite is losing access too: removals and cancellations count together, against
    // everyone with access (members plus open invites), so an organization that is mostly pending is protected.
    const removals = list.filter((c) => c.action === 'remove-member').length;
    const cancels = list.filter((c) => c.action === 'cancel-invite').length;
    const losses = removals + cancels;
    const people = members.size + (state?.invites.size ?? 0);
    const limit = 'count' in opts.maxRemovals ? opts.maxRemovals.count : Math.floor((people * opts.maxRemovals.percent) / 100);
    if (losses > limit) {
      const what = 'count' in opts.maxRemovals ? `${opts.maxRemovals.count}` : `${opts.maxRemovals.percent}% of ${people} = ${limit}`;
      const parts = [removals ? `removes ${removals} member${removals === 1 ? '' : 's'}` : '', cancels ? `cancels ${cancels} invite${cancels === 1 ? '' : 's'}` : ''].filter(Boolean).join(' and ');
      out.push({
        guard: 'max-removals',
        organization: org,
        message: `the plan ${parts} of "${org}": ${losses} of ${people} people with access (members plus open invites), more than --max-removals allows (${what}); review them, then raise --max-removals (e.g. --max-removals=${losses})`,
      });
    }
    for (const c of list) {
      const before: Role | undefined = c.action === 'update-role' || c.action === 'remove-member' ? c.before.role : undefined;
      const after: Role | undefined = c.action === 'update-role' ? c.after.role : undefined;
      const isActor = c.target === opts.actor.toLowerCase();
      if (isActor && (c.action === 'remove-member' || (c.action === 'update-role' && before && after && ROLE_RANK[after] < ROLE_RANK[before]))) {
        out.push({
          guard: 'self',
          organization: org,
          target: c.target,
          message: `the plan would ${c.action === 'remove-member' ? 'remove' : `demote (${before} -> ${after})`} ${c.target}, the identity applying it, in "${org}"; declare yourself, add yourself to spec.members.ignore, or apply as another identity (no flag overrides this)`,
        });
      }
      const demotion = c.action === 'update-role' && ROLE_RANK[c.after.role] < ROLE_RANK[c.before.role];
      if ((c.action === 'remove-member' || demotion) && members.get(c.target)?.creator) {
        // The platform refuses both: a plan that shows them would fail at apply and stay as drift for ever.
        out.push({
          guard: 'creator',
          organization: org,
          target: c.target,
          message: `the plan would ${demotion ? `demote (${before} -> ${after})` : 'remove'} ${c.target}, who created "${org}"; the creator can never be removed or demoted: declare them as owner or add them to spec.members.ignore (no flag overrides this)`,
        });
      }
      const ownerChange = (c.action === 'update-role' && (before === 'owner' || after === 'owner')) || (c.action === 'remove-member' && before === 'owner');
      if (ownerChange && !opts.allowOwnerChanges) {
        out.push({
          guard: 'owner-changes',
          organization: org,
          target: c.target,
          message: `the plan changes an owner of "${org}" (${c.action} ${c.target}${before && after ? `: ${before} -> ${after}` : ''}); pass --allow-owner-changes to allow it`,
        });
      }
    }
  }
  return out;
}

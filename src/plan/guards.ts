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
    const removals = list.filter((c) => c.action === 'remove-member');
    const limit = 'count' in opts.maxRemovals ? opts.maxRemovals.count : Math.floor((members.size * opts.maxRemovals.percent) / 100);
    if (removals.length > limit) {
      const what = 'count' in opts.maxRemovals ? `${opts.maxRemovals.count}` : `${opts.maxRemovals.percent}% of ${members.size} = ${limit}`;
      out.push({
        guard: 'max-removals',
        organization: org,
        message: `the plan removes ${removals.length} of ${members.size} members of "${org}", more than --max-removals allows (${what}); review the removals, then raise --max-removals (e.g. --max-removals=${removals.length})`,
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
      if (c.action === 'remove-member' && members.get(c.target)?.creator) {
        out.push({
          guard: 'creator',
          organization: org,
          target: c.target,
          message: `the plan would remove ${c.target}, who created "${org}"; the creator can never be removed: declare them or add them to spec.members.ignore (no flag overrides this)`,
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

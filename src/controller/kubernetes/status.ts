import { canonicalJson } from '../../model/canonical-json.js';
import type { Change } from '../../model/plan.js';
import type { ReconcileOutcome } from '../../plan/reconcile.js';
import type { OrgStatus } from '../controller.js';

/** A metav1.Condition. */
export interface Condition {
  type: 'Ready' | 'Synced';
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/** At most this many per-person failures are listed in a Membership's status (failureCount has them all). */
export const MAX_FAILURES = 20;
const MAX_MESSAGE = 4000;

/**
 * Sets conditions with the Kubernetes conventions: lastTransitionTime moves only when a condition's status
 * flips; reason, message and observedGeneration are simply the latest.
 */
export function mergeConditions(existing: unknown, next: readonly ConditionInput[], now: string): Condition[] {
  const before = Array.isArray(existing) ? (existing as Condition[]) : [];
  const out: Condition[] = [];
  for (const c of next) {
    const old = before.find((o) => o?.type === c.type);
    out.push({ ...c, message: c.message.slice(0, MAX_MESSAGE), lastTransitionTime: old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : now });
  }
  // Conditions of other types (set by someone else) are kept.
  for (const o of before) if (o && !next.some((c) => c.type === o.type)) out.push(o);
  return out;
}

export function sameStatus(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b ?? {});
}

/** Both conditions at once: Ready and Synced with one reason and message, or each its own. */
export function conditions(generation: number, ready: [boolean, string, string], synced: [boolean, string, string] = ready): ConditionInput[] {
  return [
    { type: 'Ready', status: ready[0] ? 'True' : 'False', observedGeneration: generation, reason: ready[1], message: ready[2] },
    { type: 'Synced', status: synced[0] ? 'True' : 'False', observedGeneration: generation, reason: synced[1], message: synced[2] },
  ];
}

const OVERRIDES: Record<string, string> = {
  'max-removals': 'override: raise the controller\'s --max-removals',
  'owner-changes': 'override: the controller\'s --allow-owner-changes',
  self: 'no override: declare the controller\'s identity, or add it to spec.members.ignore',
  creator: 'no override: declare the creator as owner, or add them to spec.members.ignore',
};

/** What a reconcile's result means for the conditions of every object of the organization. */
export function resultConditions(generation: number, s: OrgStatus): ConditionInput[] {
  const outcome = s.outcome;
  switch (s.result) {
    case 'success':
    case 'no_changes':
    case 'deleted':
      return conditions(generation, [true, 'Available', s.message], [true, 'ReconcileSuccess', s.message]);
    case 'dry_run':
      return conditions(generation, [false, 'DryRun', s.message], [true, 'DryRun', s.message]);
    case 'guard_tripped': {
      const text = (outcome?.violations ?? []).map((v) => `guard ${v.guard} tripped: ${v.message} (${OVERRIDES[v.guard] ?? 'see the guards in the README'}); nothing was written`).join('; ') || s.message;
      return conditions(generation, [false, 'GuardTripped', text]);
    }
    case 'incomplete': {
      const first = outcome?.failed[0];
      return conditions(generation, [false, 'ApplyFailed', `${s.message}${first ? `; first failure: ${first.change.action} ${first.change.target}: ${first.error}` : ''}${outcome?.lockLost ? `; ${outcome.lockLost}` : ''}; retrying`]);
    }
    case 'locked':
      return conditions(generation, [false, 'Locked', `${s.message}; retrying`]);
    case 'waiting':
      return conditions(generation, [false, 'Deleting', s.message]);
    case 'orphaned':
      return conditions(generation, [false, 'Deleting', s.message], [true, 'Orphaned', s.message]);
    default:
      return conditions(generation, [false, 'ReconcileError', `${s.message}; retrying`]);
  }
}

const ADDS = new Set(['create-organization', 'create-integration', 'invite']);
const REMOVES = new Set(['remove-member', 'cancel-invite', 'delete-integration', 'cache-destroy']);

/** An Organization's summary: what is declared, what the platform holds after the last sync, the last plan's counts. */
export function organizationSummary(outcome: ReconcileOutcome, org: string, membersDeclared: number, at: string): Record<string, unknown> {
  const actual = outcome.actual.get(org);
  const applied = (action: string) => outcome.applied.filter((c) => c.action === action).length;
  const pendingRead = actual ? [...actual.invites.values()].filter((i) => i.status === 'pending').length : 0;
  const changes = outcome.plan.changes;
  const add = changes.filter((c) => ADDS.has(c.action)).length;
  const remove = changes.filter((c) => REMOVES.has(c.action)).length;
  return {
    membersDeclared,
    // As read, then moved by what was applied: invites sent are pending, members removed are gone.
    // An organization created by this reconcile has its creator as member.
    members: Math.max(0, (actual?.members.size ?? applied('create-organization')) - applied('remove-member')),
    pendingInvites: Math.max(0, pendingRead + applied('invite') + applied('resend-invite') - applied('cancel-invite')),
    lastPlan: { add, change: changes.length - add - remove, remove, failed: outcome.failed.length },
    lastSyncTime: at,
  };
}

/** Changes whose target is one of these people (a Membership's part of a plan). */
export function changesOf(changes: readonly Change[], people: ReadonlySet<string>): Change[] {
  return changes.filter((c) => people.has(c.target));
}

/** Counts by action, in words for events: `invite 3, update-role 1`. */
export function describeCounts(changes: readonly Change[]): string {
  const counts = new Map<string, number>();
  for (const c of changes) counts.set(c.action, (counts.get(c.action) ?? 0) + 1);
  return [...counts].map(([a, n]) => `${a} ${n}`).join(', ');
}

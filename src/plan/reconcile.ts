import type { ActualOrg } from '../model/actual.js';
import type { DesiredOrg } from '../model/desired.js';
import { canonicalJson } from '../model/canonical-json.js';
import { DEFAULT_GUARDS, type GuardSettings, type Observed, type Plan } from '../model/plan.js';
import type { CredentialResolver } from '../platform/credentials.js';
import { lockOrganizations, type HeldLocks, type LeaseHeldError, type Locks } from '../platform/locks.js';
import type { Platform } from '../platform/types.js';
import { applyPlan, type ApplyOutcome } from './apply.js';
import { checkGuards, type GuardViolation } from './guards.js';
import { observedState } from './observed.js';
import { DEFAULT_PARALLELISM, makePlan, type PlanResult } from './planner.js';
import { mapLimit } from '../util/concurrency.js';

/** What a reconcile works with: the platform, the lock that keeps other appliers off, and where credentials come from. */
export interface ReconcileDeps {
  platform: Platform;
  locks: Locks;
  credentials: CredentialResolver;
}

/**
 * Desired state from manifests (planned now); what deleted manifests had declared, to remove (`teardown`,
 * for `deletionPolicy: Delete`); or a plan saved earlier (applied exactly, if still current).
 */
export type ReconcileInput = { desired: Map<string, DesiredOrg>; only?: string[] } | { teardown: Map<string, DesiredOrg> } | { saved: Plan };

export interface ReconcileOptions {
  guards: GuardSettings;
  lock: {
    /** Who holds the lock, as another applier is told: `ci@acme (orgctl apply, pid 42 on runner-7)`. */
    holder: string;
    timeoutMs: number;
    ttlMs: number;
    onWait?: (held: LeaseHeldError) => void;
  };
  /** Told the held locks once taken (a second Ctrl-C gives them back before exiting at once). */
  onLocked?: (held: HeldLocks) => void;
  /** Told the plan as soon as it is made, guards checked (to print it). */
  onPlan?: (result: PlanResult) => void;
  /** Asked before anything is written, when there is something to write; false declines. Absent: no asking. */
  confirm?: (plan: Plan) => Promise<boolean>;
  onProgress?: (done: number, total: number) => void;
  /** Checked between platform calls: true stops before the next one. */
  shouldStop?: () => boolean;
  /** Plan and check the guards, write nothing. */
  dryRun?: boolean;
  /** The clock expiries are judged by; default: the system's. */
  now?: () => number;
  /** Organizations read at once while planning (default DEFAULT_PARALLELISM); locks are still taken one by one, in name order. */
  parallelism?: number;
}

/**
 * How a reconcile ended. `no-changes`: the platform matched; `applied`: every change was; `incomplete`: some
 * failed or were not attempted (see the lists); `guard-tripped`: a guard refused the plan, nothing was written;
 * `declined`: the confirmation said no, nothing was written; `planned`: a dry run.
 */
export type ReconcileStatus = 'no-changes' | 'applied' | 'incomplete' | 'guard-tripped' | 'declined' | 'planned';

export interface ReconcileOutcome extends ApplyOutcome {
  status: ReconcileStatus;
  plan: Plan;
  notes: string[];
  /** What made the plan check less than it should (a credential variable not set). */
  warnings: string[];
  violations: GuardViolation[];
  /** The state read when planning (or, for a saved plan, when checking it was current). */
  actual: Map<string, ActualOrg | undefined>;
  /** Set when the lock was lost while writing (writing stopped). */
  lockLost?: string;
}

/** A saved plan cannot be applied here or now: made for another platform, or the platform moved since. */
export class SavedPlanError extends Error {}

/**
 * The one reconcile every trigger uses (`orgctl apply`, the directory controller, the in-cluster controller):
 * take the lock on the organizations, plan (or check a saved plan is current), check the guards, confirm,
 * apply, release. Returns what happened; throws only when it could not get as far as a plan (the lock is
 * held elsewhere, the platform cannot be read, a saved plan is stale). No terminal, no process state.
 */
export async function reconcile(deps: ReconcileDeps, input: ReconcileInput, opts: ReconcileOptions): Promise<ReconcileOutcome> {
  const orgs =
    'saved' in input ? [...Object.keys(input.saved.observed), ...input.saved.changes.map((c) => c.organization)] : 'teardown' in input ? [...input.teardown.keys()] : organizationsOf(input);
  const held = await lockOrganizations(deps.locks, orgs, opts.lock);
  opts.onLocked?.(held);
  try {
    const result =
      'saved' in input
        ? await checkSaved(deps.platform, input.saved, opts.guards, opts.parallelism)
        : 'teardown' in input
          ? await makePlan(deps.platform, deps.credentials, input.teardown, { guards: opts.guards, teardown: true, parallelism: opts.parallelism, now: opts.now?.() })
          : await makePlan(deps.platform, deps.credentials, input.desired, { guards: opts.guards, only: input.only, parallelism: opts.parallelism, now: opts.now?.() });
    opts.onPlan?.(result);
    const base = { plan: result.plan, notes: result.notes, warnings: result.warnings, violations: result.violations, actual: result.actual, applied: [], failed: [], skipped: [] };
    if (result.violations.length) return { ...base, status: 'guard-tripped' };
    if (result.plan.changes.length === 0) return { ...base, status: 'no-changes' };
    if (opts.dryRun) return { ...base, status: 'planned' };
    if (opts.confirm && !(await opts.confirm(result.plan))) return { ...base, status: 'declined' };
    const applied = await applyPlan(deps.platform, result.plan, {
      credentials: deps.credentials,
      onProgress: opts.onProgress,
      shouldStop: () => (opts.shouldStop?.() ?? false) || held.lost() !== undefined,
    });
    const lockLost = held.lost();
    const complete = applied.failed.length === 0 && applied.skipped.length === 0 && !lockLost;
    return { ...base, ...applied, status: complete ? 'applied' : 'incomplete', ...(lockLost ? { lockLost } : {}) };
  } finally {
    await held.release();
  }
}

function organizationsOf(input: { desired: Map<string, DesiredOrg>; only?: string[] }): string[] {
  const names = [...input.desired.keys()];
  return input.only ? names.filter((n) => input.only!.includes(n)) : names;
}

/**
 * A saved plan applies only to the platform it was made for, only while every organization it read is as it
 * was then (Terraform's "Saved plan is stale"), and only within the guards as they stand now: they are checked
 * again on its changes, against the state read now, with the settings given to this apply. A plan made with
 * override flags says so, and applies only when the same overrides are given again.
 */
async function checkSaved(platform: Platform, plan: Plan, guards: GuardSettings, parallelism?: number): Promise<PlanResult> {
  if (plan.platform !== platform.description) throw new SavedPlanError(`the saved plan is for ${plan.platform}, not ${platform.description}`);
  const missing = missingOverrides(plan.guards ?? DEFAULT_GUARDS, guards);
  if (missing.length) {
    throw new SavedPlanError(`the saved plan was made with ${missing.join(' and ')}; give the same to apply it (a reviewed override is not carried over in silence)`);
  }
  const actual = new Map<string, ActualOrg | undefined>();
  const orgs = Object.keys(plan.observed);
  const states = await mapLimit(orgs, parallelism ?? DEFAULT_PARALLELISM, (org) => platform.read(org));
  for (const [i, org] of orgs.entries()) {
    const then: Observed = plan.observed[org] ?? null;
    const state = states[i];
    actual.set(org, state);
    const now: Observed = observedState(state, platform.capabilities);
    if (now !== then) {
      const what = typeof then === 'string' || typeof now === 'string' ? 'state' : 'state version';
      throw new SavedPlanError(`saved plan is stale: organization "${org}" changed since the plan was made (${what} ${describeObserved(then)} -> ${describeObserved(now)}); run plan again`);
    }
  }
  const violations = checkGuards(plan.changes, actual, { ...guards, actor: await platform.actor() });
  return { plan, notes: [], warnings: [], uncompared: [], actual, violations };
}

/** The override flags a saved plan was made with that this apply was not given (each as its flag). */
function missingOverrides(made: GuardSettings, now: GuardSettings): string[] {
  const out: string[] = [];
  if (made.allowOwnerChanges && !now.allowOwnerChanges) out.push('--allow-owner-changes');
  if (canonicalJson(made.maxRemovals) !== canonicalJson(DEFAULT_GUARDS.maxRemovals) && canonicalJson(made.maxRemovals) !== canonicalJson(now.maxRemovals)) {
    out.push(`--max-removals=${'count' in made.maxRemovals ? made.maxRemovals.count : `${made.maxRemovals.percent}%`}`);
  }
  return out;
}

function describeObserved(o: Observed): string {
  if (o === null) return 'none';
  return typeof o === 'number' ? String(o) : `${o.slice(0, 19)}…`;
}

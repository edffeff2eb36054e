import { formatDiagnostic } from '../manifest/diagnostics.js';
import type { DesiredOrg } from '../model/desired.js';
import type { Change, GuardSettings } from '../model/plan.js';
import { CredentialsError, type CredentialResolver } from '../platform/credentials.js';
import { LockTimeoutError, type LeaseHeldError } from '../platform/locks.js';
import type { Target } from '../platform/registry.js';
import { PlatformError } from '../platform/types.js';
import { nextExpiry } from '../plan/diff.js';
import { PlanError } from '../plan/planner.js';
import { reconcile, type ReconcileOutcome } from '../plan/reconcile.js';
import type { Logger } from './log.js';
import type { ControllerMetrics } from './metrics.js';
import { DEFAULT_BACKOFF, realTimers, WorkQueue, type BackoffPolicy, type Timers } from './queue.js';
import type { DesiredSource } from './source.js';

export interface ControllerOptions {
  /** Organizations reconciled at once. */
  concurrency: number;
  /** A reconciled organization is reconciled again after this long, to put back drift made on the platform. */
  resyncMs: number;
  guards: GuardSettings;
  lock: { holder: string; ttlMs: number; timeoutMs?: number };
  /** Plan and report drift; write nothing. */
  dryRun: boolean;
  /**
   * How long an organization must stay gone from the manifests before `deletionPolicy: Delete` acts: a file
   * moved in two steps, or a checkout swapped, must not delete anyone.
   */
  deletionGraceMs: number;
  backoff?: BackoffPolicy;
  timers?: Timers;
  /** The clock expiries are judged by (`$ORGCTL_NOW` in tests); default: the system's. */
  now?: () => number;
}

/** How one reconcile of one organization ended, for logs, metrics, status and `--once`. */
export type OrgResult = 'success' | 'no_changes' | 'dry_run' | 'incomplete' | 'guard_tripped' | 'locked' | 'error' | 'deleted' | 'orphaned' | 'waiting';

export interface OrgStatus {
  result: OrgResult;
  at: string;
  message: string;
  lastSuccess?: string;
  outcome?: ReconcileOutcome;
}

/** Told each reconcile's result: the in-cluster controller writes it into the object's status. */
export type ResultObserver = (organization: string, status: OrgStatus, desired: DesiredOrg | undefined) => void | Promise<void>;

/** Counts of changes by action, for logs: `{invite: 3, "update-role": 1}`. */
function countByAction(changes: readonly Change[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of changes) out[c.action] = (out[c.action] ?? 0) + 1;
  return out;
}

function describeCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([a, n]) => `${a} ${n}`)
    .join(', ');
}

/**
 * Keeps every declared organization reconciled (controller-runtime's model): a work queue keyed by
 * organization, workers that each run the same reconcile `orgctl apply` runs, a resync that catches drift
 * made on the platform, per-key backoff on failure, and nothing acted on from manifests that do not
 * validate. A thin shell: what changes is decided by `reconcile`, as for every other trigger.
 */
export class Controller {
  private readonly queue: WorkQueue<string>;
  private readonly timers: Timers;
  /** The last desired state seen for each managed organization (its deletionPolicy acts if it goes). */
  private readonly known = new Map<string, DesiredOrg>();
  /** When an organization was first seen gone from the manifests. */
  private readonly goneSince = new Map<string, number>();
  private readonly statuses = new Map<string, OrgStatus>();
  /** Organizations of the first full sync not yet reconciled once. */
  private initial: Set<string> | undefined;
  private workers: Promise<void>[] = [];
  private stopping = false;
  private observers: ResultObserver[] = [];
  /** Notes and warnings last logged per organization: said again only when they change, not every resync. */
  private readonly said = new Map<string, string>();

  constructor(
    private readonly deps: { target: Target; credentials: CredentialResolver; source: DesiredSource; metrics: ControllerMetrics; log: Logger },
    private readonly opts: ControllerOptions,
  ) {
    this.timers = opts.timers ?? realTimers;
    this.queue = new WorkQueue(opts.backoff ?? DEFAULT_BACKOFF, this.timers);
    this.queue.onAdd = () => {
      deps.metrics.adds.inc();
      deps.metrics.depth.set(this.queue.depth);
    };
    this.queue.onRetry = () => deps.metrics.retries.inc();
  }

  observe(fn: ResultObserver): void {
    this.observers.push(fn);
  }

  /** Reads the desired state, queues every organization, and starts the workers. */
  async start(): Promise<void> {
    await this.deps.source.start((changed) => {
      for (const org of changed) this.queue.add(org);
    });
    const snapshot = this.deps.source.snapshot();
    this.initial = new Set(snapshot.orgs.keys());
    if (!snapshot.loaded) this.deps.log.warn('manifests-invalid', 'no valid manifests yet: waiting for the files to validate');
    for (let i = 0; i < this.opts.concurrency; i++) this.workers.push(this.work());
  }

  /** Ready once the first full sync is done, and while the manifests validate. */
  readiness(): { ready: boolean; reasons: string[] } {
    const snapshot = this.deps.source.snapshot();
    const reasons: string[] = [];
    if (!snapshot.loaded) reasons.push('no valid manifests have been read yet');
    else if (!this.initial) reasons.push('starting: the first sync has not begun');
    else if (this.initial.size) reasons.push(`first sync not done: ${this.initial.size} organization(s) not reconciled yet`);
    if (snapshot.problems.length) {
      reasons.push(`the manifests do not validate (the last valid ones are in use): ${snapshot.problems.length} problem(s)`);
      for (const p of snapshot.problems.slice(0, 20)) reasons.push(formatDiagnostic(p));
    }
    return { ready: reasons.length === 0, reasons };
  }

  status(): ReadonlyMap<string, OrgStatus> {
    return this.statuses;
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.deps.metrics.depth.set(this.queue.depth);
      try {
        await this.reconcileKey(key);
      } catch (err) {
        // reconcileKey handles every failure it knows; anything else is a bug, reported and retried.
        this.deps.log.error('bug', 'reconcile failed unexpectedly', { organization: key, error: (err as Error).stack ?? String(err) });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
        this.deps.metrics.depth.set(this.queue.depth);
      }
    }
  }

  /** Reconciles every organization once, at the given concurrency, without retries: `controller --once`. */
  async runOnce(): Promise<Map<string, OrgStatus>> {
    await this.deps.source.start(() => undefined);
    const orgs = [...this.deps.source.snapshot().orgs.keys()];
    let next = 0;
    const worker = async () => {
      while (next < orgs.length && !this.stopping) await this.reconcileKey(orgs[next++]!, { once: true });
    };
    await Promise.all(Array.from({ length: Math.max(1, this.opts.concurrency) }, worker));
    return new Map(this.statuses);
  }

  /** Stops taking work; reconciles in flight stop after their platform call in flight, and give their locks back. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.queue.shutDown();
    await Promise.all(this.workers);
    await this.deps.source.stop();
  }

  private record(org: string, status: Omit<OrgStatus, 'at' | 'lastSuccess'>, desired: DesiredOrg | undefined): void {
    const now = new Date(this.timers.now()).toISOString();
    const previous = this.statuses.get(org);
    const ok = status.result === 'success' || status.result === 'no_changes' || status.result === 'dry_run' || status.result === 'deleted';
    const full: OrgStatus = { ...status, at: now, lastSuccess: ok ? now : previous?.lastSuccess };
    this.statuses.set(org, full);
    this.deps.metrics.reconciles.inc({ organization: org, result: status.result });
    if (ok) this.deps.metrics.lastSuccess.set({ organization: org }, this.timers.now() / 1000);
    if (status.result === 'error' || status.result === 'incomplete' || status.result === 'locked') this.deps.metrics.errors.inc({ organization: org });
    this.initial?.delete(org);
    for (const fn of this.observers) {
      Promise.resolve(fn(org, full, desired)).catch((err: unknown) => this.deps.log.error('status', 'could not report the result', { organization: org, error: (err as Error).message }));
    }
  }

  private async reconcileKey(org: string, mode: { once?: boolean } = {}): Promise<void> {
    const snapshot = this.deps.source.snapshot();
    const desired = snapshot.orgs.get(org);
    if (desired) {
      this.known.set(org, desired);
      this.goneSince.delete(org);
      return this.run(org, desired, { desired: new Map([[org, desired]]) }, mode);
    }
    const last = snapshot.deleting?.get(org) ?? this.known.get(org);
    if (!last) return; // never managed here: nothing to do
    if (last.deletionPolicy !== 'Delete') {
      this.known.delete(org);
      this.queue.cancelDelay(org);
      this.deps.log.info('orphaned', 'its manifests are gone; deletionPolicy Orphan: left as it is on the platform, no longer managed', { organization: org });
      this.record(org, { result: 'orphaned', message: 'manifests gone; left on the platform (deletionPolicy Orphan)' }, undefined);
      return;
    }
    const since = this.goneSince.get(org) ?? this.timers.now();
    this.goneSince.set(org, since);
    const left = since + this.opts.deletionGraceMs - this.timers.now();
    if (left > 0) {
      this.deps.log.info('deleting', `its manifests are gone; deletionPolicy Delete acts in ${Math.ceil(left / 1000)} s unless they come back`, { organization: org });
      this.record(org, { result: 'waiting', message: 'manifests gone; waiting before deleting what they declared' }, undefined);
      this.queue.addAfter(org, left);
      return;
    }
    return this.run(org, undefined, { teardown: new Map([[org, last]]) }, mode);
  }

  private async run(org: string, desired: DesiredOrg | undefined, input: Parameters<typeof reconcile>[1], mode: { once?: boolean }): Promise<void> {
    const { target, credentials, metrics, log } = this.deps;
    const started = performance.now();
    const requeue = (ms: number) => {
      if (!mode.once && !this.stopping) this.queue.addAfter(org, ms);
    };
    const retry = (): number => (mode.once || this.stopping ? 0 : this.queue.addRateLimited(org));
    let outcome: ReconcileOutcome;
    try {
      outcome = await reconcile({ ...target, credentials }, input, {
        guards: this.opts.guards,
        lock: { holder: this.opts.lock.holder, ttlMs: this.opts.lock.ttlMs, timeoutMs: this.opts.lock.timeoutMs ?? 0 },
        dryRun: this.opts.dryRun,
        shouldStop: () => this.stopping,
        now: this.opts.now,
      });
    } catch (err) {
      const seconds = (performance.now() - started) / 1000;
      this.recordRequests();
      const locked = err instanceof LockTimeoutError;
      const known = locked || err instanceof PlatformError || err instanceof PlanError || err instanceof CredentialsError;
      metrics.duration.observe({ result: locked ? 'locked' : 'error' }, seconds);
      const delay = retry();
      const message = locked ? `locked by another applier: ${(err as LockTimeoutError).held.message}` : (err as Error).message;
      log[locked ? 'warn' : 'error'](locked ? 'locked' : 'reconcile-failed', `${message}${delay ? `; retrying in ${Math.round(delay / 1000)} s` : ''}`, {
        organization: org,
        durationMs: seconds * 1000,
        ...(known ? {} : { error: (err as Error).stack }),
      });
      this.record(org, { result: locked ? 'locked' : 'error', message: locked ? heldBy((err as LockTimeoutError).held) : message }, desired);
      return;
    }
    const seconds = (performance.now() - started) / 1000;
    this.recordRequests();
    const planned = countByAction(outcome.plan.changes);
    for (const [action, n] of Object.entries(planned)) metrics.driftDetected.inc({ organization: org, action }, n);
    for (const [action, n] of Object.entries(countByAction(outcome.applied))) metrics.driftCorrected.inc({ organization: org, action }, n);
    const findings = [...outcome.notes, ...outcome.warnings].join('\n');
    if (this.said.get(org) !== findings) {
      this.said.set(org, findings);
      for (const n of outcome.notes) log.info('note', n, { organization: org });
      for (const w of outcome.warnings) log.warn('warning', w, { organization: org });
    }
    const teardown = 'teardown' in input;
    switch (outcome.status) {
      case 'no-changes':
      case 'applied': {
        this.queue.forget(org);
        metrics.duration.observe({ result: 'success' }, seconds);
        if (teardown) {
          this.known.delete(org);
          this.goneSince.delete(org);
          log.info('deleted', `removed what its deleted manifests declared${outcome.applied.length ? `: ${describeCounts(countByAction(outcome.applied))}` : ' (nothing was left)'}`, {
            organization: org,
            counts: countByAction(outcome.applied),
            durationMs: seconds * 1000,
          });
          this.record(org, { result: 'deleted', message: 'what its manifests declared was removed', outcome }, desired);
          return;
        }
        const result = outcome.status === 'applied' ? 'success' : 'no_changes';
        log.info('reconciled', outcome.status === 'applied' ? `applied ${describeCounts(countByAction(outcome.applied))}` : 'in sync', {
          organization: org,
          counts: countByAction(outcome.applied),
          durationMs: seconds * 1000,
        });
        this.record(org, { result, message: outcome.status === 'applied' ? `applied ${outcome.applied.length} change(s)` : 'in sync', outcome }, desired);
        requeue(this.untilNext(desired));
        return;
      }
      case 'planned':
        this.queue.forget(org);
        metrics.duration.observe({ result: 'dry_run' }, seconds);
        log.info('drift', `drift (dry run, nothing written): ${describeCounts(planned)}`, { organization: org, counts: planned, durationMs: seconds * 1000 });
        this.record(org, { result: 'dry_run', message: `${outcome.plan.changes.length} change(s) would be made (dry run)`, outcome }, desired);
        requeue(this.opts.resyncMs);
        return;
      case 'guard-tripped':
        // Not retried in a hot loop: a manifest change or the resync brings it back.
        this.queue.forget(org);
        metrics.duration.observe({ result: 'guard_tripped' }, seconds);
        for (const v of outcome.violations) {
          metrics.guardTrips.inc({ organization: org, guard: v.guard });
          log.warn('guard-tripped', `guard ${v.guard}: ${v.message}; nothing was written`, { organization: org });
        }
        this.record(org, { result: 'guard_tripped', message: outcome.violations.map((v) => `guard ${v.guard}: ${v.message}`).join('; '), outcome }, desired);
        requeue(this.opts.resyncMs);
        return;
      case 'declined':
      case 'incomplete': {
        metrics.duration.observe({ result: 'incomplete' }, seconds);
        const delay = retry();
        const failed = outcome.failed.length;
        const skipped = outcome.skipped.length;
        log.warn(
          'incomplete',
          `applied ${outcome.applied.length}, failed ${failed}, not attempted ${skipped}${outcome.lockLost ? ` (${outcome.lockLost})` : ''}${failed ? `; first failure: ${outcome.failed[0]!.change.id}: ${outcome.failed[0]!.error}` : ''}${delay ? `; retrying in ${Math.round(delay / 1000)} s` : ''}`,
          { organization: org, counts: { applied: outcome.applied.length, failed, notAttempted: skipped }, durationMs: seconds * 1000 },
        );
        this.record(org, { result: 'incomplete', message: `${failed} failed, ${skipped} not attempted`, outcome }, desired);
        return;
      }
    }
  }

  /**
   * When to reconcile again: at the resync, or just after the next declared access ends if that is sooner,
   * so access ends on time rather than at the next resync.
   */
  private untilNext(desired: DesiredOrg | undefined): number {
    if (!desired) return this.opts.resyncMs;
    const now = (this.opts.now ?? Date.now)();
    const expiry = nextExpiry(desired, now);
    return expiry === undefined ? this.opts.resyncMs : Math.min(this.opts.resyncMs, expiry - now + 1000);
  }

  private recordRequests(): void {
    const platform = this.deps.target.platform as { requestStats?: () => Record<string, number> };
    if (platform.requestStats) this.deps.metrics.recordRequests(platform.requestStats());
  }
}

function heldBy(held: LeaseHeldError): string {
  return `locked by ${held.holder} since ${held.since}`;
}

import { normalizeEmail } from '../../model/email.js';
import type { DesiredOrg } from '../../model/desired.js';
import type { OrgStatus } from '../controller.js';
import type { Logger } from '../log.js';
import { isConflict, isNotFound, KubeApiError, type KubeClient } from './client.js';
import type { EventRecorder, InvolvedObject } from './events.js';
import { API_VERSION, describeKey, FINALIZER, hasFinalizer, isDeleting, objectPath, type KubeObject, type ObjectKey } from './objects.js';
import type { SecretCredentials } from './secrets.js';
import type { GroupState, KubernetesSource } from './source.js';
import { changesOf, conditions, describeCounts, MAX_FAILURES, mergeConditions, organizationSummary, resultConditions, sameStatus, type ConditionInput } from './status.js';
import type { GroupObject } from './validate.js';

export interface ReporterDeps {
  client: KubeClient;
  source: KubernetesSource;
  credentials: SecretCredentials;
  events: EventRecorder;
  log: Logger;
  /** False while this process may not write (a standby, or a leader that lost its Lease). */
  canWrite: () => boolean;
  now?: () => number;
  /** Organizations whose objects are written at once. */
  concurrency?: number;
}

interface Result {
  status: OrgStatus;
  desired: DesiredOrg | undefined;
}

const OK = new Set(['success', 'no_changes']);

/**
 * Writes what the controller knows onto the objects: the finalizer on every managed object (released when
 * its deletion has been acted on), status through the status subresource (JSON merge patch, never spec:
 * observedGeneration, Ready and Synced, the Organization's summary, each Membership's and Integration's
 * part), and Events for what was applied and what failed. Only what differs from the object is written, so a
 * resync that changes nothing writes little. Nothing is written while `canWrite` is false.
 */
export class KubernetesReporter {
  private readonly results = new Map<string, Result>();
  private readonly pending = new Set<string>();
  private readonly running = new Set<string>();
  private readonly again = new Set<string>();
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  /** The resourceVersion each object had when it was last written, and what was written: the cache may lag. */
  private readonly written = new Map<ObjectKey, { from: string; what: string }>();
  private readonly people = new Map<ObjectKey, { version: string; set: Set<string> }>();
  private readonly now: () => number;

  constructor(private readonly deps: ReporterDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The controller's ResultObserver: one reconcile's result. */
  readonly onResult = (org: string, status: OrgStatus, desired: DesiredOrg | undefined): void => {
    this.results.set(org, { status, desired });
    if (status.result === 'deleted' || status.result === 'orphaned') this.deps.source.forgetDeleted(org);
    this.resultEvents(org, status);
    this.schedule([org]);
  };

  /** The source's objects changed for these organizations. */
  readonly onGroups = (orgs: ReadonlySet<string>): void => this.schedule(orgs);

  /** Looks at every object again (writes what differs): after taking the lead, and now and then. */
  sweep(): void {
    this.schedule([...this.deps.source.allGroups()].map((g) => g.org));
  }

  /** Resolves when nothing is being written. */
  idle(): Promise<void> {
    if (!this.active && !this.pending.size) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(orgs: Iterable<string>): void {
    if (!this.deps.canWrite()) return;
    for (const org of orgs) {
      if (this.running.has(org)) this.again.add(org);
      else this.pending.add(org);
    }
    this.pump();
  }

  private pump(): void {
    while (this.active < (this.deps.concurrency ?? 4) && this.pending.size) {
      const org = this.pending.values().next().value!;
      this.pending.delete(org);
      this.running.add(org);
      this.active++;
      void this.syncGroup(org)
        .catch((err: unknown) => this.deps.log.warn('status', `could not write status: ${(err as Error).message}`, { organization: org }))
        .finally(() => {
          this.active--;
          this.running.delete(org);
          if (this.again.delete(org)) this.pending.add(org);
          this.pump();
          if (!this.active && !this.pending.size) for (const w of this.idleWaiters.splice(0)) w();
        });
    }
  }

  private async syncGroup(org: string): Promise<void> {
    const group = this.deps.source.group(org);
    if (!group) return;
    for (const g of group.objects) {
      if (!this.deps.canWrite()) return;
      // The latest copy: an earlier write in this pass may have been seen already.
      const current = this.deps.source.object(g.key) ?? g;
      try {
        await this.syncObject(group, current);
      } catch (err) {
        if (isNotFound(err) || isConflict(err)) continue; // gone, or changed: the informer brings the new version
        throw err;
      }
    }
  }

  private async syncObject(group: GroupState, g: GroupObject): Promise<void> {
    const { obj } = g;
    const version = obj.metadata.resourceVersion ?? '';
    const last = this.written.get(g.key);
    if (!isDeleting(obj) && !hasFinalizer(obj)) {
      if (last?.from === version && last.what === 'finalizer') return; // added; the cache has not caught up
      await this.deps.client.mergePatch(objectPath(g.kind, obj.metadata.namespace ?? '', obj.metadata.name), { metadata: { finalizers: [...(obj.metadata.finalizers ?? []), FINALIZER], resourceVersion: version } });
      this.written.set(g.key, { from: version, what: 'finalizer' });
      return; // the status follows on the next version
    }
    if (isDeleting(obj) && hasFinalizer(obj) && this.releasable(group, g)) {
      if (last?.from === version && last.what === 'release') return;
      await this.deps.client.mergePatch(objectPath(g.kind, obj.metadata.namespace ?? '', obj.metadata.name), { metadata: { finalizers: (obj.metadata.finalizers ?? []).filter((f) => f !== FINALIZER), resourceVersion: version } });
      this.written.set(g.key, { from: version, what: 'release' });
      this.deps.log.info('finalizer', `${describeKey(g.key)}: deletion acted on; finalizer released`, { organization: group.org });
      return;
    }
    const status = this.statusOf(group, g);
    if (!status || sameStatus(status, obj.status)) return;
    const what = JSON.stringify(status);
    if (last?.from === version && last.what === what) return;
    const verdict = group.verdicts.get(g.key);
    try {
      await this.deps.client.mergePatch(objectPath(g.kind, obj.metadata.namespace ?? '', obj.metadata.name, 'status'), { status });
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 422) {
        this.deps.log.error('status', `${describeKey(g.key)}: the API server refused the status: ${err.message}`, { organization: group.org });
        return;
      }
      throw err;
    }
    this.written.set(g.key, { from: version, what });
    const wasInvalid = (obj.status?.conditions as { reason?: string }[] | undefined)?.some((c) => c.reason === verdict?.reason);
    if (verdict && !wasInvalid) this.deps.events.event(involved(g), 'Warning', verdict.reason, verdict.problems.join('; '));
  }

  /** May the finalizer go: has the deletion been acted on (or is there nothing to act on)? */
  private releasable(group: GroupState, g: GroupObject): boolean {
    const org = group.org;
    if (g.kind === 'Organization') {
      // A second Organization of the same name (a duplicate, never acted on) holds nothing.
      if (group.organization && group.organization.key !== g.key && !isDeleting(group.organization.obj)) return true;
      const r = this.results.get(org);
      if (!r || (r.status.result !== 'deleted' && r.status.result !== 'orphaned')) return false;
      return Date.parse(r.status.at) >= Date.parse(g.obj.metadata.deletionTimestamp ?? '') - 1000;
    }
    const owner = group.organization;
    if (!owner) return true; // no Organization: nothing was ever done for it
    if (isDeleting(owner.obj)) return false; // the Organization's deletion decides, and needs what this declared
    const spec = owner.obj.spec as { members?: { policy?: string }; integrations?: { policy?: string }; deletionPolicy?: string } | undefined;
    const policy = g.kind === 'Membership' ? spec?.members?.policy : spec?.integrations?.policy;
    // Additive, Orphan: deleting a declaration removes nothing, so there is nothing to wait for.
    if (policy !== 'authoritative' && spec?.deletionPolicy !== 'Delete') return true;
    const r = this.results.get(org);
    if (!r?.desired || !OK.has(r.status.result)) return false;
    // Released once a reconcile without it has succeeded: authoritative, its people are removed by then (within
    // the guards); with deletionPolicy Delete it is held that long, so an Organization deleted with it (kubectl
    // delete -f on the folder) still knows what it declared.
    return this.deps.source.desiredInfo(r.desired)?.excluded.has(g.key) ?? false;
  }

  /** The status an object should have now, or undefined when there is nothing (new) to say. */
  private statusOf(group: GroupState, g: GroupObject): Record<string, unknown> | undefined {
    const { obj } = g;
    const generation = obj.metadata.generation ?? 0;
    const at = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const base: Record<string, unknown> = { ...(obj.status ?? {}) };
    const set = (conds: ConditionInput[]) => {
      base.observedGeneration = generation;
      base.conditions = mergeConditions(obj.status?.conditions, conds, at);
      return base;
    };
    const verdict = group.verdicts.get(g.key);
    if (verdict) return set(conditions(generation, [false, verdict.reason, verdict.problems.join('; ')]));
    const result = this.results.get(group.org);
    if (isDeleting(obj)) {
      if (g.kind !== 'Organization' || !result || result.desired || ['deleted', 'orphaned'].includes(result.status.result)) return undefined;
      if (Date.parse(result.status.at) < Date.parse(obj.metadata.deletionTimestamp ?? '') - 1000) return undefined;
      return set(resultConditions(generation, result.status));
    }
    if (group.blocked) {
      const [key, v] = [...group.verdicts].find(([k]) => !isDeleting(this.deps.source.object(k)?.obj ?? obj)) ?? [];
      if (key && v) {
        const text = `not acted on while ${describeKey(key)} does not validate (${v.problems[0] ?? v.reason}); organization "${group.org}" stays at its last valid declaration`;
        return set(conditions(generation, [false, 'Blocked', text]));
      }
    }
    if (g.kind !== 'Organization' && group.organization && isDeleting(group.organization.obj)) {
      return set(conditions(generation, [false, 'Deleting', `Organization ${group.org} is being deleted`]));
    }
    if (!result?.desired || !this.covers(group.org, result.desired, g.key, generation)) return undefined;
    const outcome = result.status.outcome;
    let conds = resultConditions(generation, result.status);
    if (g.kind === 'Organization') {
      if (outcome && OK.has(result.status.result)) {
        base.summary = organizationSummary(outcome, group.org, result.desired.members.size, at);
        const version = outcome.actual.get(group.org)?.stateVersion;
        if (version !== undefined) base.stateVersion = String(version);
      }
    } else if (g.kind === 'Membership') {
      const people = this.peopleOf(g);
      if (outcome) {
        const mine = changesOf(outcome.plan.changes, people);
        const done = new Set(outcome.applied.map((c) => c.id));
        const failed = outcome.failed.filter((f) => people.has(f.change.target));
        const actual = outcome.actual.get(group.org);
        // Everyone declared is a member or has an open invite once applied: invites read open, or sent now.
        const invited = new Set(outcome.applied.filter((c) => c.action === 'invite' || c.action === 'resend-invite' || c.action === 'reinvite').map((c) => c.target));
        const failedPeople = new Set(failed.map((f) => f.change.target));
        let pending = 0;
        for (const p of people) if (!failedPeople.has(p) && !actual?.members.has(p) && (invited.has(p) || actual?.invites.get(p)?.status === 'pending')) pending++;
        base.applied = mine.every((c) => done.has(c.id));
        base.people = { declared: people.size, members: Math.max(0, people.size - pending - failedPeople.size), pendingInvites: pending };
        base.failures = failed.slice(0, MAX_FAILURES).map((f) => ({ email: f.change.target.slice(0, 320), action: f.change.action, message: f.error.slice(0, 1024) }));
        base.failureCount = failed.length;
      }
    } else {
      const spec = obj.spec as { name?: string; credentialsRef?: { secretName?: string } } | undefined;
      const name = spec?.name ?? '';
      const ref = spec?.credentialsRef?.secretName ? `${obj.metadata.namespace ?? ''}/${spec.credentialsRef.secretName}` : undefined;
      const failure = ref ? this.deps.credentials.failures.get(ref) : undefined;
      if (outcome) {
        const mine = outcome.plan.changes.filter((c) => c.target === name && c.action.endsWith('-integration'));
        const done = new Set(outcome.applied.map((c) => c.id));
        base.applied = !failure && mine.every((c) => done.has(c.id));
        const fingerprint = outcome.actual.get(group.org)?.integrations.get(name)?.credentialsFingerprint;
        if (!mine.length && fingerprint) base.credentialsFingerprint = fingerprint;
      }
      if (ref && this.deps.credentials.versions.has(ref)) base.credentialsSecret = { name: spec!.credentialsRef!.secretName, resourceVersion: this.deps.credentials.versions.get(ref) };
      if (failure) {
        base.applied = false;
        conds = conditions(generation, [false, failure.reason, failure.message]);
      }
    }
    return set(conds);
  }

  /** The result was reached from this object at this generation (or from a declaration equal to it). */
  private covers(org: string, desired: DesiredOrg, key: ObjectKey, generation: number): boolean {
    const info = this.deps.source.desiredInfo(desired);
    if (!info) return false;
    if (info.generations.get(key) === generation) return true;
    const current = this.deps.source.snapshot().orgs.get(org);
    const now = current && this.deps.source.desiredInfo(current);
    return !!now && now.digest === info.digest && now.generations.get(key) === generation;
  }

  private peopleOf(g: GroupObject): Set<string> {
    const version = g.obj.metadata.resourceVersion ?? '';
    const cached = this.people.get(g.key);
    if (cached && cached.version === version) return cached.set;
    const set = new Set<string>();
    const members = (g.obj.spec as { members?: { email?: unknown }[] } | undefined)?.members;
    for (const m of Array.isArray(members) ? members : []) if (typeof m?.email === 'string') set.add(normalizeEmail(m.email));
    this.people.set(g.key, { version, set });
    return set;
  }

  /** Events for a reconcile's result, on the Organization and on the Memberships and Integrations concerned. */
  private resultEvents(org: string, s: OrgStatus): void {
    const group = this.deps.source.group(org);
    const owner = group?.organization;
    if (!group || !owner) return;
    const outcome = s.outcome;
    const on = (g: GroupObject, type: 'Normal' | 'Warning', reason: string, message: string) => this.deps.events.event(involved(g), type, reason, message);
    switch (s.result) {
      case 'success':
      case 'incomplete': {
        if (!outcome) return;
        if (outcome.applied.length) on(owner, 'Normal', 'Applied', `applied ${describeCounts(outcome.applied)} on the platform`);
        if (s.result === 'incomplete') on(owner, 'Warning', 'ApplyFailed', `${s.message}${outcome.failed[0] ? `; first failure: ${outcome.failed[0].change.action} ${outcome.failed[0].change.target}: ${outcome.failed[0].error}` : ''}`);
        for (const g of group.objects) {
          if (g.kind === 'Membership') {
            const people = this.peopleOf(g);
            const applied = changesOf(outcome.applied, people);
            if (applied.length) on(g, 'Normal', 'Applied', `applied ${describeCounts(applied)}`);
            const failed = outcome.failed.filter((f) => people.has(f.change.target));
            if (failed.length) on(g, 'Warning', 'ApplyFailed', `${failed.length} change(s) failed; first: ${failed[0]!.change.action} ${failed[0]!.change.target}: ${failed[0]!.error}`);
          } else if (g.kind === 'Integration') {
            const name = (g.obj.spec as { name?: string } | undefined)?.name;
            const applied = outcome.applied.filter((c) => c.target === name && c.action.endsWith('-integration'));
            if (applied.length) on(g, 'Normal', 'Applied', `applied ${applied.map((c) => c.action).join(', ')}`);
          }
        }
        return;
      }
      case 'guard_tripped':
        on(owner, 'Warning', 'GuardTripped', resultConditions(0, s)[0]!.message);
        return;
      case 'error':
        on(owner, 'Warning', 'ReconcileError', s.message);
        for (const g of group.objects) {
          const ref = g.kind === 'Integration' ? (g.obj.spec as { credentialsRef?: { secretName?: string } } | undefined)?.credentialsRef?.secretName : undefined;
          const failure = ref ? this.deps.credentials.failures.get(`${g.obj.metadata.namespace ?? ''}/${ref}`) : undefined;
          if (failure) on(g, 'Warning', failure.reason, failure.message);
        }
        return;
      case 'deleted':
        on(owner, 'Normal', 'Deleted', outcome?.applied.length ? `deletionPolicy Delete: removed ${describeCounts(outcome.applied)} from the platform` : 'deletionPolicy Delete: nothing it declared was left on the platform');
        return;
      case 'orphaned':
        on(owner, 'Normal', 'Orphaned', 'deletionPolicy Orphan: left on the platform as it is, no longer managed');
        return;
      default:
        return;
    }
  }
}

function involved(g: GroupObject): InvolvedObject {
  const m = (g.obj as KubeObject).metadata;
  return { apiVersion: API_VERSION, kind: g.kind, namespace: m.namespace ?? 'default', name: m.name, uid: m.uid, resourceVersion: m.resourceVersion };
}

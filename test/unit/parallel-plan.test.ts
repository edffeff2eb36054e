import { describe, expect, it } from 'vitest';
import type { ActualOrg } from '../../src/model/actual.js';
import type { DesiredMember, DesiredOrg } from '../../src/model/desired.js';
import { makePlan } from '../../src/plan/planner.js';
import { reconcile } from '../../src/plan/reconcile.js';
import { PlatformError } from '../../src/platform/types.js';
import { mapLimit } from '../../src/util/concurrency.js';
import { FakeLocks, FakePlatform } from '../helpers/fake-platform.js';

const ME = 'ops@x.example';
const GUARDS = { maxRemovals: { percent: 25 }, allowOwnerChanges: false };
const noCredentials = { resolve: async () => ({}) };

/** Organizations `org-00`... each declaring the actor and one person to invite, in the order given. */
function desired(names: string[]): Map<string, DesiredOrg> {
  return new Map(
    names.map((name): [string, DesiredOrg] => [
      name,
      {
        name,
        membersPolicy: 'additive',
        ignore: [],
        integrationsPolicy: 'additive',
        integrations: new Map(),
        members: new Map(
          [
            [ME, 'owner'],
            [`new@${name}.example`, 'member'],
          ].map(([email, role]): [string, DesiredMember] => [email!, { email: email!, role: role as DesiredMember['role'], projects: [] }]),
        ),
      },
    ]),
  );
}

/**
 * A platform whose reads wait until the test lets them finish, in whatever order it chooses: the test sees how
 * many are in flight at once, with no timing involved.
 */
class GatedPlatform extends FakePlatform {
  inFlight = 0;
  maxInFlight = 0;
  readonly waiting = new Map<string, () => void>();
  readonly started: string[] = [];
  failing = new Set<string>();
  /** Called whenever a read starts waiting. */
  onWaiting: () => void = () => undefined;

  override async read(org: string): Promise<ActualOrg | undefined> {
    this.started.push(org);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise<void>((resolve) => {
      this.waiting.set(org, resolve);
      this.onWaiting();
    });
    this.inFlight--;
    if (this.failing.has(org)) throw new PlatformError(`cannot read ${org}`);
    return super.read(org);
  }

  /** Lets every waiting read finish, newest first, and from now on every read that starts. */
  drainNewestFirst(): void {
    this.onWaiting = () => queueMicrotask(() => this.releaseAll());
    this.releaseAll();
  }

  private releaseAll(): void {
    for (const org of [...this.waiting.keys()].reverse()) {
      const resolve = this.waiting.get(org)!;
      this.waiting.delete(org);
      resolve();
    }
  }
}

const names = Array.from({ length: 25 }, (_, i) => `org-${String(i).padStart(2, '0')}`);

describe('organizations read in parallel', () => {
  it('reads up to --parallelism organizations at a time; the plan keeps the manifests\' order', async () => {
    const platform = new GatedPlatform();
    for (const n of names) platform.seed({ name: n });
    let release: () => void = () => undefined;
    platform.onWaiting = () => {
      // Once ten reads wait at once, let them finish, newest first.
      if (platform.waiting.size === 10) release();
    };
    release = () => platform.drainNewestFirst();
    const result = await makePlan(platform, noCredentials, desired(names), { guards: GUARDS, parallelism: 10 });
    expect(platform.maxInFlight).toBe(10);
    expect(result.plan.changes.map((c) => c.organization)).toEqual(names);
    expect(Object.keys(result.plan.observed)).toEqual(names);
    expect([...result.actual.keys()]).toEqual(names);
  });

  it('one at a time with parallelism 1', async () => {
    const platform = new GatedPlatform();
    for (const n of names.slice(0, 5)) platform.seed({ name: n });
    platform.drainNewestFirst();
    const result = await makePlan(platform, noCredentials, desired(names.slice(0, 5)), { guards: GUARDS, parallelism: 1 });
    expect(platform.maxInFlight).toBe(1);
    expect(platform.started).toEqual(names.slice(0, 5));
    expect(result.plan.changes.map((c) => c.organization)).toEqual(names.slice(0, 5));
  });

  it('a failed read fails the plan with the first organization\'s error, as reading one by one would', async () => {
    const platform = new GatedPlatform();
    for (const n of names) platform.seed({ name: n });
    platform.failing = new Set(['org-03', 'org-07']);
    platform.drainNewestFirst(); // org-07 fails before org-03 does
    await expect(makePlan(platform, noCredentials, desired(names), { guards: GUARDS, parallelism: 10 })).rejects.toThrow('cannot read org-03');
    // Nothing was started after the failure.
    expect(platform.started.length).toBeLessThan(names.length);
  });

  it('reconcile takes every lock first, in name order, then reads in parallel', async () => {
    const platform = new GatedPlatform();
    const some = ['zeta', 'alpha', 'mid'];
    for (const n of some) platform.seed({ name: n });
    const locks = new FakeLocks();
    const order: string[] = [];
    const acquire = locks.acquire.bind(locks);
    locks.acquire = async (org, lease) => {
      order.push(`lock ${org}`);
      return acquire(org, lease);
    };
    platform.onWaiting = () => {
      order.push(`read ${[...platform.waiting.keys()].pop()}`);
      if (platform.waiting.size === 3) platform.drainNewestFirst();
    };
    const outcome = await reconcile({ platform, locks, credentials: noCredentials }, { desired: desired(some) }, {
      guards: GUARDS,
      lock: { holder: 'test', timeoutMs: 0, ttlMs: 30_000 },
      parallelism: 3,
      dryRun: true,
    });
    expect(order).toEqual(['lock alpha', 'lock mid', 'lock zeta', 'read zeta', 'read alpha', 'read mid']);
    expect(platform.maxInFlight).toBe(3);
    expect(outcome.plan.changes.map((c) => c.organization)).toEqual(some);
  });
});

describe('mapLimit', () => {
  it('keeps results in order and never runs more than the limit', async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      for (let i = 0; i < n; i++) await Promise.resolve();
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
    expect(await mapLimit([], 3, async () => 1)).toEqual([]);
  });
});

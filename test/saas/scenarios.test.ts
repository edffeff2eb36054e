import { afterEach, describe, expect, it } from 'vitest';
import type { DesiredIntegration, DesiredMember, DesiredOrg } from '../../src/model/desired.js';
import type { Role } from '../../src/model/roles.js';
import type { Platform } from '../../src/platform/types.js';
import { makePlan } from '../../src/plan/planner.js';
import { reconcile, type ReconcileOptions } from '../../src/plan/reconcile.js';
import { credentials, ME, ORG, S3_ENV, S3_VALUES, SUBJECTS, type Opened, type Subject } from './subjects.js';

/**
 * One reconcile scenario suite, run through the `Platform` interface against every platform: the built-in
 * one (embedded), and the Dataloop and Ango Hub adapters against their wire-faithful fakes. The scenarios are
 * the same; only what a platform declares it cannot do changes what is expected (Dataloop cannot see pending
 * invites, so people look uninvited until they accept; Ango has no owner role).
 */

const GUARDS = { maxRemovals: { percent: 25 }, allowOwnerChanges: false };
const resolver = credentials(S3_VALUES);

function options(extra: Partial<ReconcileOptions> = {}): ReconcileOptions {
  return { guards: GUARDS, lock: { holder: 'scenario test', timeoutMs: 0, ttlMs: 30_000 }, ...extra };
}

function desired(subject: Subject, opened: Opened, people: [string, Role][], extra: Partial<DesiredOrg> = {}): Map<string, DesiredOrg> {
  const org: DesiredOrg = {
    name: ORG,
    ...(opened.externalId ? { externalId: opened.externalId } : {}),
    membersPolicy: 'additive',
    ignore: [],
    integrationsPolicy: 'additive',
    integrations: new Map(),
    ...extra,
    members: new Map([[ME, subject.top] as [string, Role], ...people].map(([email, role]): [string, DesiredMember] => [email, { email, role, projects: [] }])),
  };
  return new Map([[ORG, org]]);
}

const s3 = (subject: Subject, name: string): [string, DesiredIntegration] => [name, { name, type: 's3', options: subject.s3Options, credentialsRef: { env: S3_ENV } }];

/** Counts the write calls made through the Platform interface. */
function counting(platform: Platform): { platform: Platform; writes: () => number } {
  let writes = 0;
  const reads = new Set(['description', 'capabilities', 'batchSize', 'actor', 'actsForOthers', 'read', 'compareCredentials', 'close']);
  const proxy = new Proxy(platform, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || reads.has(String(prop))) return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) => {
        writes++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { platform: proxy, writes: () => writes };
}

const plan = async (o: Opened, want: Map<string, DesiredOrg>, guards = GUARDS) => makePlan(o.platform, resolver, want, { guards });
const actions = (r: { plan: { changes: { action: string; target: string }[] } }) => r.plan.changes.map((c) => `${c.action} ${c.target}`).sort();

describe.each(SUBJECTS)('reconcile scenarios on $name', (subject) => {
  let opened: Opened | undefined;
  const open = async () => (opened = await subject.open());
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });
  const seesInvites = subject.caps.invites.list;

  it('converges from an empty organization, and a second plan is empty', async () => {
    const o = await open();
    const want = desired(subject, o, [
      ['ann@acme.example', subject.high],
      ['bob@acme.example', subject.low],
      ['cyd@acme.example', subject.low],
    ], { integrations: new Map([s3(subject, 'raw')]) });
    const first = await reconcile({ ...o, credentials: resolver }, { desired: want }, options());
    expect(first.status).toBe('applied');
    expect(first.applied.map((c) => `${c.action} ${c.target}`).sort()).toEqual(['create-integration raw', 'invite ann@acme.example', 'invite bob@acme.example', 'invite cyd@acme.example']);

    const second = await plan(o, want);
    if (seesInvites) {
      expect(second.plan.changes).toEqual([]);
    } else {
      // Pending invites cannot be seen: the plan invites again, and says why.
      expect(actions(second)).toEqual(['invite ann@acme.example', 'invite bob@acme.example', 'invite cyd@acme.example']);
      expect(second.notes.join('\n')).toMatch(/cannot list pending invites.*invited again on every apply until they accept \(3 in this plan\)/);
    }
    o.acceptAll();
    expect((await plan(o, want)).plan.changes).toEqual([]);
    expect(Object.fromEntries(o.members())).toEqual({ [ME]: subject.top, 'ann@acme.example': subject.high, 'bob@acme.example': subject.low, 'cyd@acme.example': subject.low });
  });

  it('changes roles both ways, then plans nothing', async () => {
    const o = await open();
    o.addMember('ann@acme.example', subject.low);
    o.addMember('bob@acme.example', subject.high);
    const want = desired(subject, o, [
      ['ann@acme.example', subject.high],
      ['bob@acme.example', subject.low],
    ]);
    const result = await reconcile({ ...o, credentials: resolver }, { desired: want }, options());
    expect(result.status).toBe('applied');
    expect(actions(result)).toEqual(['update-role ann@acme.example', 'update-role bob@acme.example']);
    expect(o.members().get('ann@acme.example')).toBe(subject.high);
    expect(o.members().get('bob@acme.example')).toBe(subject.low);
    expect((await plan(o, want)).plan.changes).toEqual([]);
  });

  it('leaves undeclared members alone when additive, removes them when authoritative', async () => {
    const o = await open();
    for (const e of ['x1', 'x2', 'x3', 'x4']) o.addMember(`${e}@acme.example`, subject.low);
    const keep = [['x1@acme.example', subject.low], ['x2@acme.example', subject.low], ['x3@acme.example', subject.low]] as [string, Role][];
    expect((await plan(o, desired(subject, o, []))).plan.changes).toEqual([]);

    const want = desired(subject, o, keep, { membersPolicy: 'authoritative' });
    const result = await reconcile({ ...o, credentials: resolver }, { desired: want }, options());
    expect(result.status).toBe('applied');
    expect(actions(result)).toEqual(['remove-member x4@acme.example']);
    expect(o.members().has('x4@acme.example')).toBe(false);
    expect((await plan(o, want)).plan.changes).toEqual([]);
  });

  it('creates and deletes integrations (authoritative integrations), then plans nothing', async () => {
    const o = await open();
    const first = desired(subject, o, [], { integrations: new Map([s3(subject, 'raw')]) });
    expect((await reconcile({ ...o, credentials: resolver }, { desired: first }, options())).status).toBe('applied');
    expect((await plan(o, first)).plan.changes).toEqual([]);

    const second = desired(subject, o, [], { integrationsPolicy: 'authoritative', integrations: new Map([s3(subject, 'raw-v2')]) });
    const result = await reconcile({ ...o, credentials: resolver }, { desired: second }, options());
    expect(result.status).toBe('applied');
    expect(actions(result)).toEqual(['create-integration raw-v2', 'delete-integration raw']);
    const after = await plan(o, second);
    expect(after.plan.changes).toEqual([]);
    expect([...(await o.platform.read(ORG, o.externalId ? { externalId: o.externalId } : undefined))!.integrations.keys()]).toEqual(['raw-v2']);
  });

  it('a tripped guard writes nothing', async () => {
    const o = await open();
    for (const e of ['x1', 'x2', 'x3', 'x4']) o.addMember(`${e}@acme.example`, subject.low);
    const before = o.wireWrites();
    const counted = counting(o.platform);
    const result = await reconcile({ platform: counted.platform, locks: o.locks, credentials: resolver }, { desired: desired(subject, o, [], { membersPolicy: 'authoritative' }) }, options());
    expect(result.status).toBe('guard-tripped');
    expect(result.violations.map((v) => v.guard)).toEqual(['max-removals']);
    expect(counted.writes()).toBe(0);
    expect(o.wireWrites()).toBe(before);
    expect(o.members().size).toBe(5);
  });

  it('refuses a role the platform does not have before reading anything', async () => {
    const o = await open();
    const missing = (['owner', 'admin', 'member', 'worker'] as Role[]).find((r) => !subject.caps.roles.includes(r));
    if (!missing) return; // every role exists here
    await expect(plan(o, desired(subject, o, [['w@acme.example', missing]]))).rejects.toThrow(new RegExp(`spec.members\\[\\]\\.role: role "${missing}" \\(1 person\\) does not exist; roles there: ${subject.caps.roles.join(', ')} on`));
  });
});

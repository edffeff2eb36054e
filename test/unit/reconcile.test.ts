import { describe, expect, it } from 'vitest';
import type { DesiredMember, DesiredOrg } from '../../src/model/desired.js';
import type { Role } from '../../src/model/roles.js';
import { BUILTIN_CAPABILITIES } from '../../src/platform/builtin/capabilities.js';
import type { CredentialResolver } from '../../src/platform/credentials.js';
import { LockTimeoutError } from '../../src/platform/locks.js';
import { makePlan } from '../../src/plan/planner.js';
import { reconcile, SavedPlanError, type ReconcileOptions } from '../../src/plan/reconcile.js';
import { FakeLocks, FakePlatform } from '../helpers/fake-platform.js';

const ME = 'ops@x.example';

function desired(members: [string, Role][], extra: Partial<DesiredOrg> = {}): Map<string, DesiredOrg> {
  const org: DesiredOrg = {
    name: 'acme',
    membersPolicy: 'additive',
    ignore: [],
    integrationsPolicy: 'additive',
    integrations: new Map(),
    ...extra,
    members: new Map([[ME, 'owner'] as [string, Role], ...members].map(([email, role]): [string, DesiredMember] => [email, { email, role, projects: [] }])),
  };
  return new Map([[org.name, org]]);
}

/** Credentials by variable name, as a CI job's environment would hold them. */
const credentials = (values: Record<string, string>): CredentialResolver => ({
  async resolve(ref) {
    return Object.fromEntries(Object.entries(ref.env ?? {}).map(([field, variable]) => [field, values[variable]!]));
  },
});

const options = (extra: Partial<ReconcileOptions> = {}): ReconcileOptions => ({
  guards: { maxRemovals: { percent: 25 }, allowOwnerChanges: false },
  lock: { holder: 'unit test', timeoutMs: 0, ttlMs: 30_000 },
  ...extra,
});

describe('reconcile: the one entry point every trigger uses', () => {
  it('locks, plans, applies and releases; the outcome counts what was applied', async () => {
    const platform = new FakePlatform();
    platform.seed({ name: 'acme' });
    const locks = new FakeLocks();
    const seen: string[] = [];
    const outcome = await reconcile({ platform, locks, credentials: credentials({}) }, { desired: desired([['a@x.example', 'member'], ['b@x.example', 'admin']]) }, options({ onPlan: (r) => seen.push(`planned ${r.plan.changes.length}`) }));
    expect(outcome.status).toBe('applied');
    expect(outcome.applied.map((c) => c.id)).toEqual(['invite:acme:a@x.example', 'invite:acme:b@x.example']);
    expect(outcome.failed).toEqual([]);
    expect(seen).toEqual(['planned 2']);
    expect(platform.writes).toEqual(['invite acme a@x.example,b@x.example']);
    expect(locks.log).toEqual(['acquire acme', 'release acme']);
    expect(locks.held.size).toBe(0);
  });

  it('reports no-changes when the platform matches, writing nothing', async () => {
    const platform = new FakePlatform();
    platform.seed({ name: 'acme' });
    const outcome = await reconcile({ platform, locks: new FakeLocks(), credentials: credentials({}) }, { desired: desired([]) }, options());
    expect(outcome.status).toBe('no-changes');
    expect(platform.writes).toEqual([]);
  });

  it('a partial failure is incomplete, with each change applied or failed, and the lock released', async () => {
    const platform = new FakePlatform();
    platform.seed({ name: 'acme' });
    platform.failEmails.add('b@x.example');
    const locks = new FakeLocks();
    const outcome = await reconcile({ platform, locks, credentials: credentials({}) }, { desired: desired([['a@x.example', 'member'], ['b@x.example', 'member']]) }, options());
    expect(outcome.status).toBe('incomplete');
    expect(outcome.applied.map((c) => c.target)).toEqual(['a@x.example']);
    expect(outcome.failed.map((f) => `${f.change.target}: ${f.error}`)).toEqual(['b@x.example: refused by the fake (test)']);
    expect(locks.held.size).toBe(0);
  });

  it('a tripped guard writes nothing and names the guard', async () => {
    const platform = new FakePlatform();
    const org = platform.seed({ name: 'acme' });
    for (const e of ['m1', 'm2', 'm3']) org.members.set(`${e}@x.example`, { email: `${e}@x.example`, role: 'member', creator: false, firstName: '', lastName: '', description: '' });
    const locks = new FakeLocks();
    let asked = false;
    const outcome = await reconcile(
      { platform, locks, credentials: credentials({}) },
      { desired: desired([], { membersPolicy: 'authoritative' }) },
      options({ confirm: async () => (asked = true) }),
    );
    expect(outcome.status).toBe('guard-tripped');
    expect(outcome.violations.map((v) => v.guard)).toEqual(['max-removals']);
    expect(asked).toBe(false);
    expect(platform.writes).toEqual([]);
    expect(locks.held.size).toBe(0);
  });

  it('a declined confirmation writes nothing', async () => {
    const platform = new FakePlatform();
    platform.seed({ name: 'acme' });
    let question = '';
    const outcome = await reconcile(
      { platform, locks: new FakeLocks(), credentials: credentials({}) },
      { desired: desired([['a@x.example', 'member']]) },
      options({
        confirm: async (plan) => {
          question = `${plan.changes.length} change(s)`;
          return false;
        },
      }),
    );
    expect(question).toBe('1 change(s)');
    expect(outcome.status).toBe('declined');
    expect(platform.writes).toEqual([]);
  });

  it('a dry run plans and writes nothing', async () => {
    const platform = new FakePlatform();
    platform.seed({ name: 'acme' });
    const outcome = await reconcile({ platform, locks: new FakeLocks(), credentials: credentials({}) }, { desired: desired([['a@x.example', 'member']]) }, options({ dryRun: true }));
    expect(outcome.status).toBe('planned');
    expect(outcome.plan.changes.map((c) => c.id)).toEqual(['invite:acme:a@x.example']);
    expect(platform.writes).toEqual([]);
  });

  it('a lost lock stops writing: what is left is not attempted, and the outcome says why', async () => {
    const platform = new FakePlatform();
    const org = platform.seed({ name: 'acme' });
    org.members.set('up@x.example', { email: 'up@x.example', role: 'member', creator: false, firstName: '', lastName: '', description: '' });
    const locks = new FakeLocks();
    locks.loseOnRenew = true;
    // The first write waits until a renewal has found the lease taken (ttl 300 ms: a renewal every 100 ms).
    let renewed!: () => void;
    const renewal = new Promise<void>((resolve) => (renewed = resolve));
    locks.onRenew = () => renewed();
    platform.beforeWrite = () => renewal;
    const outcome = await reconcile(
      { platform, locks, credentials: credentials({}) },
      { desired: desired([['a@x.example', 'member'], ['up@x.example', 'admin']]) },
      options({ lock: { holder: 'unit test', timeoutMs: 0, ttlMs: 300 } }),
    );
    expect(outcome.status).toBe('incomplete');
    expect(outcome.lockLost).toMatch(/lost the lock on "acme": someone else holds "acme" now/);
    expect(outcome.applied.map((c) => c.id)).toEqual(['invite:acme:a@x.example']);
    expect(outcome.skipped.map((s) => `${s.change.id} (${s.reason})`)).toEqual(['update-role:acme:up@x.example (interrupted)']);
    expect(platform.writes).toEqual(['invite acme a@x.example']);
  });

  it('fails before planning when another holds the lock', async () => {
    const platform = new FakePlatform();
    platform.seed({ name: 'acme' });
    const locks = new FakeLocks();
    await locks.acquire('acme', { id: 'other', holder: 'apply elsewhere', ttlMs: 30_000 });
    await expect(reconcile({ platform, locks, credentials: credentials({}) }, { desired: desired([['a@x.example', 'member']]) }, options())).rejects.toBeInstanceOf(LockTimeoutError);
    expect(platform.writes).toEqual([]);
  });
});

describe('capabilities the diff and the stale-plan check read', () => {
  const s3 = (variable: string) => ({ name: 'raw', type: 's3', options: {}, credentialsRef: { env: { secretAccessKey: variable } } });

  it('an adapter that can compare credentials plans an update when they differ', async () => {
    const platform = new FakePlatform();
    const org = platform.seed({ name: 'acme' });
    org.integrations.set('raw', { name: 'raw', type: 's3', options: {}, credentialsFingerprint: null });
    platform.secrets.set('acme/raw', JSON.stringify({ secretAccessKey: 'old' }));
    const result = await makePlan(platform, credentials({ S3: 'new' }), desired([], { integrations: new Map([['raw', s3('S3')]]) }), {
      guards: { maxRemovals: { percent: 25 }, allowOwnerChanges: false },
    });
    expect(result.plan.changes.map((c) => `${c.action} ${c.reason}`)).toEqual(["update-integration credentials differ from the platform's"]);
  });

  it('an adapter declaring no credential comparison never plans a credentials-only update, and says so', async () => {
    const platform = new FakePlatform({ ...BUILTIN_CAPABILITIES, credentialDrift: 'none' });
    const org = platform.seed({ name: 'acme' });
    org.integrations.set('raw', { name: 'raw', type: 's3', options: {}, credentialsFingerprint: null });
    platform.secrets.set('acme/raw', JSON.stringify({ secretAccessKey: 'old' }));
    const result = await makePlan(platform, credentials({ S3: 'new' }), desired([], { integrations: new Map([['raw', s3('S3')]]) }), {
      guards: { maxRemovals: { percent: 25 }, allowOwnerChanges: false },
    });
    expect(result.plan.changes).toEqual([]);
    expect(result.notes.join('\n')).toMatch(/integration "raw" of "acme": fake:test cannot tell whether stored credentials differ/);
  });

  it('a saved plan from an adapter without state versions is checked by a digest of the state it read', async () => {
    const platform = new FakePlatform({ ...BUILTIN_CAPABILITIES, stateVersion: false });
    platform.seed({ name: 'acme' });
    const deps = { platform, locks: new FakeLocks(), credentials: credentials({}) };
    const made = await makePlan(platform, deps.credentials, desired([['a@x.example', 'member']]), { guards: { maxRemovals: { percent: 25 }, allowOwnerChanges: false } });
    expect(made.plan.observed.acme).toMatch(/^sha256:[0-9a-f]{64}$/);

    // Someone changes the organization meanwhile: the saved plan is stale, and nothing is written.
    platform.orgs.get('acme')!.invites.set('z@x.example', { email: 'z@x.example', role: 'member', status: 'pending', projects: [] });
    await expect(reconcile(deps, { saved: made.plan }, options())).rejects.toThrow(SavedPlanError);
    await expect(reconcile(deps, { saved: made.plan }, options())).rejects.toThrow(/saved plan is stale: organization "acme" changed since the plan was made \(state sha256:/);
    expect(platform.writes).toEqual([]);

    // Put back as it was, the same plan applies.
    platform.orgs.get('acme')!.invites.delete('z@x.example');
    const outcome = await reconcile(deps, { saved: made.plan }, options());
    expect(outcome.status).toBe('applied');
    expect(platform.writes).toEqual(['invite acme a@x.example']);
  });

  it('planning leaves the desired state as it was (no resolved credentials written into it)', async () => {
    const platform = new FakePlatform();
    platform.seed({ name: 'acme' });
    const want = desired([], { integrations: new Map([['raw', s3('S3')]]) });
    const before = JSON.stringify([...want.get('acme')!.integrations.values()]);
    await makePlan(platform, credentials({ S3: 'CANARY' }), want, { guards: { maxRemovals: { percent: 25 }, allowOwnerChanges: false } });
    expect(JSON.stringify([...want.get('acme')!.integrations.values()])).toBe(before);
  });
});

describe('requests a platform cannot honour', () => {
  it('are plan errors naming the organization, the field and the platform, before anything is read', async () => {
    const platform = new FakePlatform({
      ...BUILTIN_CAPABILITIES,
      roles: ['admin', 'member'],
      organizations: { create: false, rename: true, plan: false, cache: false },
      integrationTypes: ['s3'],
    });
    platform.seed({ name: 'acme' });
    const want = desired([['w@x.example', 'worker']], { plan: 'premium', integrations: new Map([['kv', { name: 'kv', type: 'key_value', options: {} }]]) });
    const err = await makePlan(platform, credentials({}), want, { guards: { maxRemovals: { percent: 25 }, allowOwnerChanges: false } }).catch((e: unknown) => e as Error);
    expect((err as Error).message.split('\n')).toEqual([
      'organization "acme": spec.plan: the billing plan cannot be managed on fake:test',
      'organization "acme": spec.members[].role: role "owner" (1 person) does not exist; roles there: admin, member on fake:test',
      'organization "acme": spec.members[].role: role "worker" (1 person) does not exist; roles there: admin, member on fake:test',
      'organization "acme": Integration "kv" spec.type: integration type "key_value" is not supported (supported: s3) on fake:test',
    ]);
  });
});

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/server/sqlite.js';
import { orgctl, tempDir, writeOrg, type OrgSpec, type Run } from './cli.js';
import { serve, type Served } from './server.js';

// A saved plan travels between CI jobs and may be edited on the way: `apply PLAN` checks it as strictly as
// a fresh plan, on both adapters of the built-in platform.

interface Change {
  id: string;
  action: string;
  organization: string;
  target: string;
  before: unknown;
  after: unknown;
  reason: string;
}
interface PlanDoc {
  observed: Record<string, unknown>;
  changes: Change[];
  summary: Record<string, number>;
  guards?: unknown;
}

interface Target {
  name: string;
  /** The identity applying plans (declared an admin of acme, so the self guard has someone to protect). */
  actor: string;
  dir: string;
  run(args: string[], env?: NodeJS.ProcessEnv): Promise<Run>;
  db(): InstanceType<typeof Database>;
}

const CREDS = { S3_KEY: 'AKIA-saved-plan', S3_SECRET: 'CANARY-saved-plan-secret', KV_VALUE: 'CANARY-saved-kv' };

function embedded(): Target {
  const dir = tempDir();
  return {
    name: 'embedded',
    actor: 'operator@ops.example',
    dir,
    run: (args, env = {}) => orgctl(args, { cwd: dir, env: { ...CREDS, ...env } }),
    db: () => new Database(join(dir, '.orgctl/platform.db')),
  };
}

function overHttp(server: Served, dir: string): Target {
  return {
    name: 'http',
    actor: 'ops@platform.example',
    dir,
    run: (args, env = {}) => orgctl(args, { cwd: dir, env: { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token, ...CREDS, ...env } }),
    db: () => new Database(join(dir, 'server.db')),
  };
}

const people = (actor: string): OrgSpec['members'] => [
  ['root@acme.example', 'owner'],
  [actor, 'admin'],
  ['o2@acme.example', 'owner'],
  ['m1@acme.example', 'member'],
  ['m2@acme.example', 'member'],
  ['m3@acme.example', 'member'],
  ['m4@acme.example', 'member'],
  ['w1@acme.example', 'worker'],
];

describe.each([
  ['embedded', () => Promise.resolve({ target: embedded(), stop: async () => undefined })],
  [
    'http',
    async () => {
      const dir = tempDir();
      const server = await serve(dir);
      return { target: overHttp(server, dir), stop: () => server.stop() };
    },
  ],
] as const)('saved plans on the %s platform', (_name, open) => {
  let t: Target;
  let stop: () => Promise<void>;
  let manifests: string;
  const version = () => {
    const db = t.db();
    try {
      return (db.prepare("SELECT version FROM orgs WHERE name = 'acme'").get() as { version: number } | undefined)?.version;
    } finally {
      db.close();
    }
  };
  const save = async (args: string[] = []): Promise<PlanDoc> => {
    const r = await t.run(['plan', '-f', manifests, '--out', 'p.json', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(readFileSync(join(t.dir, 'p.json'), 'utf8')) as PlanDoc;
  };
  const edit = (doc: PlanDoc) => writeFileSync(join(t.dir, 'p.json'), JSON.stringify(doc));
  const recount = (doc: PlanDoc) => {
    const summary: Record<string, number> = {};
    for (const c of doc.changes) summary[c.action] = (summary[c.action] ?? 0) + 1;
    doc.summary = { ...summary, total: doc.changes.length };
    return doc;
  };
  const remove = (email: string, role: string): Change => ({
    id: `remove-member:acme:${email}`,
    action: 'remove-member',
    organization: 'acme',
    target: email,
    before: { role },
    after: null,
    reason: 'edited in by hand',
  });

  beforeAll(async () => {
    ({ target: t, stop } = await open());
    manifests = join(t.dir, 'm');
    mkdirSync(manifests, { recursive: true });
    writeOrg(manifests, { name: 'acme', displayName: 'Acme', members: people(t.actor), integrations: [] });
    const apply = await t.run(['apply', '-f', manifests, '--yes']);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    for (const [email] of people(t.actor).slice(1)) {
      const r = await t.run(['platform', 'invites', 'accept', '--org', 'acme', '--email', email, ...(t.name === 'embedded' ? [] : [])]);
      expect(r.code, r.stderr).toBe(0);
    }
  });
  afterAll(async () => stop?.());

  it('refuses a saved plan that is not a valid plan, naming the change and the field, and writes nothing', async () => {
    writeOrg(manifests, { name: 'acme', displayName: 'Acme', members: [...people(t.actor), ['new@acme.example', 'member']], integrations: [] });
    const good = await save();
    expect(good.changes.map((c) => c.id)).toEqual(['invite:acme:new@acme.example']);
    const before = version();
    const cases: [string, (d: PlanDoc) => void, RegExp][] = [
      ['an unknown action', (d) => (d.changes[0]!.action = 'invitez'), /change 0 \(invite:acme:new@acme\.example\): action: unknown action "invitez"; known actions: .*; did you mean "invite"\?/],
      ['a missing field', (d) => delete (d.changes[0] as Partial<Change>).target, /change 0 \(invite:acme:new@acme\.example\): target: required/],
      ['a wrong before shape', (d) => (d.changes[0]!.before = { role: 'member' }), /change 0 \(invite:acme:new@acme\.example\): before: must be null, not object/],
      ['a wrong after value', (d) => ((d.changes[0]!.after as { role: string }).role = 'boss'), /change 0 \(invite:acme:new@acme\.example\): after\.role: must be one of "owner", "admin", "member", "worker", not "boss"/],
      ['a summary that disagrees', (d) => (d.summary.invite = 5), /summary\.invite: says 5, the changes hold 1/],
      ['an organization it never observed', (d) => (d.changes[0]!.organization = 'other'), /change 0 \(invite:acme:new@acme\.example\): id does not match its change/],
      ['an unknown format version', (d) => ((d as unknown as { formatVersion: number }).formatVersion = 2), /formatVersion 2 is not supported/],
    ];
    for (const [what, mutate, message] of cases) {
      const doc = structuredClone(good);
      mutate(doc);
      edit(doc);
      const r = await t.run(['apply', 'p.json']);
      expect(r.code, `${what}: ${r.stdout}${r.stderr}`).toBe(1);
      expect(r.stderr, what).toMatch(message);
      expect(r.stderr, what).toContain('nothing was applied');
      expect(version(), what).toBe(before);
    }
    // Unedited, it applies (a saved plan is the reviewed change: no --yes needed off a terminal is issue 17's).
    edit(good);
    const r = await t.run(['apply', 'p.json', '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('Apply complete: 1 applied, 0 failed, 0 not attempted.');
  });

  it('checks the guards again at apply time, against the state then, with the flags given to apply', async () => {
    writeOrg(manifests, { name: 'acme', displayName: 'Acme', members: [...people(t.actor), ['new@acme.example', 'member']], integrations: [] });
    const tries: [string, Change[], string[], string][] = [
      ['an owner', [remove('o2@acme.example', 'owner')], ['--allow-owner-changes'], 'owner-changes'],
      ['the acting identity', [remove(t.actor, 'admin')], [], 'self'],
      ['more than --max-removals', [remove('m1@acme.example', 'member'), remove('m2@acme.example', 'member'), remove('m3@acme.example', 'member')], ['--max-removals', '3'], 'max-removals'],
    ];
    for (const [what, changes, override, guard] of tries) {
      // A fresh plan of the current state, its changes replaced by hand with removals.
      const fresh = await save();
      const before = version();
      edit(recount({ ...fresh, changes }));
      const refused = await t.run(['apply', 'p.json', '--yes']);
      expect(refused.code, `${what}: ${refused.stdout}${refused.stderr}`).toBe(1);
      expect(refused.stderr, what).toContain(`guard ${guard}:`);
      expect(refused.stderr, what).toContain('nothing was written');
      expect(version(), what).toBe(before);
      if (guard === 'self') {
        // No flag overrides the self guard.
        const still = await t.run(['apply', 'p.json', '--yes', '--allow-owner-changes', '--max-removals', '100%']);
        expect(still.code).toBe(1);
        expect(still.stderr).toContain('guard self:');
        continue;
      }
      const allowed = await t.run(['apply', 'p.json', '--yes', ...override]);
      expect(allowed.code, `${what}: ${allowed.stdout}${allowed.stderr}`).toBe(0);
      expect(allowed.stdout).toContain(`Apply complete: ${changes.length} applied`);
    }
  });

  it('a plan made with override flags applies only when they are given again', async () => {
    writeOrg(manifests, { name: 'acme', displayName: 'Acme', policy: 'authoritative', members: [['root@acme.example', 'owner'], [t.actor, 'admin']], integrations: [] });
    const doc = await save(['--max-removals', '10', '--allow-owner-changes']);
    expect(doc.guards).toEqual({ maxRemovals: { count: 10 }, allowOwnerChanges: true });
    const before = version();
    const bare = await t.run(['apply', 'p.json', '--yes']);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain('the saved plan was made with --allow-owner-changes and --max-removals=10; give the same to apply it');
    expect(version()).toBe(before);
    const same = await t.run(['apply', 'p.json', '--yes', '--max-removals', '10', '--allow-owner-changes']);
    expect(same.code, same.stdout + same.stderr).toBe(0);
  });
});

describe('every action reaches the platform from a saved plan', () => {
  it('applies all fifteen kinds of change from saved plans, and converges', async () => {
    const t = embedded();
    const m = join(t.dir, 'm');
    mkdirSync(m);
    const spec = (over: Partial<OrgSpec>): OrgSpec => ({
      name: 'acme',
      displayName: 'Acme',
      plan: 'freemium',
      policy: 'authoritative',
      integrationsPolicy: 'authoritative',
      members: [
        ['root@acme.example', 'owner'],
        ['a@acme.example', 'admin'],
        ['x@acme.example', 'member'],
        ['p@acme.example', 'member'],
        ['e@acme.example', 'member'],
        ['w@acme.example', 'worker'],
      ],
      integrations: [{ name: 'old', type: 'aws-cross', options: { roleArn: 'arn:aws:iam::1:role/r' } }],
      ...over,
    });
    const applied = new Set<string>();
    const viaSavedPlan = async (args: string[] = []) => {
      const plan = await t.run(['plan', '-f', m, '--out', 'p.json', ...args]);
      expect(plan.code, plan.stderr).toBe(0);
      const doc = JSON.parse(readFileSync(join(t.dir, 'p.json'), 'utf8')) as PlanDoc;
      const r = await t.run(['apply', 'p.json', '--yes', ...args]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`Apply complete: ${doc.changes.length} applied, 0 failed, 0 not attempted.`);
      for (const c of doc.changes) applied.add(c.action);
    };
    writeOrg(m, spec({}));
    await viaSavedPlan(); // create-organization, invite, create-integration
    for (const e of ['a@acme.example', 'x@acme.example']) expect((await t.run(['platform', 'invites', 'accept', '--org', 'acme', '--email', e])).code).toBe(0);
    const db = t.db();
    db.prepare("UPDATE invites SET expires_at = 0 WHERE email = 'e@acme.example'").run();
    db.close();
    writeOrg(m, spec({ displayName: 'Acme Corp', plan: 'premium', cache: { enabled: true, podType: 'small' } }));
    await viaSavedPlan(); // rename, update-plan, cache-apply, resend-invite
    writeOrg(
      m,
      spec({
        displayName: 'Acme Corp',
        plan: 'premium',
        cache: { enabled: false },
        members: [
          ['root@acme.example', 'owner', { firstName: 'Ro' }],
          ['a@acme.example', 'member'],
          ['e@acme.example', 'member'],
          ['w@acme.example', 'admin'],
        ],
        integrations: [
          { name: 'old', type: 'aws-cross', options: { roleArn: 'arn:aws:iam::1:role/r2' } },
          { name: 'kv', type: 'key_value', env: { value: 'KV_VALUE' } },
        ],
      }),
    );
    await viaSavedPlan(['--max-removals', '2']); // cache-destroy, update-integration, update-profile, update-role, reinvite, remove-member, cancel-invite, create-integration
    writeOrg(
      m,
      spec({
        displayName: 'Acme Corp',
        plan: 'premium',
        cache: { enabled: false },
        members: [
          ['root@acme.example', 'owner', { firstName: 'Ro' }],
          ['a@acme.example', 'member'],
          ['e@acme.example', 'member'],
          ['w@acme.example', 'admin'],
        ],
        integrations: [{ name: 'kv', type: 'key_value', env: { value: 'KV_VALUE' } }],
      }),
    );
    await viaSavedPlan(); // delete-integration
    expect([...applied].sort()).toEqual(
      [
        'cache-apply',
        'cache-destroy',
        'cancel-invite',
        'create-integration',
        'create-organization',
        'delete-integration',
        'invite',
        'reinvite',
        'remove-member',
        'rename',
        'resend-invite',
        'update-integration',
        'update-plan',
        'update-profile',
        'update-role',
      ].sort(),
    );
    expect((await t.run(['plan', '-f', m, '--detailed-exitcode'])).code).toBe(0);
  });
});

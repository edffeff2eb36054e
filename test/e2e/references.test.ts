/**
 * References checked at plan time (issue 10): a Membership pre-assigning a project the platform does not have
 * fails `plan` (and `apply`, before anything is written) at the manifest's file:line:column, on both built-in
 * adapters; an existing project plans and is carried by the invite.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/server/sqlite.js';
import { orgctl, tempDir } from './cli.js';
import { serve, type Served } from './server.js';

const ORG = `apiVersion: orgctl.dev/v1alpha1
kind: Organization
metadata:
  name: acme
spec:
  plan: premium
`;

/** The Membership; `projects` pre-assigned to carol (the entry at spec.members[2], its project on line 14). */
function membership(projects?: string): string {
  return `apiVersion: orgctl.dev/v1alpha1
kind: Membership
metadata:
  name: acme-people
spec:
  organization: acme
  members:
    - email: boss@acme.example
      role: owner
    - email: ann@acme.example
    - email: carol@acme.example
      role: worker
${projects === undefined ? '' : `      projects:\n        - project: ${projects}\n          role: annotator\n`}`;
}

interface Adapter {
  name: string;
  /** Runs orgctl against this platform. */
  run(args: string[]): ReturnType<typeof orgctl>;
  createProject(name: string): Promise<void>;
  /** Open invites: email -> projects. */
  invites(): Promise<Map<string, { project: string; role: string }[]>>;
  stateVersion(): Promise<number | undefined>;
  stop(): Promise<void>;
}

async function embedded(dir: string): Promise<Adapter> {
  const run = (args: string[]) => orgctl(args, { cwd: dir, env: { ORGCTL_USER: 'boss@acme.example' } });
  const db = () => new Database(join(dir, '.orgctl/platform.db'));
  const orgRow = (d: InstanceType<typeof Database>) => d.prepare("SELECT id, creator_id, version FROM orgs WHERE name = 'acme'").get() as { id: number; creator_id: number; version: number } | undefined;
  return {
    name: 'embedded',
    run,
    async createProject(name) {
      const d = db();
      try {
        const org = orgRow(d)!;
        d.prepare('INSERT INTO projects (org_id, name, paying_org_id, created_by, created_at) VALUES (?, ?, ?, ?, ?)').run(org.id, name, org.id, org.creator_id, Date.now());
      } finally {
        d.close();
      }
    },
    async invites() {
      const d = db();
      try {
        const rows = d
          .prepare("SELECT i.email, (SELECT json_group_array(json_object('project', p.name, 'role', j.value ->> 'role')) FROM json_each(i.projects) j JOIN projects p ON p.id = j.value ->> 'projectId') AS projects FROM invites i WHERE i.status = 'pending'")
          .all() as { email: string; projects: string }[];
        return new Map(rows.map((r) => [r.email, JSON.parse(r.projects)]));
      } finally {
        d.close();
      }
    },
    async stateVersion() {
      const d = db();
      try {
        return orgRow(d)?.version;
      } finally {
        d.close();
      }
    },
    stop: async () => undefined,
  };
}

async function overHttp(dir: string): Promise<Adapter> {
  const server: Served = await serve(dir);
  const auth = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
  const get = async (path: string) => {
    const res = await fetch(`${server.url}${path}`, { headers: auth });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return {
    name: 'HTTP',
    run: (args) => orgctl(args, { cwd: dir, env: { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token } }),
    async createProject(name) {
      const res = await fetch(`${server.url}/api/v1/projects`, { method: 'POST', headers: auth, body: JSON.stringify({ name, organization: 'acme' }) });
      expect(res.status, await res.text()).toBe(201);
    },
    async invites() {
      const r = await get('/api/v1/orgs/acme/invites?status=open&limit=1000');
      return new Map((r.body.items as { email: string; projects: { project: string; role: string }[] }[]).map((i) => [i.email, i.projects]));
    },
    async stateVersion() {
      const r = await get('/api/v1/orgs/acme');
      return r.status === 200 ? (r.body.stateVersion as number) : undefined;
    },
    stop: () => server.stop(),
  };
}

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops) await stop();
});

describe.each([
  ['embedded', embedded],
  ['HTTP', overHttp],
] as const)('projects pre-assigned by invites are checked when planning (%s)', (_name, open) => {
  it('a project of an organization not created yet, a missing project, then an existing one', async () => {
    const dir = tempDir();
    const p = await open(dir);
    stops.push(() => p.stop());
    mkdirSync(join(dir, 'm'));
    writeFileSync(join(dir, 'm/org.yaml'), ORG);
    const file = join('m', 'people.yaml');

    // The organization does not exist yet: its projects must be created first. Nothing is written.
    writeFileSync(join(dir, file), membership('cars'));
    const early = await p.run(['plan', '-f', 'm']);
    expect(early.code, early.stderr).toBe(1);
    expect(early.stderr).toContain(`${file}:14:20: spec.members[2].projects[0].project: project "cars" cannot be pre-assigned: organization "acme" does not exist yet, so its projects must be created first`);
    const refused = await p.run(['apply', '-f', 'm', '--yes']);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain('nothing was written');
    expect(await p.stateVersion()).toBeUndefined();

    // Created without carol; then projects are made on the platform.
    writeFileSync(join(dir, file), membership().replace('    - email: carol@acme.example\n      role: worker\n', ''));
    const created = await p.run(['apply', '-f', 'm', '--yes']);
    expect(created.code, created.stdout + created.stderr).toBe(0);
    await p.createProject('card');
    await p.createProject('road-signs');

    // carol is added with a project the organization does not have.
    writeFileSync(join(dir, file), membership('cars'));
    const before = await p.stateVersion();
    const plan = await p.run(['plan', '-f', 'm', '-o', 'json']);
    expect(plan.code, plan.stderr).toBe(1);
    const failure = JSON.parse(plan.stdout) as { error: string; diagnostics: { file: string; line: number; column: number; path: string; message: string }[] };
    expect(failure.diagnostics).toEqual([
      {
        file,
        line: 14,
        column: 20,
        path: 'spec.members[2].projects[0].project',
        message: 'project "cars" does not exist in organization "acme"; existing projects: "card", "road-signs"; did you mean "card"?',
      },
    ]);
    const apply = await p.run(['apply', '-f', 'm', '--yes']);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain(`${file}:14:20: spec.members[2].projects[0].project: project "cars" does not exist in organization "acme"`);
    expect(apply.stderr).toContain('nothing was written');
    expect(await p.stateVersion()).toBe(before);
    expect((await p.invites()).has('carol@acme.example')).toBe(false);

    // An existing project: planned, applied, and the invite carries it.
    writeFileSync(join(dir, file), membership('card'));
    const good = await p.run(['plan', '-f', 'm']);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain('+ invite carol@acme.example as worker (+1 project)');
    const applied = await p.run(['apply', '-f', 'm', '--yes']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect((await p.invites()).get('carol@acme.example')).toEqual([{ project: 'card', role: 'annotator' }]);
  });
});

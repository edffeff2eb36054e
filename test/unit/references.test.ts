import { describe, expect, it } from 'vitest';
import { desiredState } from '../../src/manifest/desired.js';
import { loadManifests } from '../../src/manifest/load.js';
import { placeDeclared } from '../../src/manifest/place.js';
import type { Source } from '../../src/manifest/sources.js';
import { makePlan, PlanError } from '../../src/plan/planner.js';
import { FakePlatform } from '../helpers/fake-platform.js';

const GUARDS = { maxRemovals: { percent: 25 }, allowOwnerChanges: false };
const noCredentials = { resolve: async () => ({}) };

const files: Record<string, string> = {
  'org.yaml': `apiVersion: orgctl.dev/v1alpha1
kind: Organization
metadata:
  name: acme
spec: {}
---
apiVersion: orgctl.dev/v1alpha1
kind: Membership
metadata:
  name: leads
spec:
  organization: acme
  members:
    - email: ops@x.example
      role: owner
    - email: Dana@acme.example
      projects:
        - {project: vision, role: manager}
`,
  'list.yaml': `apiVersion: v1
kind: List
items:
  - apiVersion: orgctl.dev/v1alpha1
    kind: Membership
    metadata:
      name: team
    spec:
      organization: acme
      members:
        - email: eli@acme.example
        - email: dana@acme.example
          projects:
            - {project: vision, role: annotator}
            - {project: audio, role: reviewer}
`,
};

function load(): { sources: Source[]; desired: ReturnType<typeof desiredState> } {
  const sources = Object.entries(files).map(([name, text]) => ({ name, bytes: new TextEncoder().encode(text), dir: '.' }));
  const loaded = loadManifests(sources);
  expect(loaded.diagnostics).toEqual([]);
  return { sources, desired: desiredState(loaded.objects) };
}

async function planError(platform: FakePlatform, desired: ReturnType<typeof desiredState>): Promise<PlanError> {
  try {
    await makePlan(platform, noCredentials, desired, { guards: GUARDS });
  } catch (err) {
    if (err instanceof PlanError) return err;
    throw err;
  }
  throw new Error('the plan was made');
}

describe('references checked at plan time', () => {
  it('a person declared in two Memberships: the missing project is placed where it was written, inside a List too', async () => {
    const { sources, desired } = load();
    const platform = new FakePlatform();
    platform.seed({ name: 'acme' });
    platform.projects.set('acme', ['vision', 'lidar']);
    const err = await planError(platform, desired);
    expect(err.problems).toEqual([]);
    expect(err.message).toBe(
      'list.yaml: spec.members[1].projects[1].project: project "audio" does not exist in organization "acme"; existing projects: "lidar", "vision"',
    );
    const bytes = new Map(sources.map((s) => [s.name, s.bytes]));
    expect(placeDeclared(err.located, (f) => bytes.get(f))).toEqual([
      {
        file: 'list.yaml',
        line: 15,
        column: 25,
        path: 'spec.members[1].projects[1].project',
        message: 'project "audio" does not exist in organization "acme"; existing projects: "lidar", "vision"',
      },
    ]);
  });

  it('existing projects plan, and the invite carries every one; nothing is listed when no change names a project', async () => {
    const { desired } = load();
    const platform = new FakePlatform();
    platform.seed({ name: 'acme' });
    platform.projects.set('acme', ['vision', 'audio']);
    const listed: string[] = [];
    const list = platform.listProjects.bind(platform);
    platform.listProjects = async (org) => {
      listed.push(org);
      return list(org);
    };
    const result = await makePlan(platform, noCredentials, desired, { guards: GUARDS });
    const dana = result.plan.changes.find((c) => c.target === 'dana@acme.example');
    expect(dana?.action === 'invite' && dana.after.projects).toEqual([
      { project: 'vision', role: 'manager' },
      { project: 'vision', role: 'annotator' },
      { project: 'audio', role: 'reviewer' },
    ]);
    expect(listed).toEqual(['acme']);

    // Once invited, nothing names a project: no list call.
    platform.orgs.get('acme')!.invites.set('dana@acme.example', { email: 'dana@acme.example', role: 'member', status: 'pending', projects: [] });
    listed.length = 0;
    await makePlan(platform, noCredentials, desired, { guards: GUARDS });
    expect(listed).toEqual([]);
  });

  it('many missing references: the first 20 placed, the rest counted', async () => {
    const members = Array.from({ length: 30 }, (_, i) => `    - email: p${i}@acme.example\n      projects: [{project: nope, role: annotator}]`).join('\n');
    const text = `apiVersion: orgctl.dev/v1alpha1\nkind: Organization\nmetadata: {name: acme}\nspec: {}\n---\napiVersion: orgctl.dev/v1alpha1\nkind: Membership\nmetadata: {name: many}\nspec:\n  organization: acme\n  members:\n${members}\n`;
    const loaded = loadManifests([{ name: 'many.yaml', bytes: new TextEncoder().encode(text), dir: '.' }]);
    expect(loaded.diagnostics).toEqual([]);
    const platform = new FakePlatform();
    platform.seed({ name: 'acme' });
    const err = await planError(platform, desiredState(loaded.objects));
    expect(err.located).toHaveLength(20);
    expect(err.located[0]!.message).toBe('project "nope" does not exist in organization "acme"; it has none');
    expect(err.problems).toEqual(['organization "acme": 10 more pre-assignments of projects that do not exist']);
  });
});

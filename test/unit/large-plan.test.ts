import { describe, expect, it } from 'vitest';
import type { ActualMember } from '../../src/model/actual.js';
import type { DesiredMember, DesiredOrg } from '../../src/model/desired.js';
import { parseSavedPlan } from '../../src/plan/plan-file.js';
import { makePlan } from '../../src/plan/planner.js';
import { reconcile } from '../../src/plan/reconcile.js';
import { renderOutcome, renderPlan } from '../../src/plan/render.js';
import { FakeLocks, FakePlatform } from '../helpers/fake-platform.js';

// An organization with a million members makes plans of hundreds of thousands of changes. Spreading an array
// that size into a call (`list.push(...changes)`) overflows the stack past ~120,000 elements (issue 22): every
// step of a plan is run here at 500,000 changes. No timing is asserted (speed lives in bench/).
const ME = 'ops@x.example';
const HALF = 250_000;

function organization(): { desired: Map<string, DesiredOrg>; platform: FakePlatform } {
  const members = new Map<string, DesiredMember>([[ME, { email: ME, role: 'owner', projects: [] }]]);
  for (let i = 0; i < HALF; i++) members.set(`new${i}@x.example`, { email: `new${i}@x.example`, role: 'member', projects: [] });
  const desired = new Map<string, DesiredOrg>([
    ['acme', { name: 'acme', membersPolicy: 'authoritative', ignore: [], integrationsPolicy: 'additive', integrations: new Map(), members }],
  ]);
  const platform = new FakePlatform();
  const actual = new Map<string, ActualMember>([[ME, { email: ME, role: 'owner', creator: true, firstName: '', lastName: '', description: '' }]]);
  for (let i = 0; i < HALF; i++) actual.set(`old${i}@x.example`, { email: `old${i}@x.example`, role: 'worker', creator: false, firstName: '', lastName: '', description: '' });
  platform.seed({ name: 'acme', members: actual });
  return { desired, platform };
}

const GUARDS = { maxRemovals: { percent: 100 }, allowOwnerChanges: false };
const noCredentials = { resolve: async () => ({}) };

describe('plans of 500,000 changes', () => {
  it('are planned, checked, printed, saved, read back and applied without overflowing the stack', async () => {
    const { desired, platform } = organization();
    const result = await makePlan(platform, noCredentials, desired, { guards: GUARDS });
    expect(result.plan.changes).toHaveLength(2 * HALF);
    expect(result.plan.summary).toEqual({ invite: HALF, 'remove-member': HALF, total: 2 * HALF });
    expect(result.violations).toEqual([]);

    const text = renderPlan(result.plan, { color: false });
    // Booleans, so a failure does not print half a million lines.
    expect(text.includes(`Plan: ${HALF} to add, 0 to change, ${HALF} to remove (fake:test).`)).toBe(true);
    const cut = renderPlan(result.plan, { color: false, cut: { above: 50, to: 20 } });
    expect(cut.includes(`... and ${(HALF - 20).toLocaleString('en-US')} more invites as member`)).toBe(true);

    const saved = parseSavedPlan(JSON.stringify(result.plan), 'plan.json');
    expect(saved.changes).toHaveLength(2 * HALF);

    const outcome = await reconcile({ platform, locks: new FakeLocks(), credentials: noCredentials }, { desired }, {
      guards: GUARDS,
      lock: { holder: 'test', timeoutMs: 0, ttlMs: 30_000 },
    });
    expect(outcome.status).toBe('applied');
    expect(outcome.applied).toHaveLength(2 * HALF);
    expect(platform.orgs.get('acme')!.invites.size).toBe(HALF);
    expect(platform.orgs.get('acme')!.members.size).toBe(1);
    expect(renderOutcome(outcome).includes(`Apply complete: ${2 * HALF} applied, 0 failed`)).toBe(true);
  });

  it('a million failures are reported grouped, without overflowing either', async () => {
    const { desired, platform } = organization();
    platform.failEmails = new Set(Array.from({ length: HALF }, (_, i) => `new${i}@x.example`));
    const outcome = await reconcile({ platform, locks: new FakeLocks(), credentials: noCredentials }, { desired }, {
      guards: GUARDS,
      lock: { holder: 'test', timeoutMs: 0, ttlMs: 30_000 },
    });
    expect(outcome.status).toBe('incomplete');
    expect(outcome.failed).toHaveLength(HALF);
    const report = renderOutcome(outcome);
    expect(report.length).toBeLessThan(100_000);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import type { DesiredMember, DesiredOrg } from '../../src/model/desired.js';
import { openAngo } from '../../src/platform/ango/platform.js';
import { openDataloop } from '../../src/platform/dataloop/platform.js';
import { NoLocks } from '../../src/platform/locks.js';
import type { Platform } from '../../src/platform/types.js';
import { makePlan } from '../../src/plan/planner.js';
import { reconcile } from '../../src/plan/reconcile.js';
import { FakeAngo } from '../fakes/ango.js';
import { FakeDataloop } from '../fakes/dataloop.js';
import { credentials, QUICK_RETRY } from './subjects.js';

/**
 * Neither hosted platform deduplicates writes (no Idempotency-Key), so a write whose answer is lost must not be
 * sent again: the fakes do the work, then drop the connection. Apply reports the change as failed and possibly
 * done; the next plan reads what happened.
 */

const ME = 'ops@acme.example';
const GUARDS = { maxRemovals: { percent: 25 }, allowOwnerChanges: false };
const opts = { guards: GUARDS, lock: { holder: 't', timeoutMs: 0, ttlMs: 30_000 } };

function want(top: 'owner' | 'admin', externalId: string): Map<string, DesiredOrg> {
  const members = new Map<string, DesiredMember>([
    [ME, { email: ME, role: top, projects: [] }],
    ['new@acme.example', { email: 'new@acme.example', role: 'member', projects: [] }],
  ]);
  return new Map([['acme', { name: 'acme', externalId, membersPolicy: 'additive', ignore: [], integrationsPolicy: 'additive', members, integrations: new Map() }]]);
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function applyWithDrop(platform: Platform, desired: Map<string, DesiredOrg>) {
  return reconcile({ platform, locks: new NoLocks(), credentials: credentials({}) }, { desired }, opts);
}

describe('a lost answer to an invite', () => {
  it('Ango Hub: sent once, reported as possibly done, and the next plan sees the invite', async () => {
    const fake = await new FakeAngo().start();
    const org = fake.addOrg(ME);
    const platform = openAngo(fake.base, fake.apiKey(ME, org), { user: ME, rateLimitPerMinute: 60_000, retry: QUICK_RETRY });
    cleanup.push(() => platform.close(), () => fake.stop());
    fake.server.dropAfterWork = (r) => r.method === 'POST';
    const outcome = await applyWithDrop(platform, want('admin', org.id));
    expect(outcome.status).toBe('incomplete');
    expect(outcome.failed.map((f) => `${f.change.id}: ${f.error}`)).toEqual([expect.stringMatching(/^invite:acme:new@acme.example: .*the answer was lost: it may have been done; the next plan reads it again/)]);
    expect(fake.server.calls(`POST /v2/organization/${org.id}/invites`)).toHaveLength(1);
    expect((await makePlan(platform, credentials({}), want('admin', org.id), { guards: GUARDS })).plan.changes).toEqual([]);
  });

  it('Dataloop: sent once, reported as possibly done (the next plan cannot see it and invites again, as it says)', async () => {
    const fake = await new FakeDataloop().start();
    const org = fake.addOrg('Acme', ME);
    const platform = openDataloop(fake.base, fake.token(ME), undefined, { retry: QUICK_RETRY });
    cleanup.push(() => platform.close(), () => fake.stop());
    fake.server.dropAfterWork = (r) => r.method === 'POST';
    const outcome = await applyWithDrop(platform, want('owner', org.id));
    expect(outcome.failed.map((f) => f.error)).toEqual([expect.stringMatching(/the answer was lost/)]);
    expect(fake.server.calls(`POST /api/v1/orgs/${org.id}/members`)).toHaveLength(1);
    expect(org.invites.get('new@acme.example')).toBe('member');
  });
});

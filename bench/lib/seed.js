import { join } from 'node:path';
import { ROOT } from './measure.js';

const roleOf = (j) => (j % 10 === 0 ? 'admin' : j % 3 === 0 ? 'worker' : 'member');

/**
 * Puts `members` people into one organization of a platform database through the service's own paths:
 * batched invites, then acceptances, 1000 per transaction. Returns the owner's token.
 */
export async function seedOrganization(dbFile, org, members, { ownerEmail = 'owner@bench.example' } = {}) {
  const { openPlatform } = await import(join(ROOT, 'dist/server/platform.js'));
  const platform = openPlatform({ db: dbFile });
  const { token } = platform.identity.init({ org, ownerEmail });
  const operator = platform.identity.authenticate(token);
  const start = performance.now();
  for (let i = 0; i < members - 1; i += 1000) {
    const invites = [];
    for (let j = i; j < Math.min(i + 1000, members - 1); j++) {
      invites.push({ email: `user${j}@bench.example`, role: roleOf(j), firstName: `First${j}`, lastName: `Last${j}` });
    }
    const results = platform.members.invite(operator, org, invites);
    const failed = results.find((r) => !r.ok);
    if (failed) throw new Error(`seeding failed: ${JSON.stringify(failed)}`);
    platform.db.transaction(() => {
      for (const inv of invites) platform.members.acceptByEmail(operator, org, inv.email);
    })();
  }
  const loadMs = performance.now() - start;
  platform.close();
  return { token, loadMs, roleOf };
}

/**
 * Puts `invites` open (pending) invites into one organization through the service's batched invite, 1000 per
 * transaction, as a bulk onboarding leaves it for days. Returns the owner's token.
 */
export async function seedPendingInvites(dbFile, org, invites, { ownerEmail = 'owner@bench.example' } = {}) {
  const { openPlatform } = await import(join(ROOT, 'dist/server/platform.js'));
  const platform = openPlatform({ db: dbFile });
  const { token } = platform.identity.init({ org, ownerEmail });
  const operator = platform.identity.authenticate(token);
  const start = performance.now();
  for (let i = 0; i < invites; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(i + 1000, invites); j++) batch.push({ email: `user${j}@bench.example`, role: roleOf(j), firstName: `First${j}`, lastName: `Last${j}` });
    const failed = platform.members.invite(operator, org, batch).find((r) => !r.ok);
    if (failed) throw new Error(`seeding failed: ${JSON.stringify(failed)}`);
  }
  const loadMs = performance.now() - start;
  platform.close();
  return { token, loadMs, roleOf };
}

/**
 * `orgs` organizations (`org-000`, ...) of `members` accepted members each (the owner included), through the
 * service. Returns the owner's token (a superuser, owner of every one).
 */
export async function seedOrganizations(dbFile, orgs, members, { ownerEmail = 'owner@bench.example' } = {}) {
  const { openPlatform } = await import(join(ROOT, 'dist/server/platform.js'));
  const platform = openPlatform({ db: dbFile });
  const names = Array.from({ length: orgs }, (_, i) => `org-${String(i).padStart(3, '0')}`);
  const { token } = platform.identity.init({ org: names[0], ownerEmail });
  const operator = platform.identity.authenticate(token);
  const start = performance.now();
  for (const [k, org] of names.entries()) {
    if (k > 0) platform.orgs.create(operator, { name: org, plan: 'freemium' });
    const invites = [];
    for (let j = 0; j < members - 1; j++) invites.push({ email: `user${j}@${org}.example`, role: roleOf(j), firstName: `First${j}`, lastName: `Last${j}` });
    const failed = platform.members.invite(operator, org, invites).find((r) => !r.ok);
    if (failed) throw new Error(`seeding failed: ${JSON.stringify(failed)}`);
    platform.db.transaction(() => {
      for (const inv of invites) platform.members.acceptByEmail(operator, org, inv.email);
    })();
  }
  const loadMs = performance.now() - start;
  platform.close();
  return { token, loadMs, roleOf, names };
}

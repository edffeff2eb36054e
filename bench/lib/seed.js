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

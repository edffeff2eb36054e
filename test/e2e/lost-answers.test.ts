import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredMember, DesiredOrg } from '../../src/model/desired.js';
import { BUILTIN_CAPABILITIES } from '../../src/platform/builtin/capabilities.js';
import { HttpLeases, HttpPlatform, readBuiltinError } from '../../src/platform/builtin/http.js';
import { LocalCredentials } from '../../src/platform/credentials.js';
import { HttpClient } from '../../src/platform/http/client.js';
import { reconcile } from '../../src/plan/reconcile.js';
import { Database } from '../../src/server/sqlite.js';
import { tempDir } from './cli.js';
import { serve, type Served } from './server.js';

/** The built-in platform over HTTP, as an adapter of a platform that does not deduplicate writes would see it. */
class NoDedupPlatform extends HttpPlatform {
  override readonly capabilities = { ...BUILTIN_CAPABILITIES, idempotentWrites: false };
}

describe('a write whose answer is lost, on a platform that does not deduplicate writes', () => {
  let server: Served;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir();
    // Every invite batch is done, then its connection dropped: the client never hears the answer.
    server = await serve(dir, { extraArgs: ['--faults', 'POST /api/v1/orgs/*/invites/batch: drop-after=1'] });
  });
  afterAll(async () => server?.stop());

  it('is not sent again: the organization is read, and what it shows done counts as applied', async () => {
    const client = new HttpClient({
      baseUrl: server.url,
      auth: () => ({ authorization: `Bearer ${server.token}` }),
      readError: readBuiltinError,
      idempotentWrites: false,
      sleep: async () => undefined,
    });
    const platform = new NoDedupPlatform(client);
    const people = ['ops@platform.example', 'a@acme.example', 'b@acme.example', 'c@acme.example'];
    const org: DesiredOrg = {
      name: 'acme',
      membersPolicy: 'additive',
      ignore: [],
      integrationsPolicy: 'additive',
      integrations: new Map(),
      members: new Map(people.map((email, i): [string, DesiredMember] => [email, { email, role: i === 0 ? 'owner' : 'member', projects: [] }])),
    };
    const outcome = await reconcile(
      { platform, locks: new HttpLeases(client), credentials: new LocalCredentials({}) },
      { desired: new Map([['acme', org]]) },
      { guards: { maxRemovals: { percent: 25 }, allowOwnerChanges: false }, lock: { holder: 'test', timeoutMs: 0, ttlMs: 30_000 } },
    );
    expect(outcome.failed).toEqual([]);
    expect(outcome.status).toBe('applied');
    expect(outcome.applied.filter((c) => c.action === 'invite').map((c) => c.target)).toEqual(['a@acme.example', 'b@acme.example', 'c@acme.example']);
    // One request for the batch, never repeated.
    expect(client.requestStats()['POST /orgs/:org/invites/batch']).toBe(1);
    await platform.close();
    const db = new Database(join(dir, 'server.db'));
    const sends = db.prepare("SELECT target, COUNT(*) AS n FROM audit WHERE action = 'invite.send' GROUP BY target ORDER BY target").all();
    db.close();
    expect(sends).toEqual([
      { target: 'a@acme.example', n: 1 },
      { target: 'b@acme.example', n: 1 },
      { target: 'c@acme.example', n: 1 },
    ]);
  });
});

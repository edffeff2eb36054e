import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedConnection, EmbeddedLeases } from '../../src/platform/builtin/embedded.js';
import { lockOrganizations, LockTimeoutError, type LeaseHeldError } from '../../src/platform/locks.js';

// Two platforms on one SQLite file: two applies on two machines sharing the platform.
describe('lockOrganizations', () => {
  let dir: string;
  let connections: EmbeddedConnection[] = [];
  let a: EmbeddedLeases;
  let b: EmbeddedLeases;
  const setup = () => {
    dir = mkdtempSync(join(tmpdir(), 'orgctl-lock-'));
    const env = { ORGCTL_PLATFORM_KEY: Buffer.alloc(32, 7).toString('base64') };
    connections = [new EmbeddedConnection(join(dir, 'p.db'), 'a@ops.example', env), new EmbeddedConnection(join(dir, 'p.db'), 'b@ops.example', env)];
    a = new EmbeddedLeases(connections[0]!);
    b = new EmbeddedLeases(connections[1]!);
  };
  afterEach(async () => {
    for (const c of connections) c.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails at once when another holds one of the organizations, releasing those it took', async () => {
    setup();
    const held = await lockOrganizations(a, ['beta'], { holder: 'apply A', timeoutMs: 0, ttlMs: 30_000 });
    const err = await lockOrganizations(b, ['gamma', 'alpha', 'beta'], { holder: 'apply B', timeoutMs: 0, ttlMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect((err as Error).message).toMatch(/^organization "beta" is locked by apply A since \d{4}-.*not waiting \(raise --lock-timeout to wait\)$/);
    // "alpha" was taken first (name order) and given back; "gamma" was never reached.
    const other = await lockOrganizations(a, ['alpha', 'gamma'], { holder: 'apply C', timeoutMs: 0, ttlMs: 30_000 });
    await other.release();
    await held.release();
  });

  it('waits for a held lock, telling once, and takes it when it is released', async () => {
    setup();
    const held = await lockOrganizations(a, ['acme'], { holder: 'apply A', timeoutMs: 0, ttlMs: 30_000 });
    const waits: LeaseHeldError[] = [];
    let sleeps = 0;
    const got = await lockOrganizations(b, ['acme'], {
      holder: 'apply B',
      timeoutMs: 60_000,
      ttlMs: 30_000,
      onWait: (e) => waits.push(e),
      sleep: async () => {
        if (++sleeps === 3) await held.release();
      },
    });
    expect(sleeps).toBe(3);
    expect(waits.map((w) => w.holder)).toEqual(['apply A']);
    await got.release();
  });

  it('notices a lost lease at the next renewal', async () => {
    setup();
    const held = await lockOrganizations(a, ['acme'], { holder: 'apply A', timeoutMs: 0, ttlMs: 1_000 });
    expect(held.lost()).toBeUndefined();
    await b.break('acme');
    const thief = await lockOrganizations(b, ['acme'], { holder: 'apply B', timeoutMs: 0, ttlMs: 30_000 });
    const start = Date.now();
    while (!held.lost() && Date.now() - start < 20_000) await new Promise((r) => setTimeout(r, 50));
    expect(held.lost()).toMatch(/lost the lock on "acme": .*apply B holds it now/);
    await held.release(); // does not free the thief's lease
    await expect(lockOrganizations(a, ['acme'], { holder: 'apply C', timeoutMs: 0, ttlMs: 30_000 })).rejects.toThrow(/locked by apply B/);
    await thief.release();
  });
});

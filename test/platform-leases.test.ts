import { afterEach, describe, expect, it } from 'vitest';
import { addMember, startPlatform, type Harness } from './helpers/platform.js';

describe('apply leases (one apply per organization at a time)', () => {
  let h: Harness;
  afterEach(async () => h?.close());
  const lease = (id: string, holder = `holder-${id}`, ttlSeconds = 30) => ({ id, holder, ttlSeconds });

  it('refuses a second holder with 409 naming the first and since when, until the lease runs out', async () => {
    h = await startPlatform();
    const first = await h.su.post(`/api/v1/orgs/${h.org}/lease`, lease('a', 'alice (orgctl apply, pid 1)'));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ organization: h.org, id: 'a', holder: 'alice (orgctl apply, pid 1)' });
    const since = first.body.since as string;

    const second = await h.su.post(`/api/v1/orgs/${h.org}/lease`, lease('b'));
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: 'lease_held', details: { holder: 'alice (orgctl apply, pid 1)', since } });
    expect(second.body.error.message).toContain(`locked by alice (orgctl apply, pid 1) since ${since}`);

    // Re-taking one's own lease is a renewal; it keeps its "since".
    h.clock.advance(10_000);
    expect((await h.su.post(`/api/v1/orgs/${h.org}/lease`, lease('a', 'alice (orgctl apply, pid 1)'))).body.since).toBe(since);

    // Unrenewed, it runs out: the holder was killed. Then someone else may take it, and the old holder has lost it.
    h.clock.advance(30_001);
    expect((await h.su.get(`/api/v1/orgs/${h.org}/lease`)).status).toBe(404);
    expect((await h.su.post(`/api/v1/orgs/${h.org}/lease`, lease('b'))).status).toBe(200);
    const renew = await h.su.put(`/api/v1/orgs/${h.org}/lease/a`, { ttlSeconds: 30 });
    expect(renew.status).toBe(409);
    expect(renew.body.error.code).toBe('lease_lost');
  });

  it('renews, releases (twice is fine) and can be broken by force', async () => {
    h = await startPlatform();
    await h.su.post(`/api/v1/orgs/${h.org}/lease`, lease('a', 'alice', 5));
    h.clock.advance(4_000);
    const renewed = await h.su.put(`/api/v1/orgs/${h.org}/lease/a`, { ttlSeconds: 5 });
    expect(renewed.status).toBe(200);
    h.clock.advance(4_000); // 8 s after taking it, alive thanks to the renewal
    expect((await h.su.post(`/api/v1/orgs/${h.org}/lease`, lease('b'))).status).toBe(409);
    expect((await h.su.delete(`/api/v1/orgs/${h.org}/lease/a`)).status).toBe(204);
    expect((await h.su.delete(`/api/v1/orgs/${h.org}/lease/a`)).status).toBe(204);
    expect((await h.su.post(`/api/v1/orgs/${h.org}/lease`, lease('b'))).status).toBe(200);
    // Releasing with the wrong id does not free someone else's lease.
    await h.su.delete(`/api/v1/orgs/${h.org}/lease/a`);
    expect((await h.su.get(`/api/v1/orgs/${h.org}/lease`)).body.id).toBe('b');
    const forced = await h.su.delete(`/api/v1/orgs/${h.org}/lease`);
    expect(forced.body.removed).toMatchObject({ id: 'b' });
    expect((await h.su.get(`/api/v1/orgs/${h.org}/lease`)).status).toBe(404);
  });

  it('lets owners and admins lock, not members; anyone may lock a name no organization has yet', async () => {
    h = await startPlatform();
    const admin = await addMember(h, 'admin@acme.example', 'admin');
    const member = await addMember(h, 'member@acme.example', 'member');
    expect((await h.as(member).post(`/api/v1/orgs/${h.org}/lease`, lease('m'))).status).toBe(403);
    expect((await h.as(admin).post(`/api/v1/orgs/${h.org}/lease`, lease('x'))).status).toBe(200);
    expect((await h.as(member).post('/api/v1/orgs/not-yet/lease', lease('n'))).status).toBe(200);
  });

  it('refuses bad bodies with the field named', async () => {
    h = await startPlatform();
    const tooLong = await h.su.post(`/api/v1/orgs/${h.org}/lease`, lease('a', 'x', 3601));
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.details.field).toBe('body.ttlSeconds');
    const badId = await h.su.post(`/api/v1/orgs/${h.org}/lease`, lease('has space'));
    expect(badId.status).toBe(400);
    expect(badId.body.error.details.field).toBe('body.id');
    expect((await h.su.post(`/api/v1/orgs/${h.org}/lease`, { id: 'a', holder: 'h' })).status).toBe(400);
  });
});

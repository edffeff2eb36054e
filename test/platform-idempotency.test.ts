import { afterEach, describe, expect, it } from 'vitest';
import { startPlatform, type Harness } from './helpers/platform.js';

describe('Idempotency-Key on writes', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('answers a retried write from its record: one invite, one audit entry, the same answer', async () => {
    h = await startPlatform();
    const body = { email: 'retry@acme.example', role: 'member' };
    const first = await h.su.post(`/api/v1/orgs/${h.org}/invites`, body, { headers: { 'idempotency-key': 'k-1' } });
    expect(first.status).toBe(201);
    const again = await h.su.post(`/api/v1/orgs/${h.org}/invites`, body, { headers: { 'idempotency-key': 'k-1' } });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    const audit = await h.su.get(`/api/v1/orgs/${h.org}/audit?action=invite.send`);
    expect(audit.body.items.filter((e: { target: string }) => e.target === 'retry@acme.example')).toHaveLength(1);
    // Without the key, the same request is a new one: the invite exists.
    expect((await h.su.post(`/api/v1/orgs/${h.org}/invites`, body)).status).toBe(409);
  });

  it('refuses a key reused for another request, and keeps keys per user', async () => {
    h = await startPlatform();
    const a = await h.su.post(`/api/v1/orgs/${h.org}/invites`, { email: 'a@acme.example', role: 'member' }, { headers: { 'idempotency-key': 'k-2' } });
    expect(a.status).toBe(201);
    const reused = await h.su.post(`/api/v1/orgs/${h.org}/invites`, { email: 'b@acme.example', role: 'member' }, { headers: { 'idempotency-key': 'k-2' } });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('idempotency_key_reused');
    const tooLong = await h.su.post(`/api/v1/orgs/${h.org}/invites`, { email: 'c@acme.example', role: 'member' }, { headers: { 'idempotency-key': 'x'.repeat(201) } });
    expect(tooLong.status).toBe(400);
    // Another user's identical key is their own.
    const { token } = h.platform.identity.createToken('other@else.example', 't');
    const mine = await h.as(token).post('/api/v1/orgs', { name: 'other-org' }, { headers: { 'idempotency-key': 'k-2' } });
    expect(mine.status).toBe(201);
  });

  it('stores the answer in the change\'s own transaction: when the record cannot be written, nothing is changed', async () => {
    h = await startPlatform();
    // Stands in for a crash between the change and its record: the record's insert fails.
    h.platform.ctx.db.exec("CREATE TRIGGER no_records BEFORE INSERT ON idempotency BEGIN SELECT RAISE(ABORT, 'disk gone'); END");
    const body = { email: 'atomic@acme.example', role: 'member' };
    const failed = await h.su.post(`/api/v1/orgs/${h.org}/invites`, body, { headers: { 'idempotency-key': 'k-3' } });
    expect(failed.status).toBe(500);
    const open = await h.su.get(`/api/v1/orgs/${h.org}/invites`);
    expect(open.body.items.map((i: { email: string }) => i.email)).not.toContain('atomic@acme.example');
    h.platform.ctx.db.exec('DROP TRIGGER no_records');
    // The retry does the change for real, once.
    expect((await h.su.post(`/api/v1/orgs/${h.org}/invites`, body, { headers: { 'idempotency-key': 'k-3' } })).status).toBe(201);
    const audit = await h.su.get(`/api/v1/orgs/${h.org}/audit?action=invite.send`);
    expect(audit.body.items.filter((e: { target: string }) => e.target === 'atomic@acme.example')).toHaveLength(1);
  });

  it('replays empty answers (204) and batch answers exactly', async () => {
    h = await startPlatform();
    const headers = { 'idempotency-key': 'k-4' };
    expect((await h.su.post(`/api/v1/orgs/${h.org}/integrations`, { name: 'kv', type: 'key_value', options: {}, credentials: { key: 'v' } })).status).toBe(201);
    const del = await h.su.delete(`/api/v1/orgs/${h.org}/integrations/kv`, undefined, { headers });
    expect(del.status).toBe(204);
    const again = await h.su.delete(`/api/v1/orgs/${h.org}/integrations/kv`, undefined, { headers });
    expect(again.status).toBe(204);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const batch = { invites: [{ email: 'b1@acme.example', role: 'member' }, { email: 'b2@acme.example', role: 'worker' }] };
    const first = await h.su.post(`/api/v1/orgs/${h.org}/invites/batch`, batch, { headers: { 'idempotency-key': 'k-5' } });
    const replay = await h.su.post(`/api/v1/orgs/${h.org}/invites/batch`, batch, { headers: { 'idempotency-key': 'k-5' } });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.text).toBe(first.text);
  });
});

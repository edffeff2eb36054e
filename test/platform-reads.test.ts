/**
 * How the built-in platform reads and writes people in bulk: invite pages in one query each (not one per
 * invite), the reconciler's snapshot read straight into maps, and batches that write their audit and outbox
 * rows together, one random draw for their links, with nothing left behind by a failed item.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hashToken, inviteTokenHash } from '../src/server/crypto.js';
import { addMember, DAY_MS, seedMembers, startPlatform, stateVersion, type Harness } from './helpers/platform.js';

let h: Harness;
beforeEach(async () => {
  h = await startPlatform();
});
afterEach(async () => h.close());

const o = () => `/api/v1/orgs/${h.org}`;

/** Counts the statements services ask for (each is then run once) while `fn` runs. */
function statementsDuring(fn: () => void): number {
  const stmt = vi.spyOn(h.platform.ctx, 'stmt');
  const raw = vi.spyOn(h.platform.ctx, 'rawStmt');
  try {
    fn();
    return stmt.mock.calls.length + raw.mock.calls.length;
  } finally {
    stmt.mockRestore();
    raw.mockRestore();
  }
}

describe('invite pages', () => {
  it('one query a page, whatever the number of invites; projects by name and the inviter joined in', async () => {
    const su = h.superActor();
    h.platform.projects.create(su, { name: 'vision', organization: h.org });
    h.platform.projects.create(su, { name: 'audio', organization: h.org });
    const invites = Array.from({ length: 300 }, (_, i) => ({
      email: `p${String(i).padStart(3, '0')}@acme.example`,
      role: 'member' as const,
      ...(i % 3 === 0 ? { projects: [{ project: 'vision', role: 'annotator' as const }, { project: 'audio', role: 'reviewer' as const }] } : {}),
    }));
    expect(h.platform.members.invite(su, h.org, invites).every((r) => r.ok)).toBe(true);
    h.clock.advance(8 * DAY_MS);
    expect(h.platform.members.invite(su, h.org, [{ email: 'fresh@acme.example', role: 'worker' }])[0]!.ok).toBe(true);

    let page: ReturnType<typeof h.platform.members.listInvites> | undefined;
    // orgByName, the role check and the page itself: not one more per invite.
    expect(statementsDuring(() => (page = h.platform.members.listInvites(su, h.org, { limit: 1000, status: 'open' })))).toBeLessThanOrEqual(3);
    expect(page!.items).toHaveLength(301);
    expect(page!.items[0]).toMatchObject({
      email: 'fresh@acme.example',
      status: 'pending',
      createdBy: h.superEmail,
      projects: [],
    });
    expect(page!.items[1]).toMatchObject({
      email: 'p000@acme.example',
      status: 'expired',
      createdBy: h.superEmail,
      projects: [
        { project: 'vision', role: 'annotator' },
        { project: 'audio', role: 'reviewer' },
      ],
    });
    expect(page!.items[2]!.projects).toEqual([]);

    // Over HTTP: the same page, with a cursor.
    const first = await h.su.get(`${o()}/invites?status=open&limit=200`);
    expect(first.status, first.text).toBe(200);
    const second = await h.su.get(`${o()}/invites?status=open&limit=200&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect([...first.body.items, ...second.body.items]).toEqual(JSON.parse(JSON.stringify(page!.items)));
    expect(second.body.nextCursor).toBeNull();
  });

  it("the reconciler's snapshot: the compared fields of every member and open invite, straight into maps", () => {
    const su = h.superActor();
    h.platform.projects.create(su, { name: 'vision', organization: h.org });
    seedMembers(h, ['m1@acme.example', 'm2@acme.example'], 'worker');
    h.platform.members.invite(su, h.org, [
      { email: 'old@acme.example', role: 'admin' },
      { email: 'gone@acme.example', role: 'member' },
    ]);
    h.platform.members.cancel(su, h.org, ['gone@acme.example']);
    h.clock.advance(8 * DAY_MS);
    h.platform.members.invite(su, h.org, [{ email: 'new@acme.example', role: 'member', projects: [{ project: 'vision', role: 'manager' }] }]);

    const org = h.platform.ctx.orgByName(h.org);
    const { members, invites } = h.platform.db.transaction(() => h.platform.members.observe(su, org))();
    expect([...members.values()]).toEqual([
      { email: 'm1@acme.example', role: 'worker', creator: false, firstName: '', lastName: '', description: '' },
      { email: 'm2@acme.example', role: 'worker', creator: false, firstName: '', lastName: '', description: '' },
      { email: h.superEmail, role: 'owner', creator: true, firstName: '', lastName: '', description: '' },
    ]);
    expect([...invites.values()]).toEqual([
      { email: 'new@acme.example', role: 'member', status: 'pending', projects: [{ project: 'vision', role: 'manager' }] },
      { email: 'old@acme.example', role: 'admin', status: 'expired', projects: [] },
    ]);
  });
});

describe('batched writes', () => {
  it('a batch of invites: audit and outbox rows for the items done only, the version moved once per item, distinct links', async () => {
    const before = await stateVersion(h);
    const res = await h.su.post(`${o()}/invites/batch`, {
      invites: [
        { email: 'a@acme.example', role: 'member' },
        { email: 'b@acme.example', role: 'member', projects: [{ project: 'missing', role: 'annotator' }] },
        { email: 'c@acme.example', role: 'worker' },
        { email: 'a@acme.example', role: 'admin' },
        { email: 'd@acme.example', role: 'member' },
      ],
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.results.map((r: { ok: boolean }) => r.ok)).toEqual([true, false, true, false, true]);
    expect(res.body.results[0].result).toMatchObject({ email: 'a@acme.example', role: 'member', status: 'pending', sendCount: 1, createdBy: h.superEmail, projects: [] });
    expect(await stateVersion(h)).toBe(before + 3);
    expect(res.body.stateVersion).toBe(before + 3);

    const db = h.platform.db;
    const audit = db.prepare("SELECT target FROM audit WHERE action = 'invite.send' ORDER BY id").pluck().all();
    expect(audit).toEqual(['a@acme.example', 'c@acme.example', 'd@acme.example']);
    const outbox = db.prepare('SELECT to_email FROM outbox ORDER BY id').pluck().all();
    expect(outbox).toEqual(['a@acme.example', 'c@acme.example', 'd@acme.example']);
    expect(h.mailbox.map((m) => m.to)).toEqual(['a@acme.example', 'c@acme.example', 'd@acme.example']);
    const links = new Set(h.mailbox.map((m) => m.token));
    expect(links.size).toBe(3);
    // One draw for the batch: the links share their random group, and each has its own secret.
    for (const link of links) expect(link).toMatch(/^invite_[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{43}$/);
    expect(new Set([...links].map((l) => l.slice(0, 18))).size).toBe(1);

    // Each link is the one stored (hashed) for its invite.
    for (const mail of h.mailbox) {
      const accepted = await h.as().post('/api/v1/invites/accept', { token: mail.token });
      expect(accepted.status, accepted.text).toBe(200);
      expect(accepted.body.email).toBe(mail.to);
    }
  });

  it('links of a batch are stored grouped, never as they are; a link made before groups still works', async () => {
    const r = await h.su.post(`${o()}/invites/batch`, { invites: [{ email: 'x@acme.example', role: 'member' }, { email: 'y@acme.example', role: 'member' }] });
    expect(r.status, r.text).toBe(200);
    const db = h.platform.db;
    const stored = db.prepare("SELECT token_hash FROM invites WHERE email IN ('x@acme.example', 'y@acme.example') ORDER BY email").pluck().all() as string[];
    const [x, y] = h.mailbox.map((m) => m.token);
    expect(stored).toEqual([inviteTokenHash(x!), inviteTokenHash(y!)]);
    expect(stored[0]).toMatch(/^[A-Za-z0-9_-]{11}\.[0-9a-f]{64}$/);
    expect(stored[0]!.slice(0, 11)).toBe(stored[1]!.slice(0, 11));
    for (const [i, link] of [x!, y!].entries()) expect(stored[i]).not.toContain(link.slice(19));

    // An invite whose link was stored as a plain hash (made by an earlier version) is accepted by it.
    const old = 'invite_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    db.prepare("UPDATE invites SET token_hash = ? WHERE email = 'y@acme.example'").run(hashToken(old));
    expect(inviteTokenHash(old)).toBe(hashToken(old));
    const accepted = await h.as().post('/api/v1/invites/accept', { token: old });
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body.email).toBe('y@acme.example');
    // A group with another link's secret is nobody's.
    const forged = `invite_${x!.slice(7, 18)}.${'B'.repeat(43)}`;
    expect((await h.as().post('/api/v1/invites/accept', { token: forged })).status).toBe(404);
  });

  it('a batch written in many statements: 250 invites, 250 audit rows, one version step each', async () => {
    const before = await stateVersion(h);
    const invites = Array.from({ length: 250 }, (_, i) => ({ email: `bulk${i}@acme.example`, role: 'member' }));
    const res = await h.su.post(`${o()}/invites/batch`, { invites });
    expect(res.status, res.text).toBe(200);
    expect(await stateVersion(h)).toBe(before + 250);
    const db = h.platform.db;
    expect(db.prepare("SELECT COUNT(*) FROM audit WHERE action = 'invite.send'").pluck().get()).toBe(250);
    expect(db.prepare('SELECT COUNT(*) FROM outbox').pluck().get()).toBe(250);
    // Cancelling and removing are batched the same way.
    const cancel = await h.su.post(`${o()}/invites/batch-cancel`, { emails: [...invites.slice(0, 120).map((i) => i.email), 'nobody@acme.example'] });
    expect(cancel.body.results.filter((r: { ok: boolean }) => r.ok)).toHaveLength(120);
    expect(await stateVersion(h)).toBe(before + 370);
    expect(db.prepare("SELECT COUNT(*) FROM audit WHERE action = 'invite.cancel'").pluck().get()).toBe(120);
  });

  it('a batch refused whole (a worker may not invite) writes nothing', async () => {
    const token = await addMember(h, 'w2@acme.example', 'worker');
    const before = await stateVersion(h);
    const auditBefore = h.platform.db.prepare('SELECT COUNT(*) FROM audit').pluck().get();
    const res = await h.as(token).post(`${o()}/invites/batch`, { invites: [{ email: 'x@acme.example', role: 'member' }] });
    expect(res.status).toBe(403);
    expect(await stateVersion(h)).toBe(before);
    expect(h.platform.db.prepare('SELECT COUNT(*) FROM audit').pluck().get()).toBe(auditBefore);
  });
});

describe('?fields= on member and invite pages', () => {
  it('pages hold just the fields asked for; an unknown one is a 400 naming the known ones', async () => {
    seedMembers(h, ['m1@acme.example'], 'worker');
    h.platform.members.invite(h.superActor(), h.org, [{ email: 'i1@acme.example', role: 'admin', firstName: 'Ida' }]);
    const members = await h.su.get(`${o()}/members?fields=email,role,creator`);
    expect(members.status, members.text).toBe(200);
    expect(members.body.items).toEqual([
      { email: 'm1@acme.example', role: 'worker', creator: false },
      { email: h.superEmail, role: 'owner', creator: true },
    ]);
    const invites = await h.su.get(`${o()}/invites?status=open&fields=email,status,projects`);
    expect(invites.status, invites.text).toBe(200);
    expect(invites.body.items).toEqual([{ email: 'i1@acme.example', status: 'pending', projects: [] }]);
    // Paging works whatever the fields: the cursor does not depend on them.
    const first = await h.su.get(`${o()}/members?fields=role&limit=1`);
    const next = await h.su.get(`${o()}/members?fields=role&limit=1&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect([first.body.items, next.body.items]).toEqual([[{ role: 'worker' }], [{ role: 'owner' }]]);

    const bad = await h.su.get(`${o()}/invites?fields=email,secret`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('fields');
    expect(bad.body.error.message).toContain('unknown field "secret"; fields: id, email, role, status');
  });
});

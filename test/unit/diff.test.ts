import { describe, expect, it } from 'vitest';
import { diffOrganization, nextExpiry } from '../../src/plan/diff.js';
import { checkGuards, parseRemovalLimit } from '../../src/plan/guards.js';
import type { ActualOrg } from '../../src/model/actual.js';
import type { DesiredMember, DesiredOrg } from '../../src/model/desired.js';
import type { Role } from '../../src/model/roles.js';

function desired(members: [string, Role][], extra: Partial<DesiredOrg> = {}): DesiredOrg {
  return {
    name: 'acme',
    membersPolicy: 'additive',
    ignore: [],
    integrationsPolicy: 'additive',
    integrations: new Map(),
    ...extra,
    members: new Map(members.map(([email, role]): [string, DesiredMember] => [email, { email, role, projects: [] }])),
  };
}

function actual(members: [string, Role, boolean?][], extra: Partial<ActualOrg> = {}): ActualOrg {
  return {
    name: 'acme',
    displayName: 'Acme',
    plan: 'freemium',
    creator: members[0]?.[0] ?? 'root@x.example',
    cache: { enabled: false, podType: null },
    stateVersion: 7,
    invites: new Map(),
    integrations: new Map(),
    ...extra,
    members: new Map(
      members.map(([email, role, creator]) => [email, { email, role, creator: creator ?? false, firstName: '', lastName: '', description: '' }]),
    ),
  };
}

describe('diffOrganization', () => {
  it('plans nothing when desired equals actual', () => {
    expect(diffOrganization(desired([['a@x.example', 'owner']]), actual([['a@x.example', 'owner', true]]))).toEqual([]);
  });

  it('creates a missing organization and invites everyone', () => {
    const changes = diffOrganization(desired([['a@x.example', 'owner'], ['b@x.example', 'member']], { displayName: 'Acme' }), undefined);
    expect(changes.map((c) => `${c.action} ${c.target}`)).toEqual(['create-organization acme', 'invite a@x.example', 'invite b@x.example']);
  });

  it('orders promotions before demotions before removals, and integration deletions last', () => {
    const d = desired(
      [
        ['root@x.example', 'owner'],
        ['up@x.example', 'owner'],
        ['down@x.example', 'worker'],
      ],
      { membersPolicy: 'authoritative', integrationsPolicy: 'authoritative', integrations: new Map([['kv', { name: 'kv', type: 'key_value', options: {}, credentialsRef: { env: { value: 'KV_VALUE' } } }]]) },
    );
    const a = actual(
      [
        ['root@x.example', 'owner', true],
        ['up@x.example', 'member'],
        ['down@x.example', 'owner'],
        ['gone@x.example', 'admin'],
      ],
      {
        integrations: new Map([
          ['kv', { name: 'kv', type: 'key_value', options: {}, credentialsFingerprint: 'opaque' }],
          ['old', { name: 'old', type: 's3', options: { bucket: 'b' }, credentialsFingerprint: null }],
        ]),
      },
    );
    // The platform said the stored credentials differ from the declared ones.
    expect(diffOrganization(d, a, { credentials: new Map([['kv', 'differ']]) }).map((c) => `${c.action} ${c.target}`)).toEqual([
      'update-integration kv',
      'update-role up@x.example',
      'update-role down@x.example',
      'remove-member gone@x.example',
      'delete-integration old',
    ]);
  });

  it('treats invites as first-class: expired -> resend, wrong role -> reinvite, right role -> nothing', () => {
    const d = desired([
      ['exp@x.example', 'member'],
      ['wrong@x.example', 'admin'],
      ['ok@x.example', 'member'],
    ]);
    const a = actual([['root@x.example', 'owner', true]], {
      invites: new Map([
        ['exp@x.example', { email: 'exp@x.example', role: 'member', status: 'expired', projects: [] }],
        ['wrong@x.example', { email: 'wrong@x.example', role: 'member', status: 'pending', projects: [] }],
        ['ok@x.example', { email: 'ok@x.example', role: 'member', status: 'pending', projects: [] }],
      ]),
    });
    expect(diffOrganization(d, a).map((c) => `${c.action} ${c.target}`)).toEqual(['reinvite wrong@x.example', 'resend-invite exp@x.example']);
  });

  it('additive never removes or cancels; authoritative does, except ignored globs', () => {
    const a = actual([['root@x.example', 'owner', true], ['stray@x.example', 'member'], ['v1@vendor.example', 'worker']], {
      invites: new Map([['old@x.example', { email: 'old@x.example', role: 'member', status: 'pending', projects: [] }]]),
    });
    expect(diffOrganization(desired([['root@x.example', 'owner']]), a)).toEqual([]);
    const auth = diffOrganization(desired([['root@x.example', 'owner']], { membersPolicy: 'authoritative', ignore: ['*@vendor.example'] }), a);
    expect(auth.map((c) => `${c.action} ${c.target}`)).toEqual(['cancel-invite old@x.example', 'remove-member stray@x.example']);
  });

  it('only compares the profile fields a manifest states', () => {
    const d = desired([['a@x.example', 'owner']]);
    d.members.get('a@x.example')!.firstName = 'Ada';
    const a = actual([['a@x.example', 'owner', true]]);
    a.members.get('a@x.example')!.lastName = 'Lovelace';
    const changes = diffOrganization(d, a);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ action: 'update-profile', before: { firstName: '' }, after: { firstName: 'Ada' } });
  });

  it('plans a credentials-only update only when the platform says they differ', () => {
    const kv = { name: 'kv', type: 'key_value', options: {}, credentialsRef: { env: { value: 'KV_VALUE' } } };
    const d = desired([['root@x.example', 'owner']], { integrations: new Map([['kv', kv]]) });
    const a = actual([['root@x.example', 'owner', true]], { integrations: new Map([['kv', { name: 'kv', type: 'key_value', options: {}, credentialsFingerprint: null }]]) });
    expect(diffOrganization(d, a, { credentials: new Map([['kv', 'differ']]) }).map((c) => c.reason)).toEqual(["credentials differ from the platform's"]);
    // An adapter declaring no way to compare (or values that could not be read) never makes an update for that alone.
    expect(diffOrganization(d, a, { credentials: new Map([['kv', 'unknown']]) })).toEqual([]);
    expect(diffOrganization(d, a, { credentials: new Map([['kv', 'match']]) })).toEqual([]);
    expect(diffOrganization(d, a)).toEqual([]);
  });

  it('never puts credential values in a change', () => {
    const d = desired([], { integrations: new Map([['s3', { name: 's3', type: 's3', options: {}, credentialsRef: { env: { secretAccessKey: 'S3_SECRET' } } }]]) });
    const changes = diffOrganization(d, actual([]));
    expect(JSON.stringify(changes)).not.toContain('CANARY'); // desired state holds no values at all any more
    expect(changes[0]!.after).toMatchObject({ credentials: 'env S3_SECRET' });
  });
});

describe('checkGuards', () => {
  const a = actual([
    ['root@x.example', 'owner', true],
    ['me@x.example', 'admin'],
    ['o2@x.example', 'owner'],
    ...Array.from({ length: 7 }, (_, i): [string, Role] => [`m${i}@x.example`, 'member']),
  ]);
  const states = new Map([['acme', a]]);
  const d = desired([['root@x.example', 'owner'], ['me@x.example', 'admin'], ['o2@x.example', 'owner']], { membersPolicy: 'authoritative' });
  const opts = { maxRemovals: { percent: 25 }, allowOwnerChanges: false, actor: 'me@x.example' };

  it('refuses removing more than the limit, and names the flag', () => {
    const v = checkGuards(diffOrganization(d, a), states, opts);
    expect(v.map((x) => x.guard)).toEqual(['max-removals']);
    expect(v[0]!.message).toContain('--max-removals');
    expect(checkGuards(diffOrganization(d, a), states, { ...opts, maxRemovals: { count: 7 } })).toEqual([]);
  });

  it('refuses removing or demoting the acting identity, and removing the creator', () => {
    const d2 = desired([['o2@x.example', 'owner'], ['me@x.example', 'member']], { membersPolicy: 'authoritative' });
    const v = checkGuards(diffOrganization(d2, a), states, { ...opts, maxRemovals: { count: 100 } });
    expect(v.map((x) => `${x.guard} ${x.target}`).sort()).toEqual(['creator root@x.example', 'owner-changes root@x.example', 'self me@x.example']);
  });

  it('refuses owner changes unless allowed', () => {
    const d3 = desired([['root@x.example', 'owner'], ['me@x.example', 'owner'], ['o2@x.example', 'admin']]);
    const changes = diffOrganization(d3, a);
    expect(checkGuards(changes, states, opts).map((x) => `${x.guard} ${x.target}`)).toEqual(['owner-changes me@x.example', 'owner-changes o2@x.example']);
    expect(checkGuards(changes, states, { ...opts, allowOwnerChanges: true })).toEqual([]);
  });

  it('parses --max-removals', () => {
    expect(parseRemovalLimit('25%')).toEqual({ percent: 25 });
    expect(parseRemovalLimit('10')).toEqual({ count: 10 });
    expect(parseRemovalLimit('abc')).toBeUndefined();
    expect(parseRemovalLimit('120%')).toBeUndefined();
  });
});

describe('time-bound access', () => {
  const org = () => {
    const d = desired([['root@x.example', 'owner'], ['temp@x.example', 'member'], ['inv@x.example', 'worker']]);
    d.members.get('temp@x.example')!.expiresAt = '2027-01-15T00:00:00.000Z';
    d.members.get('inv@x.example')!.expiresAt = '2027-02-01T00:00:00.000Z';
    return d;
  };
  const a = actual([['root@x.example', 'owner', true], ['temp@x.example', 'member']], {
    invites: new Map([['inv@x.example', { email: 'inv@x.example', role: 'worker', status: 'pending', projects: [] }]]),
  });

  it('leaves access alone until it ends, then removes the member and cancels the invite, whatever the policy', () => {
    expect(diffOrganization(org(), a, { now: Date.parse('2027-01-14T23:59:59Z') })).toEqual([]);
    expect(diffOrganization(org(), a, { now: Date.parse('2027-01-15T00:00:00Z') }).map((c) => `${c.action} ${c.target}: ${c.reason}`)).toEqual([
      'remove-member temp@x.example: access expired on 2027-01-15T00:00:00.000Z',
    ]);
    expect(diffOrganization(org(), a, { now: Date.parse('2027-03-01T00:00:00Z') }).map((c) => `${c.action} ${c.target}`)).toEqual([
      'cancel-invite inv@x.example',
      'remove-member temp@x.example',
    ]);
  });

  it('never invites someone whose access has ended, and knows when the next access ends', () => {
    expect(diffOrganization(org(), undefined, { now: Date.parse('2027-03-01T00:00:00Z'), actor: 'root@x.example' }).map((c) => c.action)).toEqual(['create-organization']);
    expect(nextExpiry(org(), Date.parse('2027-01-01T00:00:00Z'))).toBe(Date.parse('2027-01-15T00:00:00Z'));
    expect(nextExpiry(org(), Date.parse('2027-01-20T00:00:00Z'))).toBe(Date.parse('2027-02-01T00:00:00Z'));
    expect(nextExpiry(org(), Date.parse('2027-02-01T00:00:00Z'))).toBeUndefined();
  });
});

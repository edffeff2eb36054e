/** Built-in kinds of the kube-API test server the controller uses: Secrets, Events (core/v1 and events.k8s.io/v1), Leases. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, meta, watch, type Client } from './client.js';
import { KubeApiServer } from './server.js';
import type { Obj } from './status.js';

let kube: KubeApiServer;
let api: Client;

beforeAll(async () => {
  kube = await KubeApiServer.start({ namespaces: ['team-a'] });
  api = client(kube);
});
afterAll(() => kube.stop());

const SECRETS = '/api/v1/namespaces/team-a/secrets';
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/team-a/leases';
const CORE_EVENTS = '/api/v1/namespaces/team-a/events';
const EVENTS = '/apis/events.k8s.io/v1/namespaces/team-a/events';

const secret = (name: string, extra: Obj = {}) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, ...extra });

describe('Secrets', () => {
  it('returns data base64-encoded; stringData is write-only and overwrites data keys', async () => {
    const r = await api.post(SECRETS, secret('creds', { data: { accessKeyId: Buffer.from('AKIA-OLD').toString('base64'), region: 'ZXU=' }, stringData: { accessKeyId: 'AKIA-NEW', token: 'tök' } }));
    expect(r.status).toBe(201);
    expect(r.body.stringData).toBeUndefined();
    expect(r.body.type).toBe('Opaque');
    const data = r.body.data as Record<string, string>;
    expect(Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))).toEqual({ accessKeyId: 'AKIA-NEW', region: 'eu', token: 'tök' });
    const got = await api.get(`${SECRETS}/creds`);
    expect(got.body.stringData).toBeUndefined();
    expect(got.body.data).toEqual(data);
    // A list of a built-in kind: items carry no kind or apiVersion.
    const list = await api.get(SECRETS);
    expect(list.body).toMatchObject({ kind: 'SecretList', apiVersion: 'v1' });
    expect((list.body.items as Obj[])[0]!.kind).toBeUndefined();
    // Rotation through stringData on an update.
    const rotated = await api.put(`${SECRETS}/creds`, { ...got.body, stringData: { accessKeyId: 'AKIA-ROTATED' } });
    expect(Buffer.from((rotated.body.data as Record<string, string>).accessKeyId!, 'base64').toString()).toBe('AKIA-ROTATED');
    expect(Number(meta(rotated.body).resourceVersion)).toBeGreaterThan(Number(meta(got.body).resourceVersion));
  });

  it('refuses data that is not base64 (400), bad keys, missing type keys, a type change and changes of an immutable Secret (422)', async () => {
    const bad = await api.post(SECRETS, secret('bad64', { data: { k: 'not base64!' } }));
    expect([bad.status, bad.body.reason]).toEqual([400, 'BadRequest']);
    expect(bad.body.message).toMatch(/^Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte \d+$/);
    const key = await api.post(SECRETS, secret('badkey', { stringData: { 'bad key': 'v' } }));
    expect(key.status).toBe(422);
    expect(key.body.message).toContain('Secret "badkey" is invalid: data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters');
    const tls = await api.post(SECRETS, secret('tls', { type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'x' } }));
    expect(tls.body.message).toBe('Secret "tls" is invalid: data[tls.key]: Required value');
    const s = (await api.post(SECRETS, secret('typed', { stringData: { a: 'b' } }))).body;
    const retype = await api.put(`${SECRETS}/typed`, { ...s, type: 'orgctl.dev/credentials' });
    expect(retype.body.message).toBe('Secret "typed" is invalid: type: Invalid value: "orgctl.dev/credentials": field is immutable');
    const auth = await api.post(SECRETS, secret('auth', { type: 'kubernetes.io/basic-auth' }));
    expect(auth.body.message).toBe('Secret "auth" is invalid: [data[username]: Required value, data[password]: Required value]');
    const frozen = (await api.post(SECRETS, secret('frozen', { immutable: true, stringData: { a: 'b' } }))).body;
    const thaw = await api.put(`${SECRETS}/frozen`, { ...frozen, stringData: { a: 'c' } });
    expect(thaw.status).toBe(422);
    expect(thaw.body.message).toBe('Secret "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set');
  });

  it('supports watches and field selectors on type', async () => {
    const w = watch(kube, `${SECRETS}?fieldSelector=type%3Dorgctl.dev%2Fcredentials&resourceVersion=${kube.resourceVersion}`);
    await w.status;
    await api.post(SECRETS, secret('plain', { stringData: { a: 'b' } }));
    await api.post(SECRETS, secret('typed-creds', { type: 'orgctl.dev/credentials', stringData: { a: 'b' } }));
    const e = await w.next();
    expect([e.type, meta(e.object).name, e.object.kind]).toEqual(['ADDED', 'typed-creds', 'Secret']);
    expect(e.object.stringData).toBeUndefined();
    w.close();
  });
});

describe('Leases', () => {
  const lease = (name: string, spec: Obj) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec });

  it('are ordinary objects: validated durations, 409 AlreadyExists for a racing create and 409 Conflict for a racing update', async () => {
    const invalid = await api.post(LEASES, lease('bad', { leaseDurationSeconds: 0, leaseTransitions: -1 }));
    expect(invalid.status).toBe(422);
    expect(invalid.body.message).toBe(
      'Lease.coordination.k8s.io "bad" is invalid: [spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0, spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0]',
    );
    const spec = { holderIdentity: 'orgctl-0', leaseDurationSeconds: 15, acquireTime: '2026-11-28T10:00:00.123Z', renewTime: '2026-11-28T10:00:00.123456Z', leaseTransitions: 0 };
    const [a, b] = await Promise.all([api.post(LEASES, lease('orgctl-controller', spec)), api.post(LEASES, lease('orgctl-controller', { ...spec, holderIdentity: 'orgctl-1' }))]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const lost = [a, b].find((r) => r.status === 409)!;
    expect(lost.body).toMatchObject({ reason: 'AlreadyExists', message: 'leases.coordination.k8s.io "orgctl-controller" already exists', details: { group: 'coordination.k8s.io', kind: 'leases' } });
    const won = [a, b].find((r) => r.status === 201)!.body;
    // MicroTime: microseconds, UTC.
    expect((won.spec as Obj).acquireTime).toBe('2026-11-28T10:00:00.123000Z');
    expect((won.spec as Obj).renewTime).toBe('2026-11-28T10:00:00.123456Z');
    const renew = (holder: string) => api.put(`${LEASES}/orgctl-controller`, { ...won, spec: { ...(won.spec as Obj), holderIdentity: holder, renewTime: new Date().toISOString() } });
    const [r1, r2] = await Promise.all([renew('orgctl-0'), renew('orgctl-1')]);
    expect([r1.status, r2.status].sort()).toEqual([200, 409]);
    expect([r1, r2].find((r) => r.status === 409)!.body.message).toBe(
      'Operation cannot be fulfilled on leases.coordination.k8s.io "orgctl-controller": the object has been modified; please apply your changes to the latest version and try again',
    );
    // Strategic merge patch works on built-in kinds.
    const patched = await api.patch(`${LEASES}/orgctl-controller`, { spec: { leaseTransitions: 1 } }, 'application/strategic-merge-patch+json');
    expect(patched.status).toBe(200);
    expect((patched.body.spec as Obj).leaseTransitions).toBe(1);
  });
});

describe('Events', () => {
  const involved = { apiVersion: 'orgctl.dev/v1alpha1', kind: 'Organization', name: 'acme', namespace: 'team-a', uid: 'u-1' };

  it('core/v1: the event namespace must match involvedObject.namespace; new-style events need the reporting fields', async () => {
    const ok = await api.post(CORE_EVENTS, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'acme.1' }, involvedObject: involved, reason: 'Applied', message: 'invited 3 people', type: 'Normal', count: 1, source: { component: 'orgctl-controller' }, firstTimestamp: '2026-11-28T10:00:00Z', lastTimestamp: '2026-11-28T10:00:00Z' });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ eventTime: null, reportingComponent: '', reportingInstance: '', count: 1 });
    const mismatch = await api.post(CORE_EVENTS, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'acme.2' }, involvedObject: { ...involved, namespace: 'team-b' }, reason: 'Applied' });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.message).toBe('Event "acme.2" is invalid: involvedObject.namespace: Invalid value: "team-b": does not match event.namespace');
    const newStyle = await api.post(CORE_EVENTS, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'acme.3' }, involvedObject: involved, eventTime: '2026-11-28T10:00:00.000001Z', type: 'Normal' });
    expect(newStyle.status).toBe(422);
    expect(((newStyle.body.details as Obj).causes as Obj[]).map((c) => c.field)).toEqual(['reportingController', 'reportingController', 'reportingController', 'reportingInstance', 'action', 'reason']);
  });

  it('events.k8s.io/v1: eventTime, type Normal|Warning, reportingController/Instance, action, reason <= 128, note <= 1024; the same events are seen through core/v1', async () => {
    const base = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      eventTime: '2026-11-28T10:00:00.5Z',
      type: 'Warning',
      reportingController: 'orgctl.dev/controller',
      reportingInstance: 'orgctl-controller-0',
      action: 'Apply',
      reason: 'GuardTripped',
      regarding: involved,
      note: 'max-removals: removing 40 of 100 members; raise --max-removals',
    };
    const ok = await api.post(EVENTS, { ...base, metadata: { name: 'acme.guard' } });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ apiVersion: 'events.k8s.io/v1', regarding: involved, note: base.note, eventTime: '2026-11-28T10:00:00.500000Z', reportingController: 'orgctl.dev/controller' });
    const core = await api.get(`${CORE_EVENTS}/acme.guard`);
    expect(core.body).toMatchObject({ apiVersion: 'v1', involvedObject: involved, message: base.note, reportingComponent: 'orgctl.dev/controller', reason: 'GuardTripped' });
    const bad = await api.post(EVENTS, {
      ...base,
      metadata: { name: 'acme.bad' },
      type: 'Info',
      reportingController: '',
      reportingInstance: undefined,
      action: undefined,
      reason: 'R'.repeat(129),
      note: 'n'.repeat(1025),
    });
    expect(bad.status).toBe(422);
    expect(((bad.body.details as Obj).causes as Obj[]).map((c) => `${String(c.field)}: ${String(c.message)}`)).toEqual([
      'reportingController: Required value',
      'reportingController: Invalid value: "": name part must be non-empty',
      expect.stringMatching(/^reportingController: Invalid value: "": name part must consist of alphanumeric characters/),
      'reportingInstance: Required value',
      'action: Required value',
      'reason: Invalid value: "": can have at most 128 characters',
      'message: Invalid value: "": can have at most 1024 characters',
      'type: Invalid value: "": has invalid value: Info',
    ]);
    const noTime = await api.post(EVENTS, { ...base, metadata: { name: 'acme.notime' }, eventTime: undefined });
    expect(noTime.body.message).toBe('Event.events.k8s.io "acme.notime" is invalid: eventTime: Required value');
    // Series updates through events.k8s.io keep the rest immutable.
    const series = await api.put(`${EVENTS}/acme.guard`, { ...ok.body, series: { count: 2, lastObservedTime: '2026-11-28T10:05:00.000000Z' } });
    expect(series.status).toBe(200);
    const changed = await api.put(`${EVENTS}/acme.guard`, { ...series.body, note: 'other' });
    expect(changed.status).toBe(422);
    expect(changed.body.message).toContain('message: Invalid value: "other": field is immutable');
    const fieldSel = await api.get(`${CORE_EVENTS}?fieldSelector=${encodeURIComponent('involvedObject.kind=Organization,involvedObject.name=acme,reason=GuardTripped')}`);
    expect((fieldSel.body.items as Obj[]).map((e) => meta(e).name)).toEqual(['acme.guard']);
  });
});

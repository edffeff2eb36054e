/** Patch types of the kube-API test server: JSON patch, merge patch, strategic merge (415 on custom resources), server-side apply. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, meta, org, ORG_PATH, type Client } from './client.js';
import { KubeApiServer } from './server.js';
import type { Obj } from './status.js';

let kube: KubeApiServer;
let api: Client;

beforeAll(async () => {
  kube = await KubeApiServer.start({ namespaces: ['team-a'] });
  kube.loadCrds();
  api = client(kube);
});
afterAll(() => kube.stop());

const MERGE = 'application/merge-patch+json';
const JSONP = 'application/json-patch+json';
const SMP = 'application/strategic-merge-patch+json';
const APPLY = 'application/apply-patch+yaml';

describe('patch types on custom resources', () => {
  it('merge patch merges objects, deletes with null and replaces arrays whole', async () => {
    await api.post(ORG_PATH, org('mp-1', { plan: 'premium', displayName: 'MP', members: { policy: 'additive', ignore: ['a@x.example', 'b@x.example'] } }));
    const r = await api.patch(`${ORG_PATH}/mp-1`, { spec: { displayName: null, members: { ignore: ['c@x.example'] } } }, MERGE);
    expect(r.status).toBe(200);
    expect(r.body.spec).toEqual({ plan: 'premium', members: { policy: 'additive', ignore: ['c@x.example'] }, deletionPolicy: 'Orphan' });
  });

  it('JSON patch applies operations in order and a failed test operation changes nothing (422)', async () => {
    await api.post(ORG_PATH, org('jp-1', { plan: 'premium', members: { ignore: ['a@x.example'] } }));
    const ok = await api.patch(
      `${ORG_PATH}/jp-1`,
      [
        { op: 'test', path: '/spec/plan', value: 'premium' },
        { op: 'replace', path: '/spec/plan', value: 'freemium' },
        { op: 'add', path: '/spec/members/ignore/-', value: 'b@x.example' },
        { op: 'add', path: '/metadata/labels', value: { 'orgctl.dev/tier': 'gold' } },
      ],
      JSONP,
    );
    expect(ok.status).toBe(200);
    expect(ok.body.spec).toMatchObject({ plan: 'freemium', members: { ignore: ['a@x.example', 'b@x.example'] } });
    expect(meta(ok.body).labels).toEqual({ 'orgctl.dev/tier': 'gold' });
    const failed = await api.patch(`${ORG_PATH}/jp-1`, [{ op: 'test', path: '/spec/plan', value: 'premium' }, { op: 'remove', path: '/spec/plan' }], JSONP);
    expect(failed.status).toBe(422);
    expect(failed.body).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422 });
    expect(JSON.stringify(failed.body)).toContain('testing value /spec/plan failed');
    expect(((await api.get(`${ORG_PATH}/jp-1`)).body.spec as Obj).plan).toBe('freemium');
    // A patch result is validated like any write.
    const invalid = await api.patch(`${ORG_PATH}/jp-1`, [{ op: 'replace', path: '/spec/plan', value: 'gold' }], JSONP);
    expect(invalid.status).toBe(422);
    expect(invalid.body.message).toContain('spec.plan: Unsupported value: "gold"');
  });

  it('strategic merge patch answers 415 on custom resources, naming the accepted types', async () => {
    await api.post(ORG_PATH, org('smp-1'));
    const r = await api.patch(`${ORG_PATH}/smp-1`, { spec: { plan: 'freemium' } }, SMP);
    expect(r.status).toBe(415);
    expect(r.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
      reason: 'UnsupportedMediaType',
      code: 415,
    });
    const status = await api.patch(`${ORG_PATH}/smp-1/status`, { status: {} }, SMP);
    expect(status.status).toBe(415);
  });

  it('patches the status subresource without touching spec or generation', async () => {
    await api.post(ORG_PATH, org('sp-1'));
    const r = await api.patch(`${ORG_PATH}/sp-1/status`, { spec: { plan: 'freemium' }, status: { observedGeneration: 1, summary: { members: 3 } } }, MERGE);
    expect(r.status).toBe(200);
    expect(r.body.spec).toMatchObject({ plan: 'premium' });
    expect(r.body.status).toEqual({ observedGeneration: 1, summary: { members: 3 } });
    expect(meta(r.body).generation).toBe(1);
    expect((await api.patch(`${ORG_PATH}/missing/status`, { status: {} }, MERGE)).status).toBe(404);
  });

  it('checks patch options: apply needs a fieldManager, force only goes with apply', async () => {
    await api.post(ORG_PATH, org('opt-1'));
    const noManager = await api.patch(`${ORG_PATH}/opt-1`, org('opt-1'), APPLY);
    expect([noManager.status, noManager.body.message]).toEqual([422, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch']);
    const force = await api.patch(`${ORG_PATH}/opt-1?force=true`, { spec: {} }, MERGE);
    expect([force.status, force.body.message]).toEqual([422, 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch']);
  });
});

describe('server-side apply', () => {
  const applied = (name: string, spec: Obj, extra: Obj = {}) => ({ apiVersion: 'orgctl.dev/v1alpha1', kind: 'Organization', metadata: { name, ...extra }, spec });

  it('creates on first apply, records managedFields, and removes what a manager stops applying', async () => {
    const created = await api.patch(`${ORG_PATH}/ssa-1?fieldManager=gitops`, applied('ssa-1', { plan: 'premium', displayName: 'SSA' }, { labels: { team: 'ml' } }), APPLY);
    expect(created.status).toBe(201);
    expect(created.body.spec).toMatchObject({ plan: 'premium', displayName: 'SSA' });
    const mf = meta(created.body).managedFields as Obj[];
    expect(mf).toEqual([
      expect.objectContaining({ manager: 'gitops', operation: 'Apply', apiVersion: 'orgctl.dev/v1alpha1', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:team': {} } }, 'f:spec': { 'f:displayName': {}, 'f:plan': {} } } }),
    ]);
    const again = await api.patch(`${ORG_PATH}/ssa-1?fieldManager=gitops`, applied('ssa-1', { plan: 'premium' }), APPLY);
    expect(again.status).toBe(200);
    expect((again.body.spec as Obj).displayName).toBeUndefined();
    expect(meta(again.body).labels).toBeUndefined();
    expect(meta(again.body).generation).toBe(2);
  });

  it('refuses to take a field another manager set to another value (409 with the conflict), unless forced', async () => {
    await api.patch(`${ORG_PATH}/ssa-2?fieldManager=gitops`, applied('ssa-2', { plan: 'premium' }), APPLY);
    await api.patch(`${ORG_PATH}/ssa-2?fieldManager=console`, { spec: { plan: 'freemium' } }, MERGE);
    const conflict = await api.patch(`${ORG_PATH}/ssa-2?fieldManager=gitops`, applied('ssa-2', { plan: 'premium' }), APPLY);
    expect(conflict.status).toBe(409);
    expect(conflict.body.message).toBe('Apply failed with 1 conflict: conflict with "console" using orgctl.dev/v1alpha1: .spec.plan');
    expect(conflict.body.details).toMatchObject({ causes: [{ reason: 'FieldManagerConflict', field: '.spec.plan' }] });
    // The same value is shared ownership, not a conflict.
    const shared = await api.patch(`${ORG_PATH}/ssa-2?fieldManager=other`, applied('ssa-2', { plan: 'freemium' }), APPLY);
    expect(shared.status).toBe(200);
    const forced = await api.patch(`${ORG_PATH}/ssa-2?fieldManager=gitops&force=true`, applied('ssa-2', { plan: 'premium' }), APPLY);
    expect(forced.status).toBe(200);
    expect((forced.body.spec as Obj).plan).toBe('premium');
  });

  it('applies status through the status subresource, merging conditions by type', async () => {
    await api.post(ORG_PATH, org('ssa-3'));
    const cond = (type: string, status: string) => ({ type, status, reason: 'Reconciled', message: '', lastTransitionTime: '2026-11-28T10:00:00Z' });
    const body = (conds: Obj[]) => ({ apiVersion: 'orgctl.dev/v1alpha1', kind: 'Organization', metadata: { name: 'ssa-3' }, spec: { plan: 'freemium' }, status: { observedGeneration: 1, conditions: conds } });
    await api.patch(`${ORG_PATH}/ssa-3/status?fieldManager=controller`, body([cond('Ready', 'True')]), APPLY);
    const r = await api.patch(`${ORG_PATH}/ssa-3/status?fieldManager=auditor`, { ...body([cond('Audited', 'True')]), status: { conditions: [cond('Audited', 'True')] } }, APPLY);
    expect(r.status).toBe(200);
    expect((r.body.spec as Obj).plan).toBe('premium');
    expect(((r.body.status as Obj).conditions as Obj[]).map((c) => c.type)).toEqual(['Ready', 'Audited']);
    expect((meta(r.body).managedFields as Obj[]).filter((m) => m.subresource).map((m) => [m.manager, m.subresource])).toEqual([
      ['controller', 'status'],
      ['auditor', 'status'],
    ]);
  });
});

describe('strategic merge patch on built-in types', () => {
  it('merges Secret data and metadata.finalizers the way kubectl apply and label send it', async () => {
    await api.post('/api/v1/namespaces/team-a/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'smp-s', finalizers: ['example.com/a'] }, data: { a: 'YQ==' } });
    const r = await api.patch(
      '/api/v1/namespaces/team-a/secrets/smp-s',
      { metadata: { labels: { x: 'y' }, finalizers: ['example.com/b'], $setElementOrder: undefined }, data: { b: 'Yg==' }, stringData: { c: 'c' } },
      SMP,
    );
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ a: 'YQ==', b: 'Yg==', c: 'Yw==' });
    expect(meta(r.body).finalizers).toEqual(['example.com/a', 'example.com/b']);
    expect(meta(r.body).labels).toEqual({ x: 'y' });
    const del = await api.patch('/api/v1/namespaces/team-a/secrets/smp-s', { metadata: { $deleteFromPrimitiveList: undefined, '$deleteFromPrimitiveList/finalizers': ['example.com/a', 'example.com/b'] }, data: { a: null } }, SMP);
    expect(meta(del.body).finalizers).toBeUndefined();
    expect(del.body.data).toEqual({ b: 'Yg==', c: 'Yw==' });
  });
});

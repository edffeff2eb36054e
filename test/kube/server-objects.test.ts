/**
 * The kube-API test server over HTTP: CRD registration, custom resources, generation, the status subresource,
 * optimistic concurrency, validation, pruning, defaults and finalizers, against the real API server's rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, meta, org, ORG_PATH, until, type Client } from './client.js';
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

const READY = { type: 'Ready', status: 'True', reason: 'Synced', message: 'converged', lastTransitionTime: '2026-11-28T10:00:00Z' };

describe('discovery and CRD registration', () => {
  it('serves version, the group list and the group/version resources of the loaded CRDs with short names and the status subresource', async () => {
    expect((await api.get('/version')).body).toMatchObject({ major: '1', minor: '32' });
    const apis = await api.get('/apis');
    expect(apis.body.kind).toBe('APIGroupList');
    const groups = (apis.body.groups as Obj[]).map((g) => g.name);
    expect(groups).toEqual(expect.arrayContaining(['orgctl.dev', 'coordination.k8s.io', 'events.k8s.io', 'apiextensions.k8s.io']));
    const rl = await api.get('/apis/orgctl.dev/v1alpha1');
    const byName = Object.fromEntries((rl.body.resources as Obj[]).map((r) => [r.name, r]));
    expect(byName.organizations).toMatchObject({ kind: 'Organization', namespaced: true, shortNames: ['org', 'orgs'], categories: ['orgctl'], singularName: 'organization' });
    expect(byName['organizations/status']).toMatchObject({ verbs: ['get', 'patch', 'update'] });
    expect(byName.memberships).toMatchObject({ shortNames: ['mem', 'mems'] });
    expect(byName.integrations).toMatchObject({ shortNames: ['intg'] });
    const core = await api.get('/api/v1');
    expect((core.body.resources as Obj[]).map((r) => r.name)).toEqual(expect.arrayContaining(['namespaces', 'secrets', 'events', 'namespaces/status']));
  });

  it('marks CRDs Established and publishes OpenAPI v3 with fieldValidation on PATCH and no strategic merge for custom resources', async () => {
    await until(async () => {
      const crd = await api.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/organizations.orgctl.dev');
      return ((crd.body.status as Obj | undefined)?.conditions as Obj[] | undefined)?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
    }, 'Established');
    const crd = await api.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/organizations.orgctl.dev');
    expect(crd.body.status).toMatchObject({ acceptedNames: { kind: 'Organization', plural: 'organizations' }, storedVersions: ['v1alpha1'] });
    const index = await api.get('/openapi/v3');
    const ref = ((index.body.paths as Obj)['apis/orgctl.dev/v1alpha1'] as Obj).serverRelativeURL as string;
    expect(ref).toMatch(/^\/openapi\/v3\/apis\/orgctl\.dev\/v1alpha1\?hash=[0-9A-F]+$/);
    const doc = await api.get(ref);
    const item = (doc.body.paths as Obj)['/apis/orgctl.dev/v1alpha1/namespaces/{namespace}/organizations/{name}'] as Obj;
    const patch = item.patch as Obj;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: 'orgctl.dev', version: 'v1alpha1', kind: 'Organization' });
    expect((patch.parameters as Obj[]).map((p) => p.name)).toContain('fieldValidation');
    expect(Object.keys((patch.requestBody as Obj).content as Obj).sort()).toEqual(['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json']);
    const schemas = (doc.body.components as Obj).schemas as Obj;
    expect(((schemas['dev.orgctl.v1alpha1.Organization'] as Obj)['x-kubernetes-group-version-kind'] as Obj[])[0]).toEqual({ group: 'orgctl.dev', kind: 'Organization', version: 'v1alpha1' });
    // A stale hash redirects to the current document, as the real server does.
    const stale = await api.get('/openapi/v3/apis/orgctl.dev/v1alpha1?hash=0000');
    expect(stale.status).toBe(301);
  });

  it('publishes OpenAPI v2 (JSON and the protobuf kubectl asks for) with the custom resources and the patch types they consume', async () => {
    const v2 = await api.get('/openapi/v2');
    expect(v2.body.swagger).toBe('2.0');
    const defs = v2.body.definitions as Obj;
    expect((defs['dev.orgctl.v1alpha1.Organization'] as Obj)['x-kubernetes-group-version-kind']).toEqual([{ group: 'orgctl.dev', version: 'v1alpha1', kind: 'Organization' }]);
    expect(((defs['dev.orgctl.v1alpha1.Organization'] as Obj).properties as Obj).metadata).toEqual({ $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' });
    const patch = ((v2.body.paths as Obj)['/apis/orgctl.dev/v1alpha1/namespaces/{namespace}/organizations/{name}'] as Obj).patch as Obj;
    expect(patch.consumes).toEqual(['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml']);
    const pb = await api.get('/openapi/v2', { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
    expect(pb.headers['content-type']).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    // Field 1 (swagger), length 3, "2.0".
    expect(Buffer.from(pb.text, 'latin1').subarray(0, 5)).toEqual(Buffer.from([0x0a, 0x03, 0x32, 0x2e, 0x30]));
  });

  it('refuses CRDs that are not structural or whose printer columns are invalid, with the apiextensions field paths', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { kind: 'Widget', plural: 'widgets' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            additionalPrinterColumns: [{ name: 'Size', type: 'int', jsonPath: '.spec.size' }],
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: { type: 'object', properties: { size: {}, items: { type: 'array' } } },
                  status: { type: 'object', properties: { conditions: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'], items: { type: 'object', properties: { type: { type: 'string' } } } } } },
                },
              },
            },
          },
        ],
      },
    };
    const r = await api.post('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Invalid', code: 422 });
    const fields = ((r.body.details as Obj).causes as Obj[]).map((c) => `${String(c.field)}: ${String(c.message)}`);
    expect(fields).toEqual(
      expect.arrayContaining([
        'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[size].type: Required value: must not be empty for specified object fields',
        'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[items].items: Required value: must be specified',
        'spec.versions[0].schema.openAPIV3Schema.properties[status].properties[conditions].items.properties[type].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property',
        'spec.versions[0].additionalPrinterColumns[0].type: Unsupported value: "int": supported values: "boolean", "date", "integer", "number", "string"',
      ]),
    );
    const wrongName = await api.post('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { ...crd, metadata: { name: 'gadgets.example.com' } });
    expect(wrongName.body.message).toContain('metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group');
  });
});

describe('custom resources', () => {
  it('creates with uid, creationTimestamp, generation 1, a resourceVersion, defaults, and without status; lists carry the resourceVersion', async () => {
    const r = await api.post(ORG_PATH, org('create-1', { plan: 'premium', cache: { enabled: true }, members: {} }, { status: { observedGeneration: 9 } }));
    expect(r.status).toBe(201);
    const m = meta(r.body);
    expect(m.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(m.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(m.generation).toBe(1);
    expect(Number(m.resourceVersion)).toBeGreaterThan(0);
    expect(r.body.status).toBeUndefined();
    // Defaults apply where the parent exists: cache.podType, members.policy, deletionPolicy; not integrations.policy.
    expect(r.body.spec).toEqual({ plan: 'premium', cache: { enabled: true, podType: 'small' }, members: { policy: 'additive' }, deletionPolicy: 'Orphan' });
    const list = await api.get(ORG_PATH);
    expect(list.body).toMatchObject({ kind: 'OrganizationList', apiVersion: 'orgctl.dev/v1alpha1' });
    expect(Number(meta(list.body).resourceVersion)).toBeGreaterThanOrEqual(Number(m.resourceVersion));
    expect((list.body.items as Obj[]).find((o) => meta(o).name === 'create-1')).toMatchObject({ kind: 'Organization', apiVersion: 'orgctl.dev/v1alpha1' });
    const again = await api.post(ORG_PATH, org('create-1'));
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'organizations.orgctl.dev "create-1" already exists',
      reason: 'AlreadyExists',
      details: { name: 'create-1', group: 'orgctl.dev', kind: 'organizations' },
      code: 409,
    });
    const missing = await api.get(`${ORG_PATH}/nope`);
    expect(missing.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'organizations.orgctl.dev "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', group: 'orgctl.dev', kind: 'organizations' },
      code: 404,
    });
  });

  it('bumps generation on spec changes only; every write gets a new, larger resourceVersion from one global counter; a no-op write keeps it', async () => {
    const created = (await api.post(ORG_PATH, org('gen-1'))).body;
    const rv0 = Number(meta(created).resourceVersion);
    // Another resource's write moves the same counter.
    const secret = await api.post('/api/v1/namespaces/team-a/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gen-1' }, stringData: { a: 'b' } });
    expect(Number(meta(secret.body).resourceVersion)).toBeGreaterThan(rv0);

    const labelled = await api.patch(`${ORG_PATH}/gen-1`, { metadata: { labels: { team: 'ml' } } }, 'application/merge-patch+json');
    expect(meta(labelled.body).generation).toBe(1);
    expect(Number(meta(labelled.body).resourceVersion)).toBeGreaterThan(Number(meta(secret.body).resourceVersion));

    const status = await api.patch(`${ORG_PATH}/gen-1/status`, { status: { observedGeneration: 1, conditions: [READY] } }, 'application/merge-patch+json');
    expect(status.status).toBe(200);
    expect(meta(status.body).generation).toBe(1);

    const spec = await api.patch(`${ORG_PATH}/gen-1`, { spec: { plan: 'freemium' } }, 'application/merge-patch+json');
    expect(meta(spec.body).generation).toBe(2);
    const rvSpec = meta(spec.body).resourceVersion;

    const same = await api.patch(`${ORG_PATH}/gen-1`, { spec: { plan: 'freemium' } }, 'application/merge-patch+json');
    expect(meta(same.body).resourceVersion).toBe(rvSpec);
    expect(meta(same.body).generation).toBe(2);
  });

  it('ignores status on the main resource and everything but status on the status subresource', async () => {
    const created = (await api.post(ORG_PATH, org('sub-1'))).body;
    const put = await api.put(`${ORG_PATH}/sub-1`, { ...created, spec: { plan: 'freemium' }, status: { observedGeneration: 42 } });
    expect(put.status).toBe(200);
    expect(put.body.status).toBeUndefined();
    expect(meta(put.body).generation).toBe(2);

    const viaStatus = await api.put(`${ORG_PATH}/sub-1/status`, {
      ...put.body,
      metadata: { ...meta(put.body), labels: { sneaky: 'yes' }, finalizers: ['orgctl.dev/finalizer'] },
      spec: { plan: 'premium' },
      status: { observedGeneration: 2, conditions: [READY] },
    });
    expect(viaStatus.status).toBe(200);
    expect(viaStatus.body.spec).toMatchObject({ plan: 'freemium' });
    expect(meta(viaStatus.body).labels).toBeUndefined();
    expect(meta(viaStatus.body).finalizers).toBeUndefined();
    expect(meta(viaStatus.body).generation).toBe(2);
    expect(viaStatus.body.status).toEqual({ observedGeneration: 2, conditions: [READY] });

    // The status is validated against the CRD's status schema.
    const bad = await api.patch(`${ORG_PATH}/sub-1/status`, { status: { conditions: [{ type: 'Ready', status: 'Yes' }] } }, 'application/merge-patch+json');
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain('status.conditions[0].status: Unsupported value: "Yes": supported values: "True", "False", "Unknown"');
    expect(bad.body.message).toContain('status.conditions[0].reason: Required value');
  });

  it('answers 409 Conflict with the real message for a stale resourceVersion and 422 for a PUT without one', async () => {
    const created = (await api.post(ORG_PATH, org('occ-1'))).body;
    const first = await api.put(`${ORG_PATH}/occ-1`, { ...created, spec: { plan: 'freemium' } });
    expect(first.status).toBe(200);
    const stale = await api.put(`${ORG_PATH}/occ-1`, { ...created, spec: { plan: 'premium' } });
    expect(stale.status).toBe(409);
    expect(stale.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Operation cannot be fulfilled on organizations.orgctl.dev "occ-1": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict',
      details: { name: 'occ-1', group: 'orgctl.dev', kind: 'organizations' },
      code: 409,
    });
    const staleStatus = await api.put(`${ORG_PATH}/occ-1/status`, { ...created, status: { observedGeneration: 1 } });
    expect(staleStatus.status).toBe(409);
    const noRv = await api.put(`${ORG_PATH}/occ-1`, { ...created, metadata: { name: 'occ-1' } });
    expect(noRv.status).toBe(422);
    expect(noRv.body.message).toBe('Organization.orgctl.dev "occ-1" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
    // A resourceVersion inside a patch is a precondition too.
    const patched = await api.patch(`${ORG_PATH}/occ-1`, { metadata: { resourceVersion: meta(created).resourceVersion }, spec: { plan: 'premium' } }, 'application/merge-patch+json');
    expect(patched.status).toBe(409);
    // Core types allow unconditional updates.
    const s = (await api.post('/api/v1/namespaces/team-a/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'occ-1' } })).body;
    const unconditional = await api.put('/api/v1/namespaces/team-a/secrets/occ-1', { ...s, metadata: { name: 'occ-1' }, stringData: { k: 'v' } });
    expect(unconditional.status).toBe(200);
  });

  it('validates against the CRD schema with the API server field errors, all at once, and runs the credentialsRef rule', async () => {
    const r = await api.post(ORG_PATH, org('bad-1', { plan: 'premum', displayName: '', cache: { podType: 'huge' }, members: { ignore: [7] } }));
    expect(r.status).toBe(422);
    expect(r.body.reason).toBe('Invalid');
    expect(r.body.details).toMatchObject({ name: 'bad-1', group: 'orgctl.dev', kind: 'Organization' });
    const causes = ((r.body.details as Obj).causes as Obj[]).map((c) => [c.reason, c.field, c.message]);
    expect(causes).toEqual(
      expect.arrayContaining([
        ['FieldValueNotSupported', 'spec.plan', 'Unsupported value: "premum": supported values: "freemium", "premium"'],
        ['FieldValueInvalid', 'spec.displayName', 'Invalid value: "": spec.displayName in body should be at least 1 chars long'],
        ['FieldValueRequired', 'spec.cache.enabled', 'Required value'],
        ['FieldValueNotSupported', 'spec.cache.podType', 'Unsupported value: "huge": supported values: "small", "medium", "high"'],
        ['FieldValueTypeInvalid', 'spec.members.ignore[0]', 'Invalid value: "integer": spec.members.ignore[0] in body must be of type string: "integer"'],
      ]),
    );
    expect(r.body.message).toMatch(/^Organization\.orgctl\.dev "bad-1" is invalid: \[/);

    const intg = await api.post('/apis/orgctl.dev/v1alpha1/namespaces/team-a/integrations', {
      apiVersion: 'orgctl.dev/v1alpha1',
      kind: 'Integration',
      metadata: { name: 'two-sources' },
      spec: { organization: 'acme', name: 'raw', type: 's3', credentialsRef: { secretName: 'a', env: { k: 'V' } } },
    });
    expect(intg.status).toBe(422);
    expect(intg.body.message).toBe('Integration.orgctl.dev "two-sources" is invalid: spec.credentialsRef: Invalid value: "object": set exactly one of secretName, env, file');

    const mem = await api.post('/apis/orgctl.dev/v1alpha1/namespaces/team-a/memberships', {
      apiVersion: 'orgctl.dev/v1alpha1',
      kind: 'Membership',
      metadata: { name: 'Bad_Name' },
      spec: { organization: 'acme', members: [{ email: 'not-an-email' }] },
    });
    expect(mem.status).toBe(422);
    expect(mem.body.message).toContain('metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of');
    expect(mem.body.message).toContain('spec.members[0].email: Invalid value: "not-an-email": spec.members[0].email in body must be of type email: "not-an-email"');
  });

  it('prunes unknown fields (a warning by default), refuses them with fieldValidation=Strict, and ignores them with Ignore', async () => {
    const body = org('prune-1', { plan: 'premium', plans: 'x', members: { policy: 'additive', extra: true } }, { metadata: { name: 'prune-1', bogus: 1 }, topLevel: 'x' });
    const warn = await api.post(ORG_PATH, body);
    expect(warn.status).toBe(201);
    expect(warn.body.spec).toEqual({ plan: 'premium', members: { policy: 'additive' }, deletionPolicy: 'Orphan' });
    expect(warn.body.topLevel).toBeUndefined();
    expect(meta(warn.body).bogus).toBeUndefined();
    expect(warn.headers.warning).toContain('299 - "unknown field \\"spec.plans\\""');
    const strict = await api.post(`${ORG_PATH}?fieldValidation=Strict`, { ...body, metadata: { name: 'prune-2' } });
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe(
      'Organization in version "v1alpha1" cannot be handled as a Organization: strict decoding error: unknown field "spec.members.extra", unknown field "spec.plans", unknown field "topLevel"',
    );
    const ignore = await api.post(`${ORG_PATH}?fieldValidation=Ignore`, { ...body, metadata: { name: 'prune-3' } });
    expect(ignore.status).toBe(201);
    expect(ignore.headers.warning).toBeUndefined();
  });

  it('refuses a name mismatch, a missing namespace, a resourceVersion on create and objects over 1.5 MiB', async () => {
    const created = (await api.post(ORG_PATH, org('mm-1'))).body;
    const wrong = await api.put(`${ORG_PATH}/mm-1`, { ...created, metadata: { ...meta(created), name: 'mm-2' } });
    expect([wrong.status, wrong.body.message]).toEqual([400, 'the name of the object (mm-2) does not match the name on the URL (mm-1)']);
    const ns = await api.post('/apis/orgctl.dev/v1alpha1/namespaces/nowhere/organizations', org('x'));
    expect([ns.status, ns.body.message]).toEqual([404, 'namespaces "nowhere" not found']);
    const withRv = await api.post(ORG_PATH, org('rv-1', { plan: 'premium' }, { metadata: { name: 'rv-1', resourceVersion: '5' } }));
    expect([withRv.status, withRv.body.message]).toEqual([500, 'Internal error occurred: resourceVersion should not be set on objects to be created']);
    const huge = await api.post('/apis/orgctl.dev/v1alpha1/namespaces/team-a/memberships', {
      apiVersion: 'orgctl.dev/v1alpha1',
      kind: 'Membership',
      metadata: { name: 'huge' },
      spec: { organization: 'acme', members: Array.from({ length: 20000 }, (_, i) => ({ email: `person-${i}@acme-vision.example`, firstName: 'A'.repeat(40) })) },
    });
    expect(huge.status).toBe(500);
    expect(huge.body.message).toBe('etcdserver: request is too large');
  });

  it('serves cluster-scoped and namespaced objects of a CRD created over the API, and its instances go with it', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'platforms.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Cluster',
        names: { kind: 'Platform', plural: 'platforms', shortNames: ['pf'] },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } } }],
      },
    };
    expect((await api.post('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status).toBe(201);
    const p = await api.post('/apis/example.com/v1/platforms', { apiVersion: 'example.com/v1', kind: 'Platform', metadata: { name: 'dataloop', namespace: 'ignored' }, spec: { any: { thing: 1 } } });
    expect(p.status).toBe(201);
    expect(meta(p.body).namespace).toBeUndefined();
    expect(p.body.spec).toEqual({ any: { thing: 1 } });
    expect((await api.get('/apis/example.com/v1/platforms/dataloop')).status).toBe(200);
    expect((await api.get('/apis/example.com/v1/namespaces/team-a/platforms/dataloop')).status).toBe(404);
    const del = await api.delete('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/platforms.example.com');
    expect(del.status).toBe(200);
    expect(meta(del.body).finalizers).toEqual(['customresourcecleanup.apiextensions.k8s.io']);
    await until(async () => (await api.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/platforms.example.com')).status === 404, 'CRD gone');
    expect((await api.get('/apis/example.com/v1/platforms')).status).toBe(404);
  });
});

describe('the status shapes of the CRDs', () => {
  const base = '/apis/orgctl.dev/v1alpha1/namespaces/team-a';
  const synced = { type: 'Synced', status: 'False', reason: 'GuardTripped', message: 'max-removals: 40 of 100 members; raise --max-removals', lastTransitionTime: '2026-11-28T10:00:00Z', observedGeneration: 1 };

  it('accept what the controller reports: summary, applied, per-person failures (at most 20), credentials Secret', async () => {
    await api.post(`${base}/organizations`, org('shape-org'));
    const o = await api.patch(
      `${base}/organizations/shape-org/status`,
      {
        status: {
          observedGeneration: 1,
          conditions: [READY, synced],
          summary: { membersDeclared: 200, members: 180, pendingInvites: 20, lastPlan: { add: 20, change: 3, remove: 0, failed: 1 }, lastSyncTime: '2026-11-28T10:00:00Z' },
          stateVersion: '238',
        },
      },
      'application/merge-patch+json',
    );
    expect(o.status, o.text).toBe(200);
    const mem = { apiVersion: 'orgctl.dev/v1alpha1', kind: 'Membership', metadata: { name: 'shape-mem' }, spec: { organization: 'shape-org', members: [{ email: 'a@acme.example' }] } };
    expect((await api.post(`${base}/memberships`, mem)).status).toBe(201);
    const failures = Array.from({ length: 20 }, (_, i) => ({ email: `p${i}@acme.example`, action: 'invite', reason: 'PlatformError', message: 'HTTP 500' }));
    const m = await api.patch(
      `${base}/memberships/shape-mem/status`,
      { status: { observedGeneration: 1, conditions: [READY], applied: false, people: { declared: 1, members: 0, pendingInvites: 0 }, failures, failureCount: 57 } },
      'application/merge-patch+json',
    );
    expect(m.status, m.text).toBe(200);
    const tooMany = await api.patch(`${base}/memberships/shape-mem/status`, { status: { failures: [...failures, failures[0]] } }, 'application/merge-patch+json');
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.message).toBe('Membership.orgctl.dev "shape-mem" is invalid: status.failures: Too many: 21: must have at most 20 items');
    const intg = { apiVersion: 'orgctl.dev/v1alpha1', kind: 'Integration', metadata: { name: 'shape-intg' }, spec: { organization: 'shape-org', name: 'raw', type: 's3', credentialsRef: { secretName: 'raw' } } };
    expect((await api.post(`${base}/integrations`, intg)).status).toBe(201);
    const i = await api.patch(
      `${base}/integrations/shape-intg/status`,
      { status: { observedGeneration: 1, conditions: [READY], applied: true, platformId: 'int-1', credentialsFingerprint: 'sha256:ab', credentialsSecret: { name: 'raw', resourceVersion: '123' } } },
      'application/merge-patch+json',
    );
    expect(i.status, i.text).toBe(200);
  });

  it('hold conditions to metav1.Condition: required fields, CamelCase reason, unique types', async () => {
    await api.post(`${base}/organizations`, org('shape-cond'));
    const bad = await api.patch(
      `${base}/organizations/shape-cond/status`,
      { status: { conditions: [{ ...READY, reason: 'not camel' }, READY] } },
      'application/merge-patch+json',
    );
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain(`status.conditions[0].reason: Invalid value: "not camel": status.conditions[0].reason in body should match '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$'`);
    expect(bad.body.message).toContain('status.conditions[1]: Duplicate value: {"type":"Ready"}');
  });
});

describe('finalizers', () => {
  it('DELETE with finalizers sets deletionTimestamp and grace period 0, bumps generation once, keeps the object; the update emptying them removes it', async () => {
    await api.post(ORG_PATH, org('fin-1', { plan: 'premium' }, { metadata: { name: 'fin-1', finalizers: ['orgctl.dev/finalizer'] } }));
    const del = await api.delete(`${ORG_PATH}/fin-1`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
    expect(del.status).toBe(200);
    expect(del.body.kind).toBe('Organization');
    const m = meta(del.body);
    expect(m.deletionTimestamp).toMatch(/Z$/);
    expect(m.deletionGracePeriodSeconds).toBe(0);
    expect(m.generation).toBe(2);
    // A second delete changes nothing.
    const again = await api.delete(`${ORG_PATH}/fin-1`);
    expect(meta(again.body).resourceVersion).toBe(m.resourceVersion);
    const got = (await api.get(`${ORG_PATH}/fin-1`)).body;
    expect(meta(got).deletionTimestamp).toBe(m.deletionTimestamp);
    // No finalizer may be added now; status and spec may still be written.
    const add = await api.patch(`${ORG_PATH}/fin-1`, { metadata: { finalizers: ['orgctl.dev/finalizer', 'example.com/other'] } }, 'application/merge-patch+json');
    expect(add.status).toBe(422);
    expect(add.body.message).toBe(
      'Organization.orgctl.dev "fin-1" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/other"}',
    );
    const status = await api.patch(`${ORG_PATH}/fin-1/status`, { status: { observedGeneration: 2 } }, 'application/merge-patch+json');
    expect(status.status).toBe(200);
    // Clients cannot clear deletionTimestamp.
    const keep = await api.patch(`${ORG_PATH}/fin-1`, { metadata: { deletionTimestamp: null } }, 'application/merge-patch+json');
    expect(meta(keep.body).deletionTimestamp).toBe(m.deletionTimestamp);
    const release = await api.patch(`${ORG_PATH}/fin-1`, [{ op: 'remove', path: '/metadata/finalizers' }], 'application/json-patch+json');
    expect(release.status).toBe(200);
    expect((await api.get(`${ORG_PATH}/fin-1`)).status).toBe(404);
  });

  it('DELETE without finalizers answers a Success Status; preconditions are checked', async () => {
    const created = (await api.post(ORG_PATH, org('del-1'))).body;
    const wrongUid = await api.delete(`${ORG_PATH}/del-1`, { preconditions: { uid: 'nope' } });
    expect(wrongUid.status).toBe(409);
    expect(wrongUid.body.message).toBe(`Operation cannot be fulfilled on organizations.orgctl.dev "del-1": Precondition failed: UID in precondition: nope, UID in object meta: ${String(meta(created).uid)}`);
    const del = await api.delete(`${ORG_PATH}/del-1`);
    expect(del.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'del-1', group: 'orgctl.dev', kind: 'organizations', uid: meta(created).uid } });
  });

  it('a terminating namespace refuses new objects and goes once its objects (and their finalizers) are gone', async () => {
    kube.createNamespace('doomed');
    const path = '/apis/orgctl.dev/v1alpha1/namespaces/doomed/organizations';
    await api.post(path, org('held', { plan: 'premium' }, { metadata: { name: 'held', finalizers: ['orgctl.dev/finalizer'] } }));
    await api.post(path, org('free'));
    const del = await api.delete('/api/v1/namespaces/doomed');
    expect(del.status).toBe(200);
    expect((del.body.status as Obj).phase).toBe('Terminating');
    await until(async () => (await api.get(`${path}/free`)).status === 404, 'free deleted');
    const refused = await api.post(path, org('late'));
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('organizations.orgctl.dev "late" is forbidden: unable to create new content in namespace doomed because it is being terminated');
    expect(meta((await api.get(`${path}/held`)).body).deletionTimestamp).toBeDefined();
    expect((await api.get('/api/v1/namespaces/doomed')).status).toBe(200);
    await api.patch(`${path}/held`, { metadata: { finalizers: null } }, 'application/merge-patch+json');
    await until(async () => (await api.get('/api/v1/namespaces/doomed')).status === 404, 'namespace gone');
  });
});

describe('tables and metadata-only responses', () => {
  it('answers kubectl-style Table requests with the printer columns and PartialObjectMetadata requests with metadata', async () => {
    await api.post(ORG_PATH, org('table-1', { plan: 'premium' }));
    await api.patch(
      `${ORG_PATH}/table-1/status`,
      { status: { observedGeneration: 1, summary: { members: 12, pendingInvites: 3, lastSyncTime: '2026-11-28T10:00:00Z' }, conditions: [READY] } },
      'application/merge-patch+json',
    );
    const t = await api.get(`${ORG_PATH}/table-1`, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    expect(t.body).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1' });
    const cols = (t.body.columnDefinitions as Obj[]).map((c) => `${String(c.name)}:${String(c.type)}:${String(c.priority)}`);
    expect(cols.slice(0, 6)).toEqual(['Name:string:0', 'Plan:string:0', 'Members:integer:0', 'Ready:string:0', 'Reason:string:0', 'Age:date:0']);
    const row = (t.body.rows as Obj[])[0]!;
    expect((row.cells as unknown[]).slice(0, 5)).toEqual(['table-1', 'premium', 12, 'True', 'Synced']);
    expect((row.object as Obj).kind).toBe('PartialObjectMetadata');
    const partial = await api.get(ORG_PATH, { Accept: 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io' });
    expect(partial.body.kind).toBe('PartialObjectMetadataList');
    expect((partial.body.items as Obj[]).every((i) => i.kind === 'PartialObjectMetadata' && !('spec' in i))).toBe(true);
  });
});

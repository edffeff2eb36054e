/**
 * Fidelity of the kube-API test server, checked by a client nobody here wrote: the real kubectl (v1.32 on the
 * machine image; CI installs one if missing) with its validation on, talking to the test server over HTTP.
 */
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, meta, until, watch, type Client } from './client.js';
import { findKubectl, kubectlFor, type Kubectl } from './kubectl.js';
import { CRD_DIR, KubeApiServer } from './server.js';
import type { Obj } from './status.js';

const KUBECTL = findKubectl();
if (KUBECTL) console.info(`kubectl fidelity tests with ${KUBECTL.path} (1.${KUBECTL.minor})`);
else console.warn('SKIPPED: kubectl fidelity tests need kubectl on PATH (.ci/run installs Debian kubernetes-client when it is missing)');

const FIXTURES = join(import.meta.dirname, 'fixtures');
const NS = 'orgctl-demo';
const ORGS = `/apis/orgctl.dev/v1alpha1/namespaces/${NS}/organizations`;

describe.skipIf(!KUBECTL)('real kubectl against the kube-API test server', () => {
  let kube: KubeApiServer;
  let kubectl: Kubectl;
  let api: Client;

  beforeAll(async () => {
    kube = await KubeApiServer.start();
    kubectl = kubectlFor(KUBECTL!, kube, NS);
    api = client(kube);
  });
  afterAll(async () => {
    await kube?.stop();
    kubectl?.cleanup();
  });

  const ok = async (args: string[]) => {
    const r = await kubectl(args);
    expect(r.code, `kubectl ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
    return r;
  };

  it('kubectl apply -f crds/ creates the three CRDs (validation on), a second apply changes nothing, and they become Established', async () => {
    const first = await ok(['apply', '-f', CRD_DIR]);
    expect(first.stdout.trim().split('\n')).toEqual([
      'customresourcedefinition.apiextensions.k8s.io/integrations.orgctl.dev created',
      'customresourcedefinition.apiextensions.k8s.io/memberships.orgctl.dev created',
      'customresourcedefinition.apiextensions.k8s.io/organizations.orgctl.dev created',
    ]);
    expect(first.stderr).toBe('');
    const again = await ok(['apply', '-f', CRD_DIR]);
    expect(again.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/organizations.orgctl.dev unchanged');
    await ok(['wait', '--for=condition=Established', 'crd/organizations.orgctl.dev', 'crd/memberships.orgctl.dev', 'crd/integrations.orgctl.dev', '--timeout=60s']);
    // kubectl >= 1.27 sent fieldValidation=Strict: the server validates, as its OpenAPI v3 document told kubectl.
    // Older ones (Debian's 1.20) validate on their side with the OpenAPI v2 document.
    const strict = kube.requests().some((r) => r.verb === 'create' && r.query.includes('fieldValidation=Strict'));
    expect(strict).toBe(kubectl.minor >= 27);
  });

  it('kubectl apply -f the example resources creates them in their namespace; applying again leaves them unchanged', async () => {
    const r = await ok(['apply', '-f', join(FIXTURES, '00-namespace.yaml')]);
    expect(r.stdout).toBe('namespace/orgctl-demo created\n');
    const created = await ok(['apply', '-f', FIXTURES]);
    expect(created.stdout.trim().split('\n').sort()).toEqual(
      [
        'namespace/orgctl-demo unchanged',
        'secret/raw-images-credentials created',
        'integration.orgctl.dev/acme-vision-raw-images created',
        'membership.orgctl.dev/acme-vision-admins created',
        'organization.orgctl.dev/acme-vision created',
      ].sort(),
    );
    const secretRv = meta(kube.object('v1', 'secrets', NS, 'raw-images-credentials')).resourceVersion;
    const again = await ok(['apply', '-f', FIXTURES]);
    // stringData is write-only, so kubectl always sends it again ("configured", as on a real cluster); the server
    // sees nothing changed and keeps the resourceVersion.
    expect(again.stdout.trim().split('\n').sort()).toEqual(
      [
        'namespace/orgctl-demo unchanged',
        'secret/raw-images-credentials configured',
        'integration.orgctl.dev/acme-vision-raw-images unchanged',
        'membership.orgctl.dev/acme-vision-admins unchanged',
        'organization.orgctl.dev/acme-vision unchanged',
      ].sort(),
    );
    const secret = kube.object('v1', 'secrets', NS, 'raw-images-credentials')!;
    expect(meta(secret).resourceVersion).toBe(secretRv);
    expect(secret.stringData).toBeUndefined();
    expect(Buffer.from((secret.data as Record<string, string>).accessKeyId!, 'base64').toString()).toBe('AKIAEXAMPLEEXAMPLE');
    expect(meta(kube.object('orgctl.dev/v1alpha1', 'organizations', NS, 'acme-vision')).generation).toBe(1);
  });

  it('kubectl get organizations (and its short names and category) prints the printer columns', async () => {
    await api.patch(
      `${ORGS}/acme-vision/status`,
      { status: { observedGeneration: 1, summary: { membersDeclared: 2, members: 12, pendingInvites: 3 }, conditions: [{ type: 'Synced', status: 'True', reason: 'Applied', message: '', lastTransitionTime: '2026-11-28T10:00:00Z' }] } },
      'application/merge-patch+json',
    );
    const get = await ok(['get', 'organizations']);
    const [header, row] = get.stdout.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['NAME', 'PLAN', 'MEMBERS', 'READY', 'REASON', 'AGE']);
    expect(row!.split(/\s+/).slice(0, 3)).toEqual(['acme-vision', 'premium', '12']);
    for (const name of ['organization', 'org', 'orgs', 'organizations.orgctl.dev']) {
      expect((await ok(['get', name, 'acme-vision'])).stdout).toMatch(/^NAME\s+PLAN\s+MEMBERS/);
    }
    const wide = await ok(['get', 'orgs', '-o', 'wide']);
    expect(wide.stdout.split('\n')[0]!.split(/\s{2,}/)).toEqual(['NAME', 'PLAN', 'MEMBERS', 'READY', 'REASON', 'AGE', 'DISPLAY NAME', 'POLICY', 'INVITES', 'SYNCED', 'LAST SYNC']);
    expect(wide.stdout).toMatch(/acme-vision\s+premium\s+12\s+.*Acme Vision\s+authoritative\s+3\s+True/);
    const mem = await ok(['get', 'mem']);
    expect(mem.stdout.split('\n')[0]!.split(/\s{2,}/)).toEqual(['NAME', 'ORGANIZATION', 'ROLE', 'DECLARED', 'APPLIED', 'READY', 'AGE']);
    expect((await ok(['get', 'intg'])).stdout).toMatch(/^NAME\s+ORGANIZATION\s+NAME\s+TYPE\s+APPLIED\s+READY\s+AGE\nacme-vision-raw-images\s+acme-vision\s+raw-images\s+s3/);
    const all = await ok(['get', 'orgctl']);
    expect(all.stdout).toContain('organization.orgctl.dev/acme-vision');
    expect(all.stdout).toContain('membership.orgctl.dev/acme-vision-admins');
    expect(all.stdout).toContain('integration.orgctl.dev/acme-vision-raw-images');
  });

  it('kubectl get -o yaml shows the stored object: defaults applied, server metadata, status', async () => {
    const r = await ok(['get', 'org', 'acme-vision', '-o', 'yaml']);
    const o = parseYaml(r.stdout) as Obj;
    expect(o).toMatchObject({ apiVersion: 'orgctl.dev/v1alpha1', kind: 'Organization' });
    expect(meta(o)).toMatchObject({ name: 'acme-vision', namespace: NS, generation: 1, labels: { team: 'ml-platform' } });
    expect(meta(o).uid).toEqual(meta(kube.object('orgctl.dev/v1alpha1', 'organizations', NS, 'acme-vision')).uid);
    if (kubectl.minor >= 21) expect(meta(o).managedFields).toBeUndefined();
    expect(o.spec).toEqual({
      displayName: 'Acme Vision',
      plan: 'premium',
      cache: { enabled: true, podType: 'small' },
      members: { policy: 'authoritative', ignore: ['*@vendor.example'] },
      deletionPolicy: 'Orphan',
    });
    expect((o.status as Obj).summary).toEqual({ membersDeclared: 2, members: 12, pendingInvites: 3 });
  });

  it('kubectl wait --for=condition=Ready waits until a status update through the status subresource makes it true', async () => {
    const wait = kubectl.start(['wait', '--for=condition=Ready', 'organization/acme-vision', '--timeout=60s']);
    let exited = false;
    void wait.done.then(() => (exited = true));
    await until(() => (kube.openWatches()['organizations.orgctl.dev'] ?? 0) > 0 || exited, 'kubectl wait to watch');
    expect(exited, wait.stderr()).toBe(false);
    const cur = (await api.get(`${ORGS}/acme-vision`)).body;
    const conditions = [...((cur.status as Obj).conditions as Obj[]), { type: 'Ready', status: 'True', reason: 'Synced', message: 'converged', lastTransitionTime: '2026-11-28T10:01:00Z' }];
    const put = await api.put(`${ORGS}/acme-vision/status`, { ...cur, status: { ...(cur.status as Obj), conditions } });
    expect(put.status).toBe(200);
    const done = await wait.done;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toBe('organization.orgctl.dev/acme-vision condition met\n');
    expect((await ok(['get', 'org', 'acme-vision'])).stdout).toMatch(/acme-vision\s+premium\s+12\s+True\s+Synced\s+\d+s/);
  });

  it('kubectl patch --type merge edits spec (generation 2); a strategic merge patch is refused with 415 as on a real server', async () => {
    const r = await ok(['patch', 'organization', 'acme-vision', '--type', 'merge', '-p', '{"spec":{"plan":"freemium"}}']);
    expect(r.stdout).toBe('organization.orgctl.dev/acme-vision patched\n');
    const o = kube.object('orgctl.dev/v1alpha1', 'organizations', NS, 'acme-vision')!;
    expect([(o.spec as Obj).plan, meta(o).generation, (o.status as Obj).observedGeneration]).toEqual(['freemium', 2, 1]);
    const smp = await kubectl(['patch', 'organization', 'acme-vision', '-p', '{"spec":{"plan":"premium"}}']);
    expect(smp.code).toBe(1);
    expect(smp.stderr).toContain('the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
    const same = await ok(['patch', 'organization', 'acme-vision', '--type', 'merge', '-p', '{"spec":{"plan":"freemium"}}']);
    expect(same.stdout).toBe('organization.orgctl.dev/acme-vision patched (no change)\n');
  });

  it('kubectl apply of an invalid resource is refused with the schema errors; an unknown field with the strict decoding error', async () => {
    const invalid = await kubectl(['apply', '-f', join(FIXTURES, 'invalid/organization-schema.yaml')]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('The Organization "broken" is invalid:');
    expect(invalid.stderr).toContain('* spec.plan: Unsupported value: "premum": supported values: "freemium", "premium"');
    expect(invalid.stderr).toContain('* spec.displayName: Invalid value: "": spec.displayName in body should be at least 1 chars long');
    const unknown = await kubectl(['apply', '-f', join(FIXTURES, 'invalid/organization-unknown-field.yaml')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      kubectl.minor >= 27
        ? 'Organization in version "v1alpha1" cannot be handled as a Organization: strict decoding error: unknown field "spec.plans"'
        : 'ValidationError(Organization.spec): unknown field "plans" in dev.orgctl.v1alpha1.Organization.spec',
    );
    expect(kube.object('orgctl.dev/v1alpha1', 'organizations', NS, 'broken')).toBeUndefined();
    expect(kube.object('orgctl.dev/v1alpha1', 'organizations', NS, 'typo')).toBeUndefined();
  });

  it('kubectl apply --server-side reports the conflict with kubectl patch, and takes the field with --force-conflicts', async () => {
    const conflict = await kubectl(['apply', '--server-side', '-f', join(FIXTURES, 'organization.yaml')]);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl-patch" using orgctl.dev/v1alpha1: .spec.plan');
    const forced = await ok(['apply', '--server-side', '--force-conflicts', '-f', join(FIXTURES, 'organization.yaml')]);
    expect(forced.stdout).toBe('organization.orgctl.dev/acme-vision serverside-applied\n');
    expect((kube.object('orgctl.dev/v1alpha1', 'organizations', NS, 'acme-vision')!.spec as Obj).plan).toBe('premium');
  });

  it('kubectl delete waits while a finalizer holds the object and returns once the test removes it', async () => {
    await ok(['patch', 'organization', 'acme-vision', '--type', 'merge', '-p', '{"metadata":{"finalizers":["orgctl.dev/finalizer"]}}']);
    const del = kubectl.start(['delete', 'organization', 'acme-vision', '--timeout=60s']);
    let exited = false;
    void del.done.then(() => (exited = true));
    await until(() => Boolean(meta(kube.object('orgctl.dev/v1alpha1', 'organizations', NS, 'acme-vision')).deletionTimestamp) || exited, 'deletionTimestamp');
    await until(() => (kube.openWatches()['organizations.orgctl.dev'] ?? 0) > 0 || exited, 'kubectl delete to watch for the deletion');
    expect(exited, del.stderr()).toBe(false);
    const held = kube.object('orgctl.dev/v1alpha1', 'organizations', NS, 'acme-vision')!;
    expect(meta(held)).toMatchObject({ deletionGracePeriodSeconds: 0, finalizers: ['orgctl.dev/finalizer'], generation: 4 });
    const release = await api.patch(`${ORGS}/acme-vision`, [{ op: 'remove', path: '/metadata/finalizers' }], 'application/json-patch+json');
    expect(release.status).toBe(200);
    const done = await del.done;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toBe('organization.orgctl.dev "acme-vision" deleted\n');
    expect(kube.object('orgctl.dev/v1alpha1', 'organizations', NS, 'acme-vision')).toBeUndefined();
    const gone = await kubectl(['get', 'org', 'acme-vision']);
    expect([gone.code, gone.stderr.trim()]).toEqual([1, 'Error from server (NotFound): organizations.orgctl.dev "acme-vision" not found']);
  });

  it('kubectl create namespace/secret (protobuf request bodies) and a Secret rotated with create --dry-run | apply', async () => {
    expect((await ok(['create', 'namespace', 'rotation'])).stdout).toBe('namespace/rotation created\n');
    expect((await ok(['-n', 'rotation', 'create', 'secret', 'generic', 'creds', '--from-literal=accessKeyId=AKIA-1'])).stdout).toBe('secret/creds created\n');
    const before = kube.object('v1', 'secrets', 'rotation', 'creds')!;
    expect(before.data).toEqual({ accessKeyId: Buffer.from('AKIA-1').toString('base64') });
    const w = watch(kube, `/api/v1/namespaces/rotation/secrets?resourceVersion=${String(meta(before).resourceVersion)}`);
    await w.status;
    const manifest = await ok(['-n', 'rotation', 'create', 'secret', 'generic', 'creds', '--from-literal=accessKeyId=AKIA-2', '--dry-run=client', '-o', 'yaml']);
    const applied = await kubectl(['-n', 'rotation', 'apply', '-f', '-'], { input: manifest.stdout });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toBe('secret/creds configured\n');
    const rotated = await w.next();
    expect(rotated.type).toBe('MODIFIED');
    expect(Buffer.from((rotated.object.data as Record<string, string>).accessKeyId!, 'base64').toString()).toBe('AKIA-2');
    w.close();
  });

  it('kubectl delete namespace removes everything in it and waits until the namespace is gone', async () => {
    const r = await ok(['delete', 'namespace', NS, '--timeout=60s']);
    expect(r.stdout).toBe(`namespace "${NS}" deleted\n`);
    expect(kube.objects('orgctl.dev/v1alpha1', 'memberships', NS)).toEqual([]);
    expect(kube.objects('v1', 'secrets', NS)).toEqual([]);
    expect((await kubectl(['get', 'namespace', NS])).code).toBe(1);
  });
});

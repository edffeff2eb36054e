/** Watches and lists of the kube-API test server: resourceVersions, bookmarks, 410 Gone, selectors, request counters. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, meta, org, ORG_PATH, watch, type Client, type WatchEvent } from './client.js';
import { KubeApiServer } from './server.js';
import { KubeError, type Obj } from './status.js';

let kube: KubeApiServer;
let api: Client;

beforeAll(async () => {
  // Bookmarks every 50 ms: tests wait for one instead of sleeping.
  kube = await KubeApiServer.start({ namespaces: ['team-a', 'team-b'], bookmarkIntervalMs: 50 });
  kube.loadCrds();
  api = client(kube);
});
afterAll(() => kube.stop());

const named = (name: string) => (e: WatchEvent) => meta(e.object).name === name;

describe('watch', () => {
  it('without a resourceVersion sends current objects as ADDED, then live ADDED/MODIFIED/DELETED with increasing resourceVersions', async () => {
    await api.post(ORG_PATH, org('w-existing'));
    const w = watch(kube, ORG_PATH);
    expect(await w.status).toBe(200);
    expect((await w.next(named('w-existing'))).type).toBe('ADDED');
    await api.post(ORG_PATH, org('w-live'));
    await api.patch(`${ORG_PATH}/w-live`, { spec: { plan: 'freemium' } }, 'application/merge-patch+json');
    await api.delete(`${ORG_PATH}/w-live`);
    const added = await w.next(named('w-live'));
    const modified = await w.next(named('w-live'));
    const deleted = await w.next(named('w-live'));
    expect([added.type, modified.type, deleted.type]).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect((modified.object.spec as Obj).plan).toBe('freemium');
    const rvs = [added, modified, deleted].map((e) => Number(meta(e.object).resourceVersion));
    expect(rvs[0]! < rvs[1]! && rvs[1]! < rvs[2]!).toBe(true);
    expect(added.object).toMatchObject({ kind: 'Organization', apiVersion: 'orgctl.dev/v1alpha1' });
    w.close();
  });

  it('from a resourceVersion sends only later events; from a list resourceVersion nothing is missed', async () => {
    await api.post(ORG_PATH, org('w-before'));
    const list = await api.get(ORG_PATH);
    const rv = String(meta(list.body).resourceVersion);
    await api.post(ORG_PATH, org('w-after'));
    const w = watch(kube, `${ORG_PATH}?resourceVersion=${rv}`);
    const first = await w.next();
    expect([first.type, meta(first.object).name]).toEqual(['ADDED', 'w-after']);
    expect(w.events.some((e) => meta(e.object).name === 'w-before')).toBe(false);
    w.close();
  });

  it('sends BOOKMARKs (only the resourceVersion) only to watches that allow them', async () => {
    const plain = watch(kube, `${ORG_PATH}?resourceVersion=${kube.resourceVersion}`);
    const marked = watch(kube, `${ORG_PATH}?resourceVersion=${kube.resourceVersion}&allowWatchBookmarks=true`);
    await Promise.all([plain.status, marked.status]);
    const b = await marked.next((e) => e.type === 'BOOKMARK');
    expect(b.object).toEqual({ kind: 'Organization', apiVersion: 'orgctl.dev/v1alpha1', metadata: { resourceVersion: kube.resourceVersion } });
    // A bookmark the plain watch would have had by now: the next one sent to the marked watch.
    kube.sendBookmarks();
    await marked.next((e) => e.type === 'BOOKMARK');
    await api.post(ORG_PATH, org('w-bm'));
    await plain.next(named('w-bm'));
    expect(plain.events.filter((e) => e.type === 'BOOKMARK')).toEqual([]);
    plain.close();
    marked.close();
  });

  it('answers HTTP 200 with one ERROR event (Status 410 Expired) for a resourceVersion older than the history, then ends', async () => {
    const old = kube.resourceVersion;
    await api.post(ORG_PATH, org('w-expire'));
    kube.expireHistory();
    const w = watch(kube, `${ORG_PATH}?resourceVersion=${old}`);
    expect(await w.status).toBe(200);
    await w.ended;
    expect(w.events).toEqual([
      {
        type: 'ERROR',
        object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${old} (${kube.resourceVersion})`, reason: 'Expired', code: 410 },
      },
    ]);
    // The current version is still fine.
    const ok = watch(kube, `${ORG_PATH}?resourceVersion=${kube.resourceVersion}`);
    await api.post(ORG_PATH, org('w-after-expire'));
    expect((await ok.next(named('w-after-expire'))).type).toBe('ADDED');
    ok.close();
  });

  it('keeps a bounded history: a small limit makes a lagging resourceVersion expire', async () => {
    kube.setHistoryLimit(3);
    try {
      const start = kube.resourceVersion;
      for (let i = 0; i < 5; i++) await api.post(ORG_PATH, org(`w-hist-${i}`));
      const w = watch(kube, `${ORG_PATH}?resourceVersion=${start}`);
      await w.ended;
      expect(w.events[0]!.type).toBe('ERROR');
      expect((w.events[0]!.object as Obj).code).toBe(410);
    } finally {
      kube.setHistoryLimit(10_000);
    }
  });

  it('filters by label and field selectors; an object leaving the selection is DELETED to that watch', async () => {
    const byLabel = watch(kube, `${ORG_PATH}?labelSelector=${encodeURIComponent('tier in (gold),!legacy')}&resourceVersion=${kube.resourceVersion}`);
    const byName = watch(kube, `/apis/orgctl.dev/v1alpha1/organizations?fieldSelector=${encodeURIComponent('metadata.name=w-sel')}&resourceVersion=${kube.resourceVersion}`);
    const otherNs = watch(kube, `/apis/orgctl.dev/v1alpha1/namespaces/team-b/organizations?resourceVersion=${kube.resourceVersion}`);
    await Promise.all([byLabel.status, byName.status, otherNs.status]);
    await api.post(ORG_PATH, org('w-sel', { plan: 'premium' }, { metadata: { name: 'w-sel', labels: { tier: 'gold' } } }));
    await api.post(ORG_PATH, org('w-other', { plan: 'premium' }, { metadata: { name: 'w-other', labels: { tier: 'silver' } } }));
    await api.patch(`${ORG_PATH}/w-sel`, { metadata: { labels: { tier: 'silver' } } }, 'application/merge-patch+json');
    const a = await byLabel.next();
    const d = await byLabel.next();
    expect([a.type, meta(a.object).name, d.type, meta(d.object).name]).toEqual(['ADDED', 'w-sel', 'DELETED', 'w-sel']);
    expect(Number(meta(d.object).resourceVersion)).toBeGreaterThan(Number(meta(a.object).resourceVersion));
    const n1 = await byName.next();
    const n2 = await byName.next();
    expect([n1.type, n2.type]).toEqual(['ADDED', 'MODIFIED']);
    expect(byName.events.every((e) => meta(e.object).name === 'w-sel')).toBe(true);
    await api.post('/apis/orgctl.dev/v1alpha1/namespaces/team-b/organizations', org('w-b'));
    expect(meta((await otherNs.next()).object).name).toBe('w-b');
    expect(otherNs.events.length).toBe(1);
    for (const w of [byLabel, byName, otherNs]) w.close();

    const bad = await api.get(`${ORG_PATH}?fieldSelector=spec.plan%3Dpremium`);
    expect([bad.status, bad.body.message]).toEqual([400, '"spec.plan" is not a known field selector: only "metadata.name", "metadata.namespace"']);
  });

  it('delivers DELETED when the update that empties finalizers removes the object', async () => {
    await api.post(ORG_PATH, org('w-fin', { plan: 'premium' }, { metadata: { name: 'w-fin', finalizers: ['orgctl.dev/finalizer'] } }));
    const w = watch(kube, `${ORG_PATH}?resourceVersion=${kube.resourceVersion}`);
    await w.status;
    await api.delete(`${ORG_PATH}/w-fin`);
    const marked = await w.next(named('w-fin'));
    expect(marked.type).toBe('MODIFIED');
    expect(meta(marked.object).deletionTimestamp).toBeDefined();
    await api.patch(`${ORG_PATH}/w-fin`, { metadata: { finalizers: [] } }, 'application/merge-patch+json');
    expect((await w.next(named('w-fin'))).type).toBe('DELETED');
    w.close();
  });

  it('sends one-row Tables to a watch that asks for them (kubectl get -w)', async () => {
    const w = watch(kube, `${ORG_PATH}?resourceVersion=${kube.resourceVersion}`, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    await w.status;
    await api.post(ORG_PATH, org('w-table'));
    const e = await w.next();
    expect(e.object).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1' });
    expect(((e.object.rows as Obj[])[0]!.cells as unknown[]).slice(0, 2)).toEqual(['w-table', 'premium']);
    w.close();
  });

  it('supports sendInitialEvents with an initial-events-end bookmark, timeoutSeconds, and ends watches on request', async () => {
    const w = watch(kube, `${ORG_PATH}?sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`);
    const end = await w.next((e) => e.type === 'BOOKMARK');
    expect((meta(end.object).annotations as Obj)['k8s.io/initial-events-end']).toBe('true');
    expect(w.events.filter((e) => e.type === 'ADDED').length).toBeGreaterThan(3);
    kube.closeWatches();
    await w.ended;
    const timed = watch(kube, `${ORG_PATH}?timeoutSeconds=1&resourceVersion=${kube.resourceVersion}`);
    await timed.ended;
  });
});

describe('lists and the request log', () => {
  it('paginates with limit and continue, carrying the first page resourceVersion', async () => {
    for (let i = 0; i < 5; i++) await api.post('/apis/orgctl.dev/v1alpha1/namespaces/team-b/organizations', org(`page-${i}`));
    const p1 = await api.get('/apis/orgctl.dev/v1alpha1/namespaces/team-b/organizations?limit=2');
    expect((p1.body.items as Obj[]).length).toBe(2);
    expect(meta(p1.body).remainingItemCount).toBeGreaterThan(0);
    const names = (p1.body.items as Obj[]).map((o) => meta(o).name);
    let cont = meta(p1.body).continue as string | undefined;
    while (cont) {
      const p = await api.get(`/apis/orgctl.dev/v1alpha1/namespaces/team-b/organizations?limit=2&continue=${encodeURIComponent(cont)}`);
      expect(meta(p.body).resourceVersion).toBe(meta(p1.body).resourceVersion);
      names.push(...(p.body.items as Obj[]).map((o) => meta(o).name));
      cont = meta(p.body).continue as string | undefined;
    }
    expect(names).toEqual(expect.arrayContaining(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']));
    expect(new Set(names).size).toBe(names.length);
  });

  it('counts requests per verb and resource, and can inject faults', async () => {
    kube.resetRequests();
    await api.get(ORG_PATH);
    const w = watch(kube, `${ORG_PATH}?resourceVersion=${kube.resourceVersion}`);
    await w.status;
    await api.post(ORG_PATH, org('count-1'));
    await api.patch(`${ORG_PATH}/count-1/status`, { status: { observedGeneration: 1 } }, 'application/merge-patch+json');
    expect(kube.counts()).toEqual({
      'list organizations.orgctl.dev': 1,
      'watch organizations.orgctl.dev': 1,
      'create organizations.orgctl.dev': 1,
      'patch organizations.orgctl.dev/status': 1,
    });
    expect(kube.count('watch', 'organizations.orgctl.dev')).toBe(1);
    expect(kube.openWatches()).toEqual({ 'organizations.orgctl.dev': 1 });
    w.close();

    const remove = kube.inject((r) => (r.verb === 'list' ? new KubeError(500, 'InternalError', 'Internal error occurred: injected') : undefined));
    const failed = await api.get(ORG_PATH);
    expect([failed.status, failed.body.message]).toEqual([500, 'Internal error occurred: injected']);
    remove();
    expect((await api.get(ORG_PATH)).status).toBe(200);
    expect(kube.requests().filter((r) => r.verb === 'list').map((r) => r.code)).toEqual([200, 500, 200]);
  });

  it('refuses a wrong bearer token with 401 Unauthorized', async () => {
    const r = await client(kube, 'wrong').get(ORG_PATH);
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  });
});

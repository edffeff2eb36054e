/**
 * The in-cluster controller's parts against the kube-API test server, in-process: the informer's restarts and
 * relists, leader election, the Lease locks, the event recorder, Secrets as credentials, and conditions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, loadKubeConfig } from '../../src/controller/kubernetes/client.js';
import { EventRecorder } from '../../src/controller/kubernetes/events.js';
import { Informer } from '../../src/controller/kubernetes/informer.js';
import { LeaderElector } from '../../src/controller/kubernetes/leader.js';
import { KubernetesLeaseLocks } from '../../src/controller/kubernetes/leases.js';
import { SecretCredentials, SecretNotFoundError } from '../../src/controller/kubernetes/secrets.js';
import { mergeConditions } from '../../src/controller/kubernetes/status.js';
import { LeaseHeldError } from '../../src/platform/locks.js';
import { client, until, type Client } from '../kube/client.js';
import { KubeApiServer } from '../kube/server.js';
import { KubeError, type Obj } from '../kube/status.js';

const NS = 'team-a';
const ORGS = `/apis/orgctl.dev/v1alpha1/namespaces/${NS}/organizations`;
let kube: KubeApiServer;
let api: Client;
let dir: string;
let kc: ReturnType<typeof loadKubeConfig>;
const clients: KubeClient[] = [];
const newClient = (agent = 'orgctl-test-controller') => {
  const c = new KubeClient(kc.config, agent);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  kube = await KubeApiServer.start({ namespaces: [NS] });
  kube.loadCrds();
  api = client(kube);
  dir = mkdtempSync(join(tmpdir(), 'orgctl-kube-'));
  kc = loadKubeConfig({ KUBECONFIG: kube.writeKubeconfig(join(dir, 'kubeconfig'), { namespace: NS }) });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await kube.stop();
  rmSync(dir, { recursive: true, force: true });
});

const org = (name: string) => ({ apiVersion: 'orgctl.dev/v1alpha1', kind: 'Organization', metadata: { name }, spec: { plan: 'premium' } });

describe('kubeconfig', () => {
  it('reads $KUBECONFIG, its namespace, and allows a plain-HTTP server', () => {
    expect(kc.namespace).toBe(NS);
    expect(kc.inCluster).toBe(false);
    expect(kc.config.getCurrentCluster()?.skipTLSVerify).toBe(true);
  });
});

describe('Informer', () => {
  it('lists once and watches; restarts after an error with backoff; lists again after 410 Gone', async () => {
    const seen = new Map<string, string>();
    const errors: number[] = [];
    const informer = new Informer<Obj & { metadata: { name: string } }>({
      client: newClient(),
      config: kc.config,
      path: ORGS,
      onAdd: (o) => seen.set(o.metadata.name, 'add'),
      onUpdate: (o) => seen.set(o.metadata.name, 'update'),
      onDelete: (o) => seen.delete(o.metadata.name),
      onError: (_err, ms) => errors.push(ms),
      backoffMs: 50,
    });
    expect((await api.post(ORGS, org('before'))).status).toBe(201);
    kube.resetRequests();
    await informer.start();
    expect(seen.get('before')).toBe('add');
    await api.post(ORGS, org('live'));
    await until(() => seen.has('live'), 'a watched add');
    expect(kube.count('list', 'organizations.orgctl.dev')).toBe(1);
    expect(kube.count('watch', 'organizations.orgctl.dev')).toBe(1);
    expect(kube.requests().find((r) => r.verb === 'watch')!.query).toMatch(/allowWatchBookmarks=true/);

    // A watch that fails (client-node would stop for good): restarted, from where it was.
    const remove = kube.inject((r) => (r.verb === 'watch' ? new KubeError(500, 'InternalError', 'injected') : undefined));
    kube.closeWatches();
    await until(() => errors.length >= 2, 'failed restarts');
    remove();
    expect(errors[1]!).toBeGreaterThan(errors[0]!); // backing off
    await api.post(ORGS, org('after-error'));
    await until(() => seen.has('after-error'), 'the informer to be back');
    expect(kube.count('list', 'organizations.orgctl.dev')).toBe(1); // resumed, no relist

    // History gone: the watch gets 410 and the informer lists again, seeing a delete made meanwhile.
    kube.closeWatches();
    await api.delete(`${ORGS}/before`);
    kube.expireHistory();
    await until(() => !seen.has('before') && kube.count('list', 'organizations.orgctl.dev') === 2, 'a relist after 410');
    await informer.stop();
  });
});

describe('LeaderElector', () => {
  it('one leads; a leader that cannot renew stops at once; a standby takes over after the lease duration', async () => {
    const events: string[] = [];
    const make = (id: string) =>
      new LeaderElector({
        client: newClient(`orgctl-controller/${id}`),
        namespace: NS,
        name: 'elect-test',
        identity: id,
        leaseDurationMs: 1500,
        renewDeadlineMs: 1000,
        retryPeriodMs: 200,
        onStartedLeading: () => events.push(`${id} leads`),
        onStoppedLeading: (why) => events.push(`${id} stopped: ${why}`),
        onNewLeader: (who) => events.push(`${id} sees ${who}`),
      });
    const a = make('a');
    void a.run();
    await until(() => events.includes('a leads'), 'a to lead');
    const b = make('b');
    void b.run();
    await until(() => events.includes('b sees a'), 'b to see a leading');
    expect(events).toEqual(['a leads', 'b sees a']);
    expect(a.leading()).toBe(true);
    expect(b.leading()).toBe(false);

    // The API server refuses a's renewals: a stops leading within its renew deadline, before b may take over.
    // (b only reads while the lease is live, so refusing every update refuses a's.)
    const remove = kube.inject((r) => (r.resource === 'leases.coordination.k8s.io' && r.verb === 'update' ? new KubeError(500, 'InternalError', 'injected') : undefined));
    const cut = Date.now();
    await until(() => events.some((e) => e.startsWith('a stopped')), 'a to stop', 10_000);
    expect(a.leading()).toBe(false);
    expect(events.includes('b leads')).toBe(false);
    remove();
    await until(() => events.includes('b leads'), 'b to take over', 10_000);
    expect(Date.now() - cut).toBeGreaterThanOrEqual(1000);
    await b.stop();
    const lease = await api.get(`/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/elect-test`);
    expect((lease.body.spec as Obj).holderIdentity ?? null).toBeNull(); // given up on stop
    expect((lease.body.spec as Obj).leaseTransitions).toBe(1);
  });
});

describe('KubernetesLeaseLocks', () => {
  it('takes, refuses to another, renews, releases, and frees a lease whose holder stopped renewing', async () => {
    const locks = new KubernetesLeaseLocks(newClient(), NS);
    let now = Date.now();
    const other = new KubernetesLeaseLocks(newClient(), NS, () => now);
    await locks.acquire('acme', { id: 'one', holder: 'controller one', ttlMs: 2000 });
    const held = await other.acquire('acme', { id: 'two', holder: 'controller two', ttlMs: 2000 }).catch((e: unknown) => e);
    expect(held).toBeInstanceOf(LeaseHeldError);
    expect((held as LeaseHeldError).holder).toBe('controller one');
    expect(await locks.holder('acme')).toMatchObject({ holder: 'controller one' });
    await locks.renew('acme', 'one', 2000);
    await locks.release('acme', 'one');
    await other.acquire('acme', { id: 'two', holder: 'controller two', ttlMs: 2000 });
    // "two" dies without releasing: "one" sees the lease unchanged for its duration (by its own clock) and takes it.
    const late = new KubernetesLeaseLocks(newClient(), NS, () => now);
    await expect(late.acquire('acme', { id: 'three', holder: 'controller three', ttlMs: 2000 })).rejects.toBeInstanceOf(LeaseHeldError);
    now += 2500;
    await late.acquire('acme', { id: 'three', holder: 'controller three', ttlMs: 2000 });
    await expect(other.renew('acme', 'two', 2000)).rejects.toThrow(/held by controller three/);
    expect(await late.break('acme')).toMatchObject({ holder: 'controller three' });
    expect(await late.holder('acme')).toBeUndefined();
  });
});

describe('EventRecorder', () => {
  it('counts repeats on one Event, combines similar ones, and stops a storm', async () => {
    const recorder = new EventRecorder({ client: newClient(), component: 'orgctl-controller', instance: 'test', canWrite: () => true });
    const involved = { apiVersion: 'orgctl.dev/v1alpha1', kind: 'Organization', namespace: NS, name: 'storm', uid: 'u1' };
    for (let i = 0; i < 5; i++) recorder.event(involved, 'Warning', 'GuardTripped', 'guard max-removals tripped');
    for (let i = 0; i < 30; i++) recorder.event(involved, 'Warning', 'ApplyFailed', `failure number ${i}`);
    await recorder.flush();
    const events = kube.objects('v1', 'events', NS).filter((e) => (e.involvedObject as Obj).name === 'storm');
    const guard = events.filter((e) => e.reason === 'GuardTripped');
    expect(guard).toHaveLength(1);
    expect(guard[0]!.count).toBe(5);
    const failed = events.filter((e) => e.reason === 'ApplyFailed');
    expect(failed.length).toBe(11); // 10 distinct, then one combined
    expect(failed.some((e) => String(e.message).startsWith('(combined from similar events)'))).toBe(true);
    // A burst of 25 per object: 5 guard events and 20 failures; the last 10 were dropped.
    expect(guard[0]!.count as number + failed.reduce((n, e) => n + (e.count as number), 0)).toBe(25);
    const nothing = new EventRecorder({ client: newClient(), component: 'c', instance: 'i', canWrite: () => false });
    nothing.event({ ...involved, name: 'quiet' }, 'Normal', 'Applied', 'x');
    await nothing.flush();
    expect(kube.objects('v1', 'events', NS).filter((e) => (e.involvedObject as Obj).name === 'quiet')).toEqual([]);
  });
});

describe('SecretCredentials', () => {
  it('reads a Secret in the namespace, renames keys, and names what is missing, never a value', async () => {
    const secrets = new SecretCredentials(newClient(), {});
    await api.post(`/api/v1/namespaces/${NS}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3' }, stringData: { aws_key: 'CANARY-key', aws_secret: 'CANARY-secret' } });
    const where = 'integration "raw" of "acme"';
    expect(await secrets.resolve({ secretName: 's3', namespace: NS }, where)).toEqual({ aws_key: 'CANARY-key', aws_secret: 'CANARY-secret' });
    expect(await secrets.resolve({ secretName: 's3', namespace: NS, keys: { accessKeyId: 'aws_key', secretAccessKey: 'aws_secret' } }, where)).toEqual({ accessKeyId: 'CANARY-key', secretAccessKey: 'CANARY-secret' });
    expect(secrets.versions.get(`${NS}/s3`)).toMatch(/^\d+$/);
    const missingKey = await secrets.resolve({ secretName: 's3', namespace: NS, keys: { token: 'nope' } }, where).catch((e: Error) => e);
    expect(missingKey).toBeInstanceOf(SecretNotFoundError);
    expect((missingKey as Error).message).toBe(`${where}: key "nope" not found in Secret ${NS}/s3`);
    const missing = await secrets.resolve({ secretName: 'gone', namespace: NS }, where).catch((e: Error) => e);
    expect((missing as Error).message).toBe(`${where}: Secret ${NS}/gone not found`);
    expect(secrets.failures.get(`${NS}/gone`)?.reason).toBe('SecretNotFound');
    expect(JSON.stringify([...secrets.failures])).not.toContain('CANARY');
    await expect(secrets.resolve({ file: 'x.yaml' }, where)).rejects.toThrow(/credentialsRef.file is read on the command line/);
  });
});

describe('conditions', () => {
  it('move lastTransitionTime only when the status flips', () => {
    const first = mergeConditions(undefined, [{ type: 'Ready', status: 'True', reason: 'Available', message: 'in sync', observedGeneration: 1 }], 't1');
    const same = mergeConditions(first, [{ type: 'Ready', status: 'True', reason: 'Available', message: 'applied 3 change(s)', observedGeneration: 2 }], 't2');
    expect(same[0]).toMatchObject({ lastTransitionTime: 't1', message: 'applied 3 change(s)', observedGeneration: 2 });
    const flipped = mergeConditions(same, [{ type: 'Ready', status: 'False', reason: 'GuardTripped', message: 'x' }], 't3');
    expect(flipped[0]!.lastTransitionTime).toBe('t3');
    const kept = mergeConditions([...flipped, { type: 'Other', status: 'True', reason: 'X', message: '', lastTransitionTime: 't0' } as never], [{ type: 'Ready', status: 'False', reason: 'GuardTripped', message: 'x' }], 't4');
    expect(kept.map((c) => c.type)).toEqual(['Ready', 'Other']);
  });
});

/** Helpers for the in-cluster controller's end-to-end tests: the kube-API test server, objects, conditions. */
import { join } from 'node:path';
import { client, type Client } from '../kube/client.js';
import { KubeApiServer } from '../kube/server.js';
import type { Obj } from '../kube/status.js';
import { startOrgctl, until, type Running } from './proc.js';

export const GV = '/apis/orgctl.dev/v1alpha1';
const PLURAL: Record<string, string> = { Organization: 'organizations', Membership: 'memberships', Integration: 'integrations' };

export interface Cluster {
  kube: KubeApiServer;
  api: Client;
  kubeconfig: string;
  ns: string;
  path(kind: string, name?: string, sub?: string): string;
  create(obj: Obj): Promise<Obj>;
  get(kind: string, name: string): Promise<Obj | undefined>;
  /** JSON merge patch of the main resource (spec, metadata). */
  patch(kind: string, name: string, body: Obj): Promise<Obj>;
  remove(kind: string, name: string): Promise<number>;
  secret(name: string, data: Record<string, string>): Promise<void>;
  condition(kind: string, name: string, type: string): Promise<Obj | undefined>;
  /** Waits until the object's status describes its current generation with this condition. */
  waitFor(kind: string, name: string, type: string, status: string, reason?: string, timeoutMs?: number): Promise<Obj>;
  gone(kind: string, name: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function cluster(dir: string, ns = 'team-a'): Promise<Cluster> {
  const kube = await KubeApiServer.start({ namespaces: [ns] });
  kube.loadCrds();
  const api = client(kube);
  const kubeconfig = kube.writeKubeconfig(join(dir, 'kubeconfig'), { namespace: ns });
  const path = (kind: string, name?: string, sub?: string) => `${GV}/namespaces/${ns}/${PLURAL[kind]}${name ? `/${name}` : ''}${sub ? `/${sub}` : ''}`;
  const ok = (r: { status: number; text: string }, what: string) => {
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
  };
  const get = async (kind: string, name: string) => {
    const r = await api.get(path(kind, name));
    return r.status === 200 ? r.body : undefined;
  };
  const condition = async (kind: string, name: string, type: string) => {
    const o = await get(kind, name);
    return ((o?.status as Obj | undefined)?.conditions as Obj[] | undefined)?.find((c) => c.type === type);
  };
  return {
    kube,
    api,
    kubeconfig,
    ns,
    path,
    async create(obj) {
      const kind = obj.kind as string;
      const r = await api.post(path(kind), { ...obj, metadata: { ...(obj.metadata as Obj), namespace: ns } });
      ok(r, `create ${kind}`);
      return r.body;
    },
    get,
    async patch(kind, name, body) {
      const r = await api.patch(path(kind, name), body, 'application/merge-patch+json');
      ok(r, `patch ${kind} ${name}`);
      return r.body;
    },
    async remove(kind, name) {
      return (await api.delete(path(kind, name))).status;
    },
    async secret(name, data) {
      const body = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, type: 'Opaque', stringData: data };
      const existing = await api.get(`/api/v1/namespaces/${ns}/secrets/${name}`);
      if (existing.status === 200) ok(await api.put(`/api/v1/namespaces/${ns}/secrets/${name}`, { ...body, metadata: { ...body.metadata, resourceVersion: (existing.body.metadata as Obj).resourceVersion } }), 'update secret');
      else ok(await api.post(`/api/v1/namespaces/${ns}/secrets`, body), 'create secret');
    },
    condition,
    async waitFor(kind, name, type, status, reason, timeoutMs = 60_000) {
      let last: Obj | undefined;
      await until(
        async () => {
          last = await get(kind, name);
          const st = last?.status as Obj | undefined;
          const c = (st?.conditions as Obj[] | undefined)?.find((x) => x.type === type);
          return !!c && c.status === status && (reason === undefined || c.reason === reason) && st?.observedGeneration === (last!.metadata as Obj).generation;
        },
        `${kind} ${name} to be ${type}=${status}${reason ? ` (${reason})` : ''}`,
        timeoutMs,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; last seen: ${JSON.stringify(last?.status)}`);
      });
      return last!;
    },
    async gone(kind, name, timeoutMs = 60_000) {
      await until(async () => (await get(kind, name)) === undefined, `${kind} ${name} to be gone`, timeoutMs);
    },
    stop: () => kube.stop(),
  };
}

export function organization(name: string, spec: Obj): Obj {
  return { apiVersion: 'orgctl.dev/v1alpha1', kind: 'Organization', metadata: { name }, spec };
}

export function membership(name: string, org: string, members: [string, string][], extra: Obj = {}): Obj {
  return { apiVersion: 'orgctl.dev/v1alpha1', kind: 'Membership', metadata: { name }, spec: { organization: org, members: members.map(([email, role]) => ({ email, role })), ...extra } };
}

export function integration(name: string, org: string, spec: Obj): Obj {
  return { apiVersion: 'orgctl.dev/v1alpha1', kind: 'Integration', metadata: { name }, spec: { organization: org, ...spec } };
}

export type Controller = Running & { url: () => Promise<string> };

/** `orgctl controller --kubernetes` as a real child process. */
export function kubeController(dir: string, c: Cluster, env: NodeJS.ProcessEnv, extra: string[] = [], started?: Running[]): Controller {
  const run = startOrgctl(['controller', '--kubernetes', '--metrics-addr', '127.0.0.1:0', ...extra], { cwd: dir, env: { KUBECONFIG: c.kubeconfig, ...env } });
  started?.push(run);
  const url = async () => {
    await until(() => /metrics and health on (http:\/\/\S+)/.test(run.stderr()), 'the controller to serve its metrics');
    return /metrics and health on (http:\/\/\S+)/.exec(run.stderr())![1]!;
  };
  return { ...run, url };
}

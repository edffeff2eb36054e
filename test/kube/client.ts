/** A small HTTP client for tests of the kube-API test server: plain requests and line-by-line watches. */
import http from 'node:http';
import type { KubeApiServer } from './server.js';
import type { Json, Obj } from './status.js';
import { scaled } from '../support/timing.js';

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Obj;
  text: string;
}

export interface Client {
  get(path: string, headers?: Record<string, string>): Promise<Res>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Res>;
  put(path: string, body: unknown): Promise<Res>;
  patch(path: string, body: unknown, contentType: string): Promise<Res>;
  delete(path: string, body?: unknown): Promise<Res>;
  request(method: string, path: string, body?: string, headers?: Record<string, string>): Promise<Res>;
}

export function client(server: KubeApiServer, token: string | undefined = server.token): Client {
  const request = (method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Res> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        `${server.url}${path}`,
        {
          method,
          headers: {
            ...(token ? { Authorization: `Bearer ${token}` } : {}),
            Accept: 'application/json',
            ...(body !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) } : {}),
            'User-Agent': 'orgctl-test/1.0',
            ...headers,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            let parsed: Obj = {};
            try {
              parsed = text ? (JSON.parse(text) as Obj) : {};
            } catch {
              parsed = {};
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const json = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  return {
    request,
    get: (path, headers) => request('GET', path, undefined, headers),
    post: (path, body, headers) => request('POST', path, json(body), headers),
    put: (path, body) => request('PUT', path, json(body)),
    patch: (path, body, contentType) => request('PATCH', path, json(body), { 'Content-Type': contentType }),
    delete: (path, body) => request('DELETE', path, body === undefined ? undefined : json(body)),
  };
}

export interface WatchEvent {
  type: string;
  object: Obj;
}

export interface Watch {
  /** HTTP status of the watch request. */
  status: Promise<number>;
  events: WatchEvent[];
  /** Resolves with the first event (from the start of the stream) that satisfies `pred`, not yet taken by next(). */
  next(pred?: (e: WatchEvent) => boolean, timeoutMs?: number): Promise<WatchEvent>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Opens `?watch=true` on a collection path (query included) and collects its events. */
export function watch(server: KubeApiServer, path: string, headers: Record<string, string> = {}): Watch {
  const events: WatchEvent[] = [];
  const taken = new Set<number>();
  const waiters: (() => void)[] = [];
  let endedResolve!: () => void;
  const ended = new Promise<void>((r) => (endedResolve = r));
  let statusResolve!: (n: number) => void;
  const status = new Promise<number>((r) => (statusResolve = r));
  const sep = path.includes('?') ? '&' : '?';
  const req = http.request(`${server.url}${path}${sep}watch=true`, { headers: { Authorization: `Bearer ${server.token}`, Accept: 'application/json', ...headers } }, (res) => {
    statusResolve(res.statusCode ?? 0);
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line) events.push(JSON.parse(line) as WatchEvent);
      }
      for (const w of waiters.splice(0)) w();
    });
    res.on('end', () => {
      endedResolve();
      for (const w of waiters.splice(0)) w();
    });
    res.on('error', () => endedResolve());
  });
  req.on('error', () => {
    statusResolve(0);
    endedResolve();
  });
  req.end();
  let done = false;
  void ended.then(() => (done = true));
  return {
    status,
    events,
    ended,
    close: () => req.destroy(),
    async next(pred = () => true, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = events.findIndex((e, j) => !taken.has(j) && pred(e));
        if (i >= 0) {
          taken.add(i);
          return events[i]!;
        }
        if (done) throw new Error(`watch ${path} ended without the expected event; got ${JSON.stringify(events.map((e) => e.type))}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for a watch event on ${path}; got ${JSON.stringify(events.map((e) => [e.type, (e.object.metadata as Obj | undefined)?.name]))}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, left);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
  };
}

/** Polls `check` every 20 ms until it is true; fails after `timeoutMs` (generous: machines are loaded). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  timeoutMs = scaled(timeoutMs);
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function meta(o: Json | undefined): Obj {
  return ((o as Obj | undefined)?.metadata ?? {}) as Obj;
}

export const ORG_PATH = '/apis/orgctl.dev/v1alpha1/namespaces/team-a/organizations';

export function org(name: string, spec: Obj = { plan: 'premium' }, extra: Obj = {}): Obj {
  return { apiVersion: 'orgctl.dev/v1alpha1', kind: 'Organization', metadata: { name, ...(extra.metadata as Obj | undefined) }, spec, ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'metadata')) };
}

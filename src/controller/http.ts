import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ControllerMetrics } from './metrics.js';

export interface HealthSource {
  readiness(): { ready: boolean; reasons: string[] };
}

/**
 * `/metrics` (Prometheus text), `/healthz` (the process answers: liveness) and `/readyz` (the first full sync
 * is done and the manifests validate; otherwise 503 and why, with file:line:column). Plain text by default,
 * JSON with `?format=json` or `Accept: application/json`.
 */
export async function serveHealth(address: string, metrics: ControllerMetrics, health: HealthSource): Promise<{ url: string; close: () => Promise<void> }> {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new Error(`--metrics-addr must be HOST:PORT (e.g. 127.0.0.1:9464, or :0 for any free port), not "${address}"`);
  const host = m[1] ?? (m[2] || '0.0.0.0');
  const port = Number(m[3]);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const json = url.searchParams.get('format') === 'json' || /application\/json/.test(req.headers.accept ?? '');
    const reply = (status: number, body: unknown, text: string) => {
      res.writeHead(status, { 'content-type': json ? 'application/json' : 'text/plain; charset=utf-8' });
      res.end(json ? `${JSON.stringify(body)}\n` : text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, { error: 'method not allowed' }, 'method not allowed\n');
    if (url.pathname === '/healthz') return reply(200, { ok: true }, 'ok\n');
    if (url.pathname === '/readyz') {
      const r = health.readiness();
      return reply(r.ready ? 200 : 503, r, r.ready ? 'ready\n' : `not ready:\n${r.reasons.map((x) => `- ${x}`).join('\n')}\n`);
    }
    if (url.pathname === '/metrics') {
      metrics
        .render()
        .then(({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType });
          res.end(body);
        })
        .catch((err: unknown) => reply(500, { error: (err as Error).message }, `${(err as Error).message}\n`));
      return;
    }
    reply(404, { error: 'not found', paths: ['/metrics', '/healthz', '/readyz'] }, 'not found: /metrics, /healthz, /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shown}:${bound.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as a fake received it: for tests to assert every wire call. */
export interface Recorded {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body, and parsed when it is JSON. */
  raw: string;
  body: unknown;
  /** The status answered; undefined when the connection was dropped. */
  status?: number;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** What a handler may do besides answering: `drop` closes the connection after the work, without an answer. */
export type Handler = (req: Recorded) => Reply | Promise<Reply>;

/**
 * A platform fake on 127.0.0.1 (ephemeral port) over node:http. Records every request; can drop the connection
 * of a request matching `dropAfterWork` once, after the handler has done the work (a lost answer).
 */
export class FakeServer {
  readonly requests: Recorded[] = [];
  /** One-shot: the next request this matches is handled, then its connection is destroyed without an answer. */
  dropAfterWork: ((req: Recorded) => boolean) | undefined;
  /** One-shot: the next request this matches is answered with this instead of being handled. */
  failNext: { match: (req: Recorded) => boolean; reply: Reply } | undefined;
  private server: Server | undefined;
  url = '';

  constructor(private readonly handle: Handler) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Requests whose `METHOD /path` matches, e.g. `POST /api/v1/orgs/o1/members`. */
  calls(pattern: string | RegExp): Recorded[] {
    return this.requests.filter((r) => (typeof pattern === 'string' ? `${r.method} ${r.path}` === pattern : pattern.test(`${r.method} ${r.path}`)));
  }

  /** `METHOD /path` of every request, in order. */
  log(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    const rec: Recorded = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, raw, body };
    this.requests.push(rec);
    let reply: Reply;
    if (this.failNext?.match(rec)) {
      reply = this.failNext.reply;
      this.failNext = undefined;
    } else {
      reply = await this.handle(rec);
    }
    if (this.dropAfterWork?.(rec)) {
      this.dropAfterWork = undefined;
      req.socket.destroy();
      return;
    }
    rec.status = reply.status;
    const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
    res.writeHead(reply.status, { ...(text ? { 'content-type': 'application/json' } : {}), ...reply.headers });
    res.end(text);
  }
}

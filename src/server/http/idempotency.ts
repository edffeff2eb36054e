import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, databaseError } from '../errors.js';
import type { PlatformService } from '../platform.js';
import { canonicalJson } from '../crypto.js';

/** How long a key is remembered: far longer than any client retries. */
const KEEP_MS = 24 * 60 * 60 * 1000;

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: { key: string; hash: string; stored?: boolean };
  }
}

/**
 * Runs a write route's work in one transaction and, when the request carries an Idempotency-Key, stores its
 * answer in that same transaction: a crash can lose both or neither, never the change without its answer
 * (a retry would then do the change again). `status` defaults to what the work set on the reply (200).
 */
export type Commit = <T>(req: FastifyRequest, reply: FastifyReply, work: () => T, status?: number) => T;

interface Stored {
  method: string;
  path: string;
  request_hash: string;
  status: number;
  body: string;
}

/**
 * Idempotency-Key for writes (as Stripe's API does): the first answer to a key is stored; a retry with the
 * same key and the same request gets it back, marked `Idempotent-Replayed: true`, and nothing is done
 * again; the same key with a different request is a 422. Answers of 5xx and 429 are not stored, so those
 * can be retried for real.
 */
export function registerIdempotency(app: FastifyInstance, platform: PlatformService): Commit {
  const db = platform.ctx;
  const store = (req: FastifyRequest, status: number, body: string) => {
    const now = db.now();
    db.stmt('INSERT OR IGNORE INTO idempotency (user_id, key, method, path, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
      req.actor!.id,
      req.idempotency!.key,
      req.method,
      req.url.split('?')[0]!,
      req.idempotency!.hash,
      status,
      body,
      now,
    );
    db.stmt('DELETE FROM idempotency WHERE created_at < ?').run(now - KEEP_MS);
  };
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers['idempotency-key'];
    if (req.method === 'GET' || header === undefined || !req.actor || req.routeOptions.config?.changesNothing) return;
    const key = Array.isArray(header) ? header[0]! : header;
    if (key.length === 0 || key.length > 200) throw new ApiError(400, 'invalid_request', 'Idempotency-Key must be 1 to 200 characters', { field: 'Idempotency-Key' });
    const hash = createHmac('sha256', platform.requestHashKey).update(`${req.method} ${req.url}\n${canonicalJson(req.body ?? null)}`).digest('hex');
    const stored = db.stmt('SELECT method, path, request_hash, status, body FROM idempotency WHERE user_id = ? AND key = ?').get(req.actor.id, key) as Stored | undefined;
    if (stored) {
      if (stored.request_hash !== hash) {
        throw new ApiError(422, 'idempotency_key_reused', `Idempotency-Key was first used for another request (${stored.method} ${stored.path})`, { field: 'Idempotency-Key' });
      }
      return reply.status(stored.status).header('idempotent-replayed', 'true').type('application/json; charset=utf-8').send(stored.body);
    }
    req.idempotency = { key, hash };
  });
  // Errors (4xx) changed nothing, so their answers are stored on their own, once sent.
  app.addHook('onSend', async (req, reply, payload) => {
    if (!req.idempotency || req.idempotency.stored || !req.actor || reply.statusCode >= 500 || reply.statusCode === 429) return payload;
    const body = typeof payload === 'string' ? payload : payload === undefined || payload === null ? '' : String(payload);
    try {
      db.write(() => store(req, reply.statusCode, body));
    } catch (err) {
      // Remembering a refusal is a courtesy: a retry is refused again the same way. A locked, read-only or
      // full database must not turn the refusal into a 5xx.
      if (!databaseError(err)) throw err;
    }
    return payload;
  });
  return (req, reply, work, status) =>
    db.write(() => {
      const value = work();
      if (status !== undefined) reply.status(status);
      if (req.idempotency && req.actor) {
        // Fastify serialises route answers (no response schema on writes) with JSON.stringify, as here.
        store(req, reply.statusCode, value === undefined ? '' : JSON.stringify(value));
        req.idempotency.stored = true;
      }
      return value;
    });
}

import type { FastifyInstance } from 'fastify';
import { notFound } from '../errors.js';
import type { PlatformService } from '../platform.js';
import { actor } from './actor.js';
import type { Commit } from './idempotency.js';
import { pageOpts } from './paging.js';
import { emailSchema, pageQuery } from './schemas.js';

const listQuery = { type: 'object', additionalProperties: false, properties: { user: emailSchema } };
const auditQuery = { ...pageQuery, properties: { ...pageQuery.properties, action: { type: 'string', maxLength: 100 } } };

/**
 * API tokens over REST: list (`?user=EMAIL`, default the caller's own) and revoke by id, for the people the
 * caller may manage (see Tokens); and the platform's own audit log, where token events are recorded.
 * Tokens are created on the database (`orgctl platform token create`), never here.
 */
export function registerTokenRoutes(app: FastifyInstance, platform: PlatformService, commit: Commit): void {
  const { tokens, audit } = platform;
  app.get('/api/v1/tokens', { schema: { querystring: listQuery } }, async (req) => ({ items: tokens.list(actor(req), (req.query as { user?: string }).user) }));
  app.delete('/api/v1/tokens/:id', async (req, reply) => {
    const raw = (req.params as { id: string }).id;
    // An id is digits; anything else names no token (404, as an unknown id).
    if (!/^[1-9][0-9]{0,15}$/.test(raw)) throw notFound(`token "${raw}"`);
    return commit(req, reply, () => tokens.revoke(actor(req), Number(raw)));
  });
  app.get('/api/v1/audit', { schema: { querystring: auditQuery } }, async (req) => {
    const q = req.query as { cursor?: string; limit?: string; action?: string };
    return audit.listPlatform(actor(req), { ...pageOpts(q), action: q.action });
  });
}

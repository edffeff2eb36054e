import type { FastifyInstance } from 'fastify';
import { notFound } from '../errors.js';
import type { PlatformService } from '../platform.js';
import { actor } from './actor.js';
import type { Commit } from './idempotency.js';

const ttlSeconds = { type: 'integer', minimum: 1, maximum: 3600 };
const leaseId = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._:-]+$' };
const acquireBody = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'holder', 'ttlSeconds'],
  properties: { id: leaseId, holder: { type: 'string', minLength: 1, maxLength: 200 }, ttlSeconds },
};
const renewBody = { type: 'object', additionalProperties: false, required: ['ttlSeconds'], properties: { ttlSeconds } };

type L = { org: string; id: string };

/**
 * Apply leases: `POST` takes (or re-takes) the lease on an organization, `PUT .../:id` renews it, `DELETE
 * .../:id` gives it up, `DELETE` without an id breaks whatever lease there is (force-unlock).
 */
export function registerLeaseRoutes(app: FastifyInstance, platform: PlatformService, commit: Commit): void {
  const { leases } = platform;
  app.get('/api/v1/orgs/:org/lease', async (req) => {
    const org = (req.params as L).org;
    const lease = leases.get(actor(req), org);
    if (!lease) throw notFound(`lease on "${org}"`);
    return lease;
  });
  app.post('/api/v1/orgs/:org/lease', { schema: { body: acquireBody } }, async (req, reply) => {
    const body = req.body as { id: string; holder: string; ttlSeconds: number };
    return commit(req, reply, () => leases.acquire(actor(req), (req.params as L).org, { id: body.id, holder: body.holder, ttlMs: body.ttlSeconds * 1000 }));
  });
  app.put('/api/v1/orgs/:org/lease/:id', { schema: { body: renewBody } }, async (req, reply) => {
    const p = req.params as L;
    return commit(req, reply, () => leases.renew(actor(req), p.org, p.id, (req.body as { ttlSeconds: number }).ttlSeconds * 1000));
  });
  app.delete('/api/v1/orgs/:org/lease/:id', async (req, reply) => {
    const p = req.params as L;
    commit(req, reply, () => leases.release(actor(req), p.org, p.id), 204);
    return reply.send();
  });
  app.delete('/api/v1/orgs/:org/lease', async (req, reply) =>
    commit(req, reply, () => {
      const removed = leases.forceRelease(actor(req), (req.params as L).org);
      return { removed: removed ?? null };
    }),
  );
}

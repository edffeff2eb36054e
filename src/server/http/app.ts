import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ApiError, badRequest, databaseError, notFound } from '../errors.js';
import type { PlatformService } from '../platform.js';
import { INVITE_FIELDS, MEMBER_FIELDS, type BatchResult } from '../service/members.js';
import { actor } from './actor.js';
import { registerFaults, type FaultSpec } from './faults.js';
import { registerIdempotency } from './idempotency.js';
import { MAX_BODY_DEPTH, nestedDeeperThan } from './json-depth.js';
import { fieldsOpt, pageOpts } from './paging.js';
import * as S from './schemas.js';
import { registerLeaseRoutes } from './lease-routes.js';
import { registerTokenRoutes } from './token-routes.js';
import { registerWorkspaceRoutes } from './workspace-routes.js';

export interface AppOptions {
  /** Log requests (to stderr, as JSON lines). Tests keep it off. */
  logger?: boolean;
  /** Injected faults (tests and demos); none by default. */
  faults?: FaultSpec;
  /** How long a request waits for another process's write lock before answering 503 (default 100 ms). */
  busyTimeoutMs?: number;
}

/** A single-item call made through a batch: its failure becomes the response's status. */
function single<T>(results: BatchResult<T>[]): T {
  const r = results[0]!;
  if (!r.ok) throw new ApiError(r.error.status, r.error.code, r.error.message, r.error.details);
  return r.result;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A POST that writes nothing (a question with a body a GET cannot carry): open to read-only tokens, never recorded by Idempotency-Key. */
    changesNothing?: boolean;
  }
}

/** Batches larger than the platform takes are refused whole, before any validation or write. */
function limitBatch(field: string) {
  return async (req: FastifyRequest) => {
    const list = (req.body as Record<string, unknown> | undefined)?.[field];
    if (Array.isArray(list) && list.length > S.MAX_BATCH) {
      throw new ApiError(413, 'batch_too_large', `a batch takes at most ${S.MAX_BATCH} items; got ${list.length}`, { field, limit: S.MAX_BATCH });
    }
  };
}

/**
 * The platform's REST API over a PlatformService. Routes are thin: parse, call the service, shape the reply.
 * Each service call is one SQLite transaction.
 */
export function buildApp(platform: PlatformService, opts: AppOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: opts.logger ? { level: 'info', redact: ['req.headers.authorization'] } : false,
    bodyLimit: 1024 * 1024,
    // Bodies are validated exactly: no stripping of unknown fields, no type coercion.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    // A path that does not decode (`/orgs/%C0%AE`) fails in the router, before the error handler: answer it
    // in the API's error shape too, not fastify's own.
    frameworkErrors: (err: Error, _req: FastifyRequest, reply: FastifyReply) => {
      reply.status(400).send(badRequest(err.message || 'invalid request URL').toJSON());
    },
  });
  const { identity, orgs, members, integrations, audit } = platform;
  // One thread serves every request, and SQLite waits for another process's write lock by sleeping in it:
  // wait briefly, then answer 503 with Retry-After (clients retry it) instead of stalling every other request,
  // health checks included, for the 5 s a command-line process waits.
  platform.db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 100}`);

  // An empty body with a JSON content type is "no body" (clients often set the header on every call).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '' || body === undefined) return done(null, undefined);
    if (nestedDeeperThan(body as string)) {
      return done(badRequest(`request body is nested deeper than ${MAX_BODY_DEPTH} levels`, 'body', { limit: MAX_BODY_DEPTH }), undefined);
    }
    parseJson(req, body as string, done);
  });

  app.setErrorHandler((err: unknown, _req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ApiError) return reply.status(err.status).send(err.toJSON());
    const db = databaseError(err);
    if (db) {
      if (db.status !== 507) app.log.warn({ code: (err as { code?: string }).code }, db.message);
      else app.log.error({ code: (err as { code?: string }).code }, db.message);
      if (db.details.retryAfterSeconds) reply.header('retry-after', String(db.details.retryAfterSeconds));
      return reply.status(db.status).send(db.toJSON());
    }
    const e = err as { statusCode?: number; code?: string; message?: string; validation?: { instancePath: string; message?: string; params?: Record<string, unknown> }[]; validationContext?: string };
    if (e.validation) {
      const v = e.validation[0];
      const extra = v?.params?.additionalProperty ? `/${String(v.params.additionalProperty)}` : v?.params?.missingProperty ? `/${String(v.params.missingProperty)}` : '';
      const field = `${e.validationContext ?? 'body'}${(v?.instancePath ?? '') + extra}`.replace(/\//g, '.');
      const what = v?.params?.additionalProperty ? `unknown field "${String(v.params.additionalProperty)}"` : (v?.message ?? 'is invalid');
      return reply.status(400).send(badRequest(`${field}: ${what}`, field).toJSON());
    }
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send(new ApiError(413, 'body_too_large', 'request body is larger than 1 MiB').toJSON());
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.status(415).send(new ApiError(415, 'unsupported_media_type', 'send JSON (Content-Type: application/json)').toJSON());
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.status(e.statusCode).send(new ApiError(e.statusCode, 'invalid_request', e.message ?? 'invalid request').toJSON());
    }
    app.log.error(err);
    return reply.status(500).send(new ApiError(500, 'internal', 'internal error').toJSON());
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send(notFound(`route ${req.method} ${req.url.split('?')[0]}`).toJSON()));

  // Authentication for everything under /api/v1 except accepting an invite by its token.
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0]!;
    if (!path.startsWith('/api/v1/') || path === '/api/v1/invites/accept') return;
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    req.actor = identity.authenticate(token);
    // A read-scoped token reads: every write route refuses it, before its body is even looked at. A path that
    // matches no route (`..` and all) is a 404 at once, also before any body is read.
    const route = req.routeOptions.url;
    if (req.actor.scope === 'read' && req.method !== 'GET' && req.method !== 'HEAD' && !req.routeOptions.config?.changesNothing) {
      if (route === undefined) throw notFound(`route ${req.method} ${path}`);
      throw new ApiError(403, 'insufficient_scope', `this token is read-only (scope "read"); ${req.method} ${route} needs a token with scope "write"`, {
        scope: 'read',
        required: 'write',
      });
    }
  });

  if (opts.faults) registerFaults(app, opts.faults);
  const commit = registerIdempotency(app, platform);

  app.get('/healthz', async () => ({ status: 'ok' }));

  // ---- me ----
  app.get('/api/v1/me', async (req) => identity.me(actor(req)));
  app.put('/api/v1/me', { schema: { body: S.meUpdateBody } }, async (req, reply) =>
    commit(req, reply, () => identity.updateMe(actor(req), req.body as { activeOrganization?: string; firstName?: string; lastName?: string; description?: string })),
  );

  // ---- organizations ----
  app.get('/api/v1/orgs', async (req) => ({ items: orgs.list(actor(req)) }));
  app.post('/api/v1/orgs', { schema: { body: S.orgCreateBody } }, async (req, reply) => commit(req, reply, () => orgs.create(actor(req), req.body as never), 201));
  app.get('/api/v1/orgs/:org', async (req) => orgs.get(actor(req), (req.params as { org: string }).org));
  app.get('/api/v1/org-names/:name', async (req) => orgs.nameTaken(actor(req), (req.params as { name: string }).name));
  app.patch('/api/v1/orgs/:org', { schema: { body: S.orgUpdateBody } }, async (req, reply) =>
    commit(req, reply, () => orgs.update(actor(req), (req.params as { org: string }).org, req.body as never)),
  );
  app.delete('/api/v1/orgs/:org', async () => {
    throw new ApiError(405, 'not_supported', 'organizations cannot be deleted; remove their members instead');
  });

  // ---- members ----
  app.get('/api/v1/orgs/:org/members', {
    schema: { querystring: { ...S.pageQuery, properties: { ...S.pageQuery.properties, role: S.roleSchema, fields: S.fieldsQuery } }, response: { 200: S.memberPageResponse } },
  }, async (req) => {
    const q = req.query as { cursor?: string; limit?: string; role?: 'owner'; fields?: string };
    return members.list(actor(req), (req.params as { org: string }).org, { ...pageOpts(q), role: q.role, fields: fieldsOpt(q.fields, MEMBER_FIELDS) });
  });
  app.patch('/api/v1/orgs/:org/members/:email', { schema: { body: S.memberUpdateBody } }, async (req, reply) => {
    const p = req.params as { org: string; email: string };
    return commit(req, reply, () => single(members.update(actor(req), p.org, [{ ...(req.body as object), email: p.email }])));
  });
  app.delete('/api/v1/orgs/:org/members/:email', async (req, reply) => {
    const p = req.params as { org: string; email: string };
    return commit(req, reply, () => single(members.remove(actor(req), p.org, [p.email])));
  });
  app.post('/api/v1/orgs/:org/members/batch-update', { preValidation: limitBatch('members'), schema: { body: S.memberBatchBody } }, async (req, reply) => {
    const org = (req.params as { org: string }).org;
    return commit(req, reply, () => {
      const results = members.update(actor(req), org, (req.body as { members: never[] }).members);
      return { results, stateVersion: platform.ctx.orgByName(org).version };
    });
  });
  app.post('/api/v1/orgs/:org/members/batch-remove', { preValidation: limitBatch('emails'), schema: { body: S.emailsBody } }, async (req, reply) => {
    const org = (req.params as { org: string }).org;
    return commit(req, reply, () => {
      const results = members.remove(actor(req), org, (req.body as { emails: string[] }).emails);
      return { results, stateVersion: platform.ctx.orgByName(org).version };
    });
  });

  // ---- invites ----
  app.get('/api/v1/orgs/:org/invites', {
    schema: {
      querystring: { ...S.pageQuery, properties: { ...S.pageQuery.properties, status: { type: 'string', enum: ['pending', 'expired', 'accepted', 'cancelled', 'open'] }, fields: S.fieldsQuery } },
      response: { 200: S.invitePageResponse },
    },
  }, async (req) => {
    const q = req.query as { cursor?: string; limit?: string; status?: 'pending'; fields?: string };
    return members.listInvites(actor(req), (req.params as { org: string }).org, { ...pageOpts(q), status: q.status, fields: fieldsOpt(q.fields, INVITE_FIELDS) });
  });
  app.post('/api/v1/orgs/:org/invites', { schema: { body: S.inviteBody } }, async (req, reply) => {
    const { expiresInDays, ...invite } = req.body as { expiresInDays?: number; email: string; role: 'member' };
    return commit(req, reply, () => single(members.invite(actor(req), (req.params as { org: string }).org, [invite], { expiresInDays })), 201);
  });
  app.post('/api/v1/orgs/:org/invites/batch', { preValidation: limitBatch('invites'), schema: { body: S.inviteBatchBody } }, async (req, reply) => {
    const org = (req.params as { org: string }).org;
    const body = req.body as { invites: never[]; expiresInDays?: number };
    return commit(req, reply, () => {
      const results = members.invite(actor(req), org, body.invites, { expiresInDays: body.expiresInDays });
      return { results, stateVersion: platform.ctx.orgByName(org).version };
    });
  });
  app.post('/api/v1/orgs/:org/invites/batch-resend', { preValidation: limitBatch('invites'), schema: { body: S.resendBatchBody } }, async (req, reply) => {
    const org = (req.params as { org: string }).org;
    const body = req.body as { invites: never[]; expiresInDays?: number };
    return commit(req, reply, () => {
      const results = members.resend(actor(req), org, body.invites, { expiresInDays: body.expiresInDays });
      return { results, stateVersion: platform.ctx.orgByName(org).version };
    });
  });
  app.post('/api/v1/orgs/:org/invites/batch-cancel', { preValidation: limitBatch('emails'), schema: { body: S.emailsBody } }, async (req, reply) => {
    const org = (req.params as { org: string }).org;
    return commit(req, reply, () => {
      const results = members.cancel(actor(req), org, (req.body as { emails: string[] }).emails);
      return { results, stateVersion: platform.ctx.orgByName(org).version };
    });
  });
  app.post('/api/v1/orgs/:org/invites/:email/resend', {
    // A bare resend (no body) is the common case.
    preValidation: async (req) => {
      req.body ??= {};
    },
    schema: { body: S.resendBody },
  }, async (req, reply) => {
    const p = req.params as { org: string; email: string };
    const { expiresInDays, ...rest } = (req.body ?? {}) as { expiresInDays?: number };
    return commit(req, reply, () => single(members.resend(actor(req), p.org, [{ ...rest, email: p.email }], { expiresInDays })));
  });
  app.delete('/api/v1/orgs/:org/invites/:email', async (req, reply) => {
    const p = req.params as { org: string; email: string };
    return commit(req, reply, () => single(members.cancel(actor(req), p.org, [p.email])));
  });
  app.post('/api/v1/orgs/:org/invites/:email/accept', async (req, reply) => {
    const p = req.params as { org: string; email: string };
    return commit(req, reply, () => members.acceptByEmail(actor(req), p.org, p.email));
  });
  app.post('/api/v1/invites/accept', { schema: { body: S.acceptBody } }, async (req) => members.acceptByToken((req.body as { token: string }).token));
  app.get('/api/v1/outbox', { schema: { querystring: { type: 'object', additionalProperties: false, required: ['email'], properties: { email: S.emailSchema } } } }, async (req) => ({
    items: members.outbox(actor(req), (req.query as { email: string }).email),
  }));

  // ---- integrations ----
  app.get('/api/v1/orgs/:org/integrations', async (req) => integrations.list(actor(req), (req.params as { org: string }).org));
  app.post('/api/v1/orgs/:org/integrations', { schema: { body: S.integrationCreateBody } }, async (req, reply) =>
    commit(req, reply, () => integrations.create(actor(req), (req.params as { org: string }).org, req.body as never), 201),
  );
  app.get('/api/v1/orgs/:org/integrations/:name', async (req) => {
    const p = req.params as { org: string; name: string };
    return integrations.get(actor(req), p.org, p.name);
  });
  app.patch('/api/v1/orgs/:org/integrations/:name', { schema: { body: S.integrationUpdateBody } }, async (req, reply) => {
    const p = req.params as { org: string; name: string };
    return commit(req, reply, () => integrations.update(actor(req), p.org, p.name, req.body as never));
  });
  // Compares given credentials with the stored ones and answers only whether they are the same: writes
  // nothing, so a read-only token (a pull-request plan) may ask it too.
  app.post('/api/v1/orgs/:org/integrations/:name/verify-credentials', { schema: { body: S.verifyCredentialsBody }, config: { changesNothing: true } }, async (req) => {
    const p = req.params as { org: string; name: string };
    return integrations.verifyCredentials(actor(req), p.org, p.name, (req.body as { credentials: Record<string, string> }).credentials);
  });
  app.delete('/api/v1/orgs/:org/integrations/:name', async (req, reply) => {
    const p = req.params as { org: string; name: string };
    commit(req, reply, () => integrations.delete(actor(req), p.org, p.name), 204);
    return reply.send();
  });

  // ---- audit ----
  app.get('/api/v1/orgs/:org/audit', {
    schema: { querystring: { ...S.pageQuery, properties: { ...S.pageQuery.properties, action: { type: 'string', maxLength: 100 } } } },
  }, async (req) => {
    const q = req.query as { cursor?: string; limit?: string; action?: string };
    return audit.list(actor(req), (req.params as { org: string }).org, { ...pageOpts(q), action: q.action });
  });

  registerWorkspaceRoutes(app, platform, commit);
  registerLeaseRoutes(app, platform, commit);
  registerTokenRoutes(app, platform, commit);
  return app;
}

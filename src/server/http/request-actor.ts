import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import type { Actor } from '../service/context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook from the bearer token. */
    actor?: Actor;
  }
}

/** The authenticated caller of a request; 401 when the token was missing or invalid. */
export function actor(req: FastifyRequest): Actor {
  if (!req.actor) throw new ApiError(401, 'unauthorized', 'missing or invalid bearer token');
  return req.actor;
}

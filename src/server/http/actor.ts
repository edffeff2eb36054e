import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import type { Actor } from '../service/context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, set by the authentication hook (absent on unauthenticated routes). */
    actor?: Actor;
  }
}

/**
 * The authenticated caller of a route. Shared by `app.ts` and the route modules it registers, which is why it
 * lives here and not in `app.ts`: route modules importing the app that imports them made an import cycle.
 */
export function actor(req: FastifyRequest): Actor {
  if (!req.actor) throw new ApiError(401, 'unauthorized', 'missing or invalid bearer token');
  return req.actor;
}

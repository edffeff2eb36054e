import { badRequest } from '../errors.js';

const MAX_LIMIT = 1000;

/** `?cursor=&limit=` of a list route: at most 1000 items a page, 100 by default. */
export function pageOpts(q: { cursor?: string; limit?: string }): { cursor?: string; limit: number } {
  const limit = q.limit === undefined ? 100 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw badRequest(`limit must be between 1 and ${MAX_LIMIT}`, 'limit');
  return { cursor: q.cursor, limit };
}

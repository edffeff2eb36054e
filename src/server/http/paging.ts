import { badRequest } from '../errors.js';

const MAX_LIMIT = 1000;

/** `?cursor=&limit=` of a list route: at most 1000 items a page, 100 by default. */
export function pageOpts(q: { cursor?: string; limit?: string }): { cursor?: string; limit: number } {
  const limit = q.limit === undefined ? 100 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw badRequest(`limit must be between 1 and ${MAX_LIMIT}`, 'limit');
  return { cursor: q.cursor, limit };
}

/**
 * `?fields=email,role`: the item fields a list page holds (a client that needs a few asks for those, and the
 * page is built and sent with those alone); undefined: all. An unknown name is a 400 listing the known ones.
 */
export function fieldsOpt<F extends string>(raw: string | undefined, known: readonly F[]): F[] | undefined {
  if (raw === undefined) return undefined;
  const names = [...new Set(raw.split(',').map((f) => f.trim()))];
  const unknown = names.find((f) => !(known as readonly string[]).includes(f));
  if (unknown !== undefined) throw badRequest(`fields: unknown field "${unknown}"; fields: ${known.join(', ')}`, 'fields');
  return names as F[];
}

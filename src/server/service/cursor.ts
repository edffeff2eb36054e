import { badRequest } from '../errors.js';

/** The lists that page, each with cursors of its own: a cursor from one list is refused by another. */
export type CursorKind = 'members' | 'invites' | 'audit' | 'projects';

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** An opaque cursor: the list's kind and the last key of the page, base64url-encoded. */
export function encodeCursor(kind: CursorKind, key: string): string {
  return Buffer.from(`${kind}:${key}`, 'utf8').toString('base64url');
}

function invalid(): never {
  throw badRequest('invalid cursor: pass back the nextCursor of a previous page of this list, or no cursor for the first page', 'cursor');
}

/**
 * The key a cursor carries ('' without a cursor: the first page). Anything that is not a cursor this list
 * made is a 400: not base64url, not UTF-8, another list's, or a key of the wrong shape. Node's base64 decoder
 * skips characters it does not know, so `!!!notbase64` would otherwise decode to nothing and read as "the
 * first page" (or, at the end, as an empty last page).
 */
export function decodeCursor(kind: CursorKind, cursor: string | undefined, validKey: (key: string) => boolean): string {
  if (cursor === undefined || cursor === '') return '';
  if (!BASE64URL.test(cursor)) invalid();
  const bytes = Buffer.from(cursor, 'base64url');
  // Canonical encoding only: one cursor per position (and no trailing bits that decode to nothing).
  if (bytes.toString('base64url') !== cursor) invalid();
  const text = bytes.toString('utf8');
  if (Buffer.from(text, 'utf8').compare(bytes) !== 0) invalid(); // not UTF-8
  const prefix = `${kind}:`;
  if (!text.startsWith(prefix)) invalid();
  const key = text.slice(prefix.length);
  if (!validKey(key)) invalid();
  return key;
}

/** A positive integer id in decimal (audit entries, invites), as cursors hold them. */
export const isId = (text: string): boolean => /^[1-9][0-9]{0,15}$/.test(text);

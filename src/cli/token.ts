import { isBearerToken } from '../platform/http/address.js';
import { UserError } from './io.js';

/**
 * A bearer token as read from $ORGCTL_TOKEN or a token file, checked before it goes into a header. A token
 * holding a line break, a control or a non-ASCII character (a token file with a second line, a paste gone
 * wrong) is refused here, naming where it came from and never quoting it: fetch's own error quotes the whole
 * header value, and undici's Agent never answers after a few such requests, so the CLI ended silently.
 */
export function bearerToken(raw: string, from: string): string {
  const token = raw.trim();
  if (token && !isBearerToken(token)) {
    throw new UserError(`the token in ${from} holds characters a bearer token cannot (spaces, line breaks, control or non-ASCII characters); it is not shown`);
  }
  return token;
}

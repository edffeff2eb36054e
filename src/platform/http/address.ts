/**
 * What the HTTP adapter accepts as its address and token, in one place for the adapter and the CLI (which
 * checks earlier, to name where a bad value came from). Neither check ever quotes the value: a token is a
 * secret, and an address may carry one.
 */

/** A token that can go into an `Authorization: Bearer` header: visible ASCII only. undici's own error for
 * a bad header value quotes it whole, and its Agent stops answering after a few such requests. */
export function isBearerToken(token: string): boolean {
  return /^[\x21-\x7e]+$/.test(token);
}

/** Why an http(s) platform address cannot be used, or undefined. Plans and errors print the address, so
 * one with a user name or password in it is refused. */
export function httpAddressProblem(address: string): 'not a valid URL' | 'not http(s)' | 'carries credentials' | undefined {
  if (!URL.canParse(address)) return 'not a valid URL';
  const url = new URL(address);
  if (!/^https?:$/.test(url.protocol)) return 'not http(s)';
  if (url.username || url.password) return 'carries credentials';
  return undefined;
}

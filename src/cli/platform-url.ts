import { quote } from '../util/quote.js';
import { httpAddressProblem } from '../platform/http/address.js';
import { parseSaasAddress, SAAS_PLATFORMS } from '../platform/saas/address.js';
import { ExitCode, UserError } from './io.js';

/**
 * A platform address as given by --platform, $ORGCTL_PLATFORM or a context, checked before anything prints
 * it: plans, errors and `config get-contexts` all show the address, so one that carries a user name or
 * password (`https://user:secret@host`) is refused without being quoted. The token belongs in
 * $ORGCTL_TOKEN or a token file.
 */
export function checkPlatformAddress(raw: string, from: string): string {
  if (raw === '' || raw.startsWith('file:')) return raw;
  const hosted = parseSaasAddress(raw);
  if (typeof hosted === 'string') throw new UserError(`${from}: ${hosted}`, ExitCode.usage);
  if (hosted) return raw;
  if (!/^https?:\/\//i.test(raw)) {
    throw new UserError(
      `${from} must be http(s)://HOST:PORT or file:PATH, not ${quote(raw.replace(/\/\/[^/@]*@/, '//…@'))} (hosted platforms: ${SAAS_PLATFORMS.dataloop.form}, ${SAAS_PLATFORMS.ango.form})`,
      ExitCode.usage,
    );
  }
  const problem = httpAddressProblem(raw);
  if (problem === 'carries credentials') {
    throw new UserError(`${from} carries credentials in the URL; they are not shown and not used: put the token in ORGCTL_TOKEN or a token file`, ExitCode.usage);
  }
  if (problem) throw new UserError(`${from} is not a valid URL (it is not shown, in case it carries a secret)`, ExitCode.usage);
  return raw;
}

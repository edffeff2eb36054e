import { parseExpiry } from '../model/expiry.js';
import { ExitCode, UserError } from './io.js';

/**
 * The time expiries are judged at: now, or `$ORGCTL_NOW` (an RFC 3339 date or time) so that tests, and anyone
 * checking what a plan will do on a given day, can move it. Never used for anything but expiries.
 */
export function clock(env: NodeJS.ProcessEnv): () => number {
  const fixed = env.ORGCTL_NOW;
  if (fixed === undefined || fixed === '') return Date.now;
  const at = parseExpiry(fixed);
  if (at === undefined) throw new UserError(`ORGCTL_NOW must be an RFC 3339 date or time (e.g. 2026-12-31T09:00:00Z), not ${JSON.stringify(fixed.slice(0, 40))}`, ExitCode.usage);
  return () => at;
}

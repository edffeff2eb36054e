import { LeaseHeldError, LockLostError } from '../locks.js';
import { PlatformError } from '../types.js';

/** The built-in platform's lease answers (409 lease_held, 409 lease_lost) as the lock interface's errors. */
export function leaseError(org: string, err: unknown): unknown {
  if (!(err instanceof PlatformError)) return err;
  if (err.code === 'lease_held') {
    const d = err.details;
    return new LeaseHeldError(org, String(d.holder ?? 'someone'), String(d.since ?? 'an unknown time'), String(d.expiresAt ?? 'an unknown time'));
  }
  if (err.code === 'lease_lost') return new LockLostError(err.message);
  return err;
}

import { readFileSync } from 'node:fs';
import { MAX_BATCH } from '../platform/batch.js';
import { NoPlatformError, openPlatformTarget, type Target, type WhenMissing } from '../platform/registry.js';
import { currentContext } from './config.js';
import { localIdentity } from './identity.js';
import { ExitCode, UserError, type Io } from './io.js';
import { checkPlatformAddress } from './platform-url.js';
import { bearerToken } from './token.js';

export interface TargetFlags {
  platform?: string;
  rateLimit?: string;
  batchSize?: string;
}

/**
 * The platform to work on: `--platform URL` or $ORGCTL_PLATFORM (`http(s)://...` for `orgctl platform
 * serve`; `file:PATH` or nothing for the embedded database, .orgctl/platform.db by default), else the
 * current context (kubeconfig style). A token comes from $ORGCTL_TOKEN or the file named by
 * $ORGCTL_TOKEN_FILE or the context: never from a flag, which `ps` would show.
 */
export async function openTarget(
  flag: string | undefined,
  io: Io,
  opts: { rateLimit?: string; batchSize?: string; whenMissing?: WhenMissing; breakerCooldownMs?: number; parallelism?: number } = {},
): Promise<Target> {
  const context = flag || io.env.ORGCTL_PLATFORM ? undefined : currentContext(io.env);
  const address = checkPlatformAddress(
    flag ?? io.env.ORGCTL_PLATFORM ?? context?.platform ?? '',
    flag !== undefined ? '--platform' : io.env.ORGCTL_PLATFORM ? 'ORGCTL_PLATFORM' : `context "${context?.name ?? ''}"'s platform`,
  );
  const token = () => {
    let value = io.env.ORGCTL_TOKEN && bearerToken(io.env.ORGCTL_TOKEN, 'ORGCTL_TOKEN');
    const tokenFile = io.env.ORGCTL_TOKEN_FILE ?? context?.tokenFile;
    if (!value && tokenFile) {
      let text: string;
      try {
        text = readFileSync(tokenFile, 'utf8');
      } catch (err) {
        throw new UserError(`cannot read token file ${tokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      value = bearerToken(text, `token file ${tokenFile}`);
    }
    if (!value) throw new UserError(`no token for ${address}: set ORGCTL_TOKEN or ORGCTL_TOKEN_FILE`);
    return value;
  };
  const limit = opts.rateLimit ?? io.env.ORGCTL_RATE_LIMIT;
  const perMinute = limit === undefined ? undefined : Number(limit);
  if (perMinute !== undefined && !(Number.isFinite(perMinute) && perMinute > 0)) {
    throw new UserError(`the rate limit must be a positive number of requests per minute, not "${limit}"`, ExitCode.usage);
  }
  const size = opts.batchSize ?? io.env.ORGCTL_BATCH_SIZE;
  const batchSize = size === undefined ? undefined : Number(size);
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= MAX_BATCH)) {
    throw new UserError(`the batch size must be a whole number from 1 to ${MAX_BATCH}, not "${size}"`, ExitCode.usage);
  }
  try {
    return await openPlatformTarget(address, {
      env: io.env,
      cwd: io.cwd,
      token,
      identity: () => localIdentity(io.env, io.cwd),
      rateLimitPerMinute: perMinute,
      batchSize,
      whenMissing: opts.whenMissing ?? 'fail',
      breakerCooldownMs: opts.breakerCooldownMs,
      parallelism: opts.parallelism,
      // On a terminal, a retry is said: a refused connection otherwise looks like a hang for seconds.
      onRetry: io.stderrTTY
        ? (what, attempt, delayMs, why) => io.stderr(`${what}: ${why}; retrying in ${(delayMs / 1000).toFixed(1)}s (attempt ${attempt + 1})\n`)
        : undefined,
      ...(context?.organization ? { organization: context.organization } : {}),
    });
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (err instanceof NoPlatformError) throw new UserError(err.message);
    if (address === '' || address.startsWith('file:')) {
      throw new UserError(`cannot open the embedded platform ${address.slice(5) || '.orgctl/platform.db'}: ${(err as Error).message}`);
    }
    throw new UserError((err as Error).message);
  }
}

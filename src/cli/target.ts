import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { EmbeddedPlatform } from '../platform/embedded.js';
import { HttpPlatform, MAX_BATCH } from '../platform/http.js';
import type { Platform } from '../platform/types.js';
import { DEFAULT_DB } from './commands/platform.js';
import { currentContext } from './config.js';
import { localIdentity } from './identity.js';
import { UserError, type Io } from './io.js';
import { checkPlatformAddress } from './platform-url.js';
import { bearerToken } from './token.js';

/**
 * The platform to work on: `--platform URL` or $ORGCTL_PLATFORM (`http(s)://...` for `orgctl platform
 * serve`; `file:PATH` or nothing for the embedded database, .orgctl/platform.db by default). Over HTTP the
 * token comes from $ORGCTL_TOKEN or the file named by $ORGCTL_TOKEN_FILE: never from a flag, which `ps`
 * would show.
 */
export function openTarget(flag: string | undefined, io: Io, opts: { rateLimit?: string; batchSize?: string } = {}): Platform {
  // Flag, then environment, then the current context (kubeconfig style), then the embedded default.
  const context = flag || io.env.ORGCTL_PLATFORM ? undefined : currentContext(io.env);
  const target = checkPlatformAddress(
    flag ?? io.env.ORGCTL_PLATFORM ?? context?.platform ?? '',
    flag !== undefined ? '--platform' : io.env.ORGCTL_PLATFORM ? 'ORGCTL_PLATFORM' : `context "${context?.name ?? ''}"'s platform`,
  );
  if (/^https?:\/\//i.test(target)) {
    let token = io.env.ORGCTL_TOKEN && bearerToken(io.env.ORGCTL_TOKEN, 'ORGCTL_TOKEN');
    const tokenFile = io.env.ORGCTL_TOKEN_FILE ?? context?.tokenFile;
    if (!token && tokenFile) {
      try {
        token = readFileSync(tokenFile, 'utf8');
      } catch (err) {
        throw new UserError(`cannot read token file ${tokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      token = bearerToken(token, `token file ${tokenFile}`);
    }
    if (!token) throw new UserError(`no token for ${target}: set ORGCTL_TOKEN or ORGCTL_TOKEN_FILE`);
    const limit = opts.rateLimit ?? io.env.ORGCTL_RATE_LIMIT;
    const perMinute = limit === undefined ? undefined : Number(limit);
    if (perMinute !== undefined && !(Number.isFinite(perMinute) && perMinute > 0)) {
      throw new UserError(`the rate limit must be a positive number of requests per minute, not "${limit}"`, 2);
    }
    const size = opts.batchSize ?? io.env.ORGCTL_BATCH_SIZE;
    const batchSize = size === undefined ? undefined : Number(size);
    if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= MAX_BATCH)) {
      throw new UserError(`the batch size must be a whole number from 1 to ${MAX_BATCH}, not "${size}"`, 2);
    }
    return new HttpPlatform(target, token, { rateLimitPerMinute: perMinute, batchSize });
  }
  const file = target.startsWith('file:') ? target.slice(5) : DEFAULT_DB;
  const path = file === ':memory:' || isAbsolute(file) ? file : join(io.cwd, file);
  try {
    return new EmbeddedPlatform(path, localIdentity(io.env, io.cwd), io.env);
  } catch (err) {
    throw new UserError(`cannot open the embedded platform ${file}: ${(err as Error).message}`);
  }
}

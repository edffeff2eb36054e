import { mkdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { unwritableReason } from '../../server/db.js';
import { ApiError } from '../../server/errors.js';
import { buildApp } from '../../server/http/app.js';
import { parseFaultSpec } from '../../server/http/faults.js';
import { openPlatform, type PlatformService } from '../../server/platform.js';
import { localIdentity } from '../identity.js';
import { ExitCode, UserError, type Io } from '../io.js';
import { bearerToken } from '../token.js';

export const DEFAULT_DB = '.orgctl/platform.db';

function dbPath(db: string | undefined, io: Io): string {
  const file = db ?? DEFAULT_DB;
  if (file === ':memory:') return file;
  const full = isAbsolute(file) ? file : join(io.cwd, file);
  mkdirSync(dirname(full), { recursive: true });
  return full;
}

function open(db: string | undefined, io: Io, inviteExpiryDays?: number): PlatformService {
  try {
    return openPlatform({ db: dbPath(db, io), env: io.env, inviteExpiryDays });
  } catch (err) {
    throw new UserError(`cannot open platform database ${db ?? DEFAULT_DB}: ${(err as Error).message}`);
  }
}

function apiFailure(err: unknown): never {
  if (err instanceof ApiError) throw new UserError(`${err.message} (${err.status} ${err.code})`);
  throw err;
}

function parseIntOption(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UserError(`--${name} must be an integer from ${min} to ${max}, not "${value}"`, ExitCode.usage);
  return n;
}

/**
 * New databases are created 0600 (token hashes, sealed credentials, everyone's addresses); one made by an
 * older orgctl, or copied, may be readable by others: say so, with the fix.
 */
function warnIfShared(file: string, io: Io): void {
  if (file === ':memory:') return;
  const open = [file, `${file}-wal`, `${file}-shm`].filter((f) => {
    try {
      return (statSync(f).mode & 0o077) !== 0;
    } catch {
      return false;
    }
  });
  if (open.length) io.stderr(`warning: ${open.join(', ')} can be read by other users; run: chmod 600 ${open.join(' ')}\n`);
}

/** `orgctl platform init`: the first organization, its owner and a token, on a fresh database. */
export function runPlatformInit(opts: { db?: string; org: string; owner?: string; displayName?: string; plan?: string }, io: Io): number {
  if (opts.plan !== undefined && opts.plan !== 'freemium' && opts.plan !== 'premium') {
    throw new UserError(`--plan must be freemium or premium, not "${opts.plan}"`, ExitCode.usage);
  }
  const platform = open(opts.db, io);
  try {
    const owner = opts.owner ?? localIdentity(io.env, io.cwd);
    const { token, org } = (() => {
      try {
        return platform.identity.init({ org: opts.org, ownerEmail: owner, displayName: opts.displayName, plan: opts.plan as 'premium' | undefined });
      } catch (err) {
        return apiFailure(err);
      }
    })();
    io.stderr(`initialized organization "${org.name}" with owner ${owner}\n`);
    io.stderr('the token below is shown once; store it (e.g. export ORGCTL_TOKEN=...)\n');
    io.stdout(`${token}\n`);
    return ExitCode.ok;
  } finally {
    platform.close();
  }
}

/** `orgctl platform token create`: a bearer token for a user (created, with their own organization, if new). */
export function runTokenCreate(opts: { db?: string; user: string; name: string; superuser: boolean }, io: Io): number {
  const platform = open(opts.db, io);
  try {
    const { token, user } = platform.identity.createToken(opts.user, opts.name, { superuser: opts.superuser });
    io.stderr(`token "${opts.name}" created for ${user.email}${user.superuser ? ' (superuser)' : ''}; it is shown once\n`);
    io.stdout(`${token}\n`);
    return ExitCode.ok;
  } catch (err) {
    return apiFailure(err);
  } finally {
    platform.close();
  }
}

/**
 * `orgctl platform serve`: the REST API on a port until SIGINT/SIGTERM, which finish requests in flight and
 * close the database cleanly.
 */
export async function runServe(
  opts: { db?: string; port: string; host: string; inviteExpiryDays?: string; log: boolean; faults?: string },
  io: Io,
  signals: { once(event: 'SIGINT' | 'SIGTERM', fn: () => void): void } = process,
): Promise<number> {
  const port = parseIntOption(opts.port, 'port', 0, 65535)!;
  const faultText = opts.faults ?? io.env.ORGCTL_PLATFORM_FAULTS;
  let faults;
  try {
    faults = faultText ? parseFaultSpec(faultText) : undefined;
  } catch (err) {
    throw new UserError((err as Error).message, ExitCode.usage);
  }
  const platform = open(opts.db, io, parseIntOption(opts.inviteExpiryDays, 'invite-expiry-days', 1, 365));
  // A read-only database would serve reads and fail every write: refuse to start instead, saying why.
  const readOnly = unwritableReason(platform.db);
  if (readOnly) {
    platform.close();
    throw new UserError(
      `cannot serve ${opts.db ?? DEFAULT_DB}: the database cannot be written (${readOnly}); make the file, its directory (and any -wal and -shm files beside it) writable by this user`,
    );
  }
  warnIfShared(platform.db.name, io);
  const app = buildApp(platform, { logger: opts.log, faults });
  if (faults) io.stderr(`fault injection on: ${faultText}\n`);
  let address: string;
  try {
    address = await app.listen({ port, host: opts.host });
  } catch (err) {
    platform.close();
    throw new UserError(`cannot listen on ${opts.host}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  io.stdout(`orgctl platform listening on ${address} (database ${opts.db ?? DEFAULT_DB})\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    signals.once('SIGINT', stop);
    signals.once('SIGTERM', stop);
  });
  io.stderr('shutting down\n');
  await app.close();
  platform.close();
  return ExitCode.ok;
}

/** `orgctl platform invites accept`: the invited person accepts (demos, tests), on the embedded database or over HTTP. */
export async function runInviteAccept(opts: { org: string; email: string; db?: string; platform?: string }, io: Io): Promise<number> {
  const target = opts.platform ?? io.env.ORGCTL_PLATFORM;
  if (target && /^https?:\/\//.test(target)) {
    const token = io.env.ORGCTL_TOKEN && bearerToken(io.env.ORGCTL_TOKEN, 'ORGCTL_TOKEN');
    if (!token) throw new UserError('set ORGCTL_TOKEN to a superuser token of the platform (or the invited person\'s own token)');
    const url = `${target.replace(/\/+$/, '')}/api/v1/orgs/${encodeURIComponent(opts.org)}/invites/${encodeURIComponent(opts.email)}/accept`;
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      throw new UserError(`cannot reach ${target}: ${(err as Error).message}`);
    }
    const body = (await res.json().catch(() => ({}))) as { error?: { message?: string; code?: string }; role?: string };
    if (!res.ok) throw new UserError(`${body.error?.message ?? res.statusText} (${res.status} ${body.error?.code ?? ''})`.trim());
    io.stdout(`${opts.email} joined "${opts.org}" as ${body.role}\n`);
    return ExitCode.ok;
  }
  const db = target?.startsWith('file:') ? target.slice(5) : opts.db;
  const platform = open(db, io);
  try {
    // Holding the database file is operator power: accept as the platform itself.
    const operator = { id: 0, email: 'platform', superuser: true };
    const r = platform.members.acceptByEmail(operator, opts.org, opts.email);
    io.stdout(`${r.email} joined "${r.organization}" as ${r.role}\n`);
    return ExitCode.ok;
  } catch (err) {
    return apiFailure(err);
  } finally {
    platform.close();
  }
}

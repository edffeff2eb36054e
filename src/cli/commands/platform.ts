import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { unwritableReason } from '../../server/db.js';
import { ApiError } from '../../server/errors.js';
import { buildApp } from '../../server/http/app.js';
import { parseFaultSpec } from '../../server/http/faults.js';
import { openPlatform, type PlatformService } from '../../server/platform.js';
import { DEFAULT_DB } from '../../platform/registry.js';
import { localIdentity } from '../identity.js';
import { ExitCode, UserError, type Io } from '../io.js';
import { bearerToken } from '../token.js';
import { emailProblem } from '../../model/email.js';
import { quote } from '../../util/quote.js';
import { MAX_EXPIRY_MS, MIN_EXPIRY_MS, type Scope, type TokenView } from '../../server/service/tokens.js';
import { parseDuration } from '../duration.js';
import { checkPlatformAddress } from '../platform-url.js';


function dbPath(db: string | undefined, io: Io): string {
  const file = db ?? DEFAULT_DB;
  if (file === ':memory:') return file;
  const full = isAbsolute(file) ? file : join(io.cwd, file);
  mkdirSync(dirname(full), { recursive: true });
  return full;
}

/**
 * Opens the platform's database. Only `init` and `serve` may create one: a typo in `--db` for any other
 * command must not leave a new, empty database (and its key) behind.
 */
function open(db: string | undefined, io: Io, inviteExpiryDays?: number, opts: { create?: boolean } = {}): PlatformService {
  const file = db ?? DEFAULT_DB;
  if (!opts.create && file !== ':memory:' && !existsSync(isAbsolute(file) ? file : join(io.cwd, file))) {
    throw new UserError(`no platform database at ${file}: create one with orgctl platform init --db ${file}`);
  }
  try {
    return openPlatform({ db: dbPath(db, io), env: io.env, inviteExpiryDays });
  } catch (err) {
    throw new UserError(`cannot open platform database ${db ?? DEFAULT_DB}: ${(err as Error).message}`);
  }
}

/** An address given by flag, checked with the rule the platform and validate use (never quoted raw). */
function checkEmail(email: string, flag: string): void {
  const problem = emailProblem(email);
  if (problem) throw new UserError(`${flag} must be an email address: ${quote(email)} ${problem}`, ExitCode.usage);
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
  if (opts.owner !== undefined) checkEmail(opts.owner, '--owner');
  const platform = open(opts.db, io, undefined, { create: true });
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

// ---- tokens ----

/** `--expires-in`: a duration (`90d`, `12h`), `never`, or nothing for the server's default. */
function parseExpiresIn(text: string | undefined): number | null | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === 'never') return null;
  const ms = parseDuration(text);
  if (ms === undefined || ms < MIN_EXPIRY_MS || ms > MAX_EXPIRY_MS) {
    throw new UserError(`--expires-in must be a duration from 1m to 3650d (e.g. 90d, 12h) or "never", not ${quote(text)}`, ExitCode.usage);
  }
  return ms;
}

function parseScope(text: string | undefined): Scope | undefined {
  if (text === undefined) return undefined;
  if (text !== 'read' && text !== 'write') throw new UserError(`--scope must be read or write, not ${quote(text)}`, ExitCode.usage);
  return text;
}

const when = (iso: string | null, none: string) => (iso === null ? none : `${iso.slice(0, 16)}Z`);

function printTokens(views: TokenView[], output: string, io: Io): void {
  if (output === 'json') {
    io.stdout(`${JSON.stringify(views, null, 2)}\n`);
    return;
  }
  if (views.length === 0) {
    io.stderr('no tokens\n');
    return;
  }
  const rows = [
    ['ID', 'NAME', 'USER', 'SCOPE', 'CREATED', 'LAST USED', 'EXPIRES', 'STATUS'],
    ...views.map((v) => [String(v.id), v.name, v.user, v.scope, when(v.createdAt, ''), when(v.lastUsedAt, 'never'), when(v.expiresAt, 'never'), `${v.status}${v.current ? ' (this token)' : ''}`]),
  ];
  const widths = rows[0]!.map((_, c) => rows.reduce((w, r) => Math.max(w, r[c]!.length), 0));
  for (const r of rows) io.stdout(`${r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')}\n`);
}

/**
 * Where a token command acts: over REST when `--platform` (or $ORGCTL_PLATFORM) is http(s), with the token
 * of $ORGCTL_TOKEN or $ORGCTL_TOKEN_FILE; else on the database (`file:PATH`, or --db).
 */
function tokenTarget(opts: { db?: string; dbGiven?: boolean; platform?: string }, io: Io): { url: string; token: string } | { db: string | undefined } {
  const flag = opts.platform;
  // --platform, else an explicit --db, else $ORGCTL_PLATFORM, else the default database.
  const raw = flag ?? (opts.dbGiven ? undefined : io.env.ORGCTL_PLATFORM);
  if (raw === undefined || raw === '') return { db: opts.db };
  const target = checkPlatformAddress(raw, flag !== undefined ? '--platform' : 'ORGCTL_PLATFORM');
  if (target.startsWith('file:')) return { db: target.slice(5) };
  let token = io.env.ORGCTL_TOKEN && bearerToken(io.env.ORGCTL_TOKEN, 'ORGCTL_TOKEN');
  const file = io.env.ORGCTL_TOKEN_FILE;
  if (!token && file) {
    try {
      token = bearerToken(readFileSync(file, 'utf8'), `token file ${file}`);
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`cannot read token file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (!token) throw new UserError(`no token for ${target}: set ORGCTL_TOKEN or ORGCTL_TOKEN_FILE`);
  return { url: target.replace(/\/+$/, ''), token };
}

/** One REST call of a token command; the platform's error message (never the token) on failure. */
async function rest<T>(target: { url: string; token: string }, method: 'GET' | 'DELETE', path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${target.url}${path}`, { method, headers: { authorization: `Bearer ${target.token}` }, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new UserError(`cannot reach ${target.url}: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string; code?: string } };
  if (!res.ok) throw new UserError(`${body.error?.message ?? res.statusText} (${res.status}${body.error?.code ? ` ${body.error.code}` : ''})`);
  return body as T;
}

/** `orgctl platform token create`: a bearer token for a user (created, with their own organization, if new). */
export function runTokenCreate(opts: { db?: string; user: string; name?: string; scope?: string; expiresIn?: string; superuser: boolean }, io: Io): number {
  const scope = parseScope(opts.scope);
  const expiresInMs = parseExpiresIn(opts.expiresIn);
  checkEmail(opts.user, '--user');
  const platform = open(opts.db, io);
  try {
    const name = opts.name ?? platform.tokens.freeName(opts.user, 'cli');
    const { token, view, user, madeOrganization } = platform.tokens.create({ user: opts.user, name, scope, expiresInMs, superuser: opts.superuser, by: localIdentity(io.env, io.cwd) });
    if (madeOrganization) {
      io.stderr(`note: ${user.email} was in no organization; the platform made "${madeOrganization}" (Untitled Organization) for them, as it does for everyone without one\n`);
    }
    io.stderr(
      `token "${view.name}" (id ${view.id}, scope ${view.scope}, ${view.expiresAt ? `expires ${view.expiresAt}` : 'never expires'}) created for ${user.email}${user.superuser ? ' (superuser)' : ''}; it is shown once\n`,
    );
    io.stdout(`${token}\n`);
    return ExitCode.ok;
  } catch (err) {
    return apiFailure(err);
  } finally {
    platform.close();
  }
}

/** `orgctl platform token list`: the tokens (never their secrets) on the database, or over REST those the caller may see. */
export async function runTokenList(opts: { db?: string; dbGiven?: boolean; platform?: string; user?: string; all: boolean; output: string }, io: Io): Promise<number> {
  const target = tokenTarget(opts, io);
  let views: TokenView[];
  if ('url' in target) {
    views = (await rest<{ items: TokenView[] }>(target, 'GET', `/api/v1/tokens${opts.user ? `?user=${encodeURIComponent(opts.user)}` : ''}`)).items;
  } else {
    const platform = open(target.db, io);
    try {
      views = platform.tokens.listAll(opts.user);
    } catch (err) {
      return apiFailure(err);
    } finally {
      platform.close();
    }
  }
  printTokens(opts.all ? views : views.filter((v) => v.status !== 'revoked'), opts.output, io);
  return ExitCode.ok;
}

/** `orgctl platform token revoke NAME|ID`: at once; its next request is refused. */
export async function runTokenRevoke(ref: string, opts: { db?: string; dbGiven?: boolean; platform?: string; user?: string }, io: Io): Promise<number> {
  const target = tokenTarget(opts, io);
  let revoked: TokenView;
  if ('url' in target) {
    let id = ref;
    if (!/^[0-9]+$/.test(ref)) {
      const mine = (await rest<{ items: TokenView[] }>(target, 'GET', `/api/v1/tokens${opts.user ? `?user=${encodeURIComponent(opts.user)}` : ''}`)).items;
      const named = mine.filter((v) => v.name === ref && v.status === 'active');
      if (named.length === 0) throw new UserError(`no live token named ${quote(ref)}${opts.user ? ` of ${opts.user}` : ''}; see orgctl platform token list`);
      id = String(named[0]!.id);
    }
    revoked = await rest<TokenView>(target, 'DELETE', `/api/v1/tokens/${id}`);
  } else {
    const platform = open(target.db, io);
    try {
      const found = platform.tokens.find(ref, opts.user);
      revoked = platform.tokens.revokeAsOperator(found.id, localIdentity(io.env, io.cwd));
    } catch (err) {
      return apiFailure(err);
    } finally {
      platform.close();
    }
  }
  io.stdout(`revoked token "${revoked.name}" (id ${revoked.id}) of ${revoked.user}\n`);
  return ExitCode.ok;
}

/** `orgctl platform token default-expiry [DURATION|never]`: how long new tokens live when --expires-in is not given. */
export function runTokenDefaultExpiry(value: string | undefined, opts: { db?: string }, io: Io): number {
  const ms = value === undefined ? undefined : parseExpiresIn(value);
  const platform = open(opts.db, io);
  try {
    if (ms !== undefined) platform.tokens.setDefaultExpiry(ms, localIdentity(io.env, io.cwd));
    const current = platform.tokens.defaultExpiryMs();
    io.stdout(`new tokens ${current === null ? 'never expire' : `expire after ${formatDays(current)}`} unless created with --expires-in\n`);
    return ExitCode.ok;
  } catch (err) {
    return apiFailure(err);
  } finally {
    platform.close();
  }
}

function formatDays(ms: number): string {
  const units: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm']];
  for (const [size, unit] of units) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
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
  const platform = open(opts.db, io, parseIntOption(opts.inviteExpiryDays, 'invite-expiry-days', 1, 365), { create: true });
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

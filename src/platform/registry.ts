import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { NoLocks, type Locks } from './locks.js';
import { parseSaasAddress, SAAS_PLATFORMS, type SaasAddress } from './saas/address.js';
import type { Platform } from './types.js';

/** A platform to reconcile against, and the lock that keeps two appliers off one organization. */
export interface Target {
  platform: Platform;
  locks: Locks;
  /** What opening did that the user should hear of (an embedded database created, or not there yet). */
  notes?: string[];
}

/**
 * What to do when the platform's storage does not exist yet (an embedded database never applied to):
 * `create` it (apply), plan against an `empty` one and create nothing (plan, diff: they write nothing), or
 * `fail` (export, force-unlock: there is nothing to read).
 */
export type WhenMissing = 'create' | 'empty' | 'fail';

/** The embedded platform's database when nothing else is named, relative to the working directory. */
export const DEFAULT_DB = '.orgctl/platform.db';

export interface OpenOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The API token, for platforms that need one; read only when one does (never from a flag). */
  token: () => string;
  /** The local identity acting on an embedded platform (its operator). */
  identity: () => string;
  rateLimitPerMinute?: number;
  batchSize?: number;
  whenMissing: WhenMissing;
  /** How long requests fail at once after the platform could not be reached (see HttpClient); default 30 s. */
  breakerCooldownMs?: number;
  /** Organizations read at once: an HTTP adapter keeps as many connections open. */
  parallelism?: number;
  onRetry?: (what: string, attempt: number, delayMs: number, why: string) => void;
  /** The context's organization (Ango Hub: its id, for manifests that give none). */
  organization?: string;
}

/** One kind of platform: which addresses it takes, and how to open one. Adapters load only when opened. */
export interface PlatformKind {
  name: string;
  /** Addresses it takes, for help and errors: `http(s)://HOST:PORT`. */
  form: string;
  matches(address: string): boolean;
  open(address: string, opts: OpenOptions): Promise<Target>;
}

/** The platform's database file is not there, and this command does not create one. */
export class NoPlatformError extends Error {}

const builtinHttp: PlatformKind = {
  name: 'orgctl platform (HTTP)',
  form: 'http(s)://HOST:PORT',
  matches: (address) => /^https?:\/\//i.test(address),
  async open(address, opts) {
    const { builtinClient, HttpPlatform, HttpLeases } = await import('./builtin/http.js');
    const client = builtinClient(address, opts.token(), {
      rateLimitPerMinute: opts.rateLimitPerMinute,
      batchSize: opts.batchSize,
      onRetry: opts.onRetry,
      breakerCooldownMs: opts.breakerCooldownMs,
      connections: opts.parallelism,
    });
    return { platform: new HttpPlatform(client, { batchSize: opts.batchSize }), locks: new HttpLeases(client) };
  },
};

const embedded: PlatformKind = {
  name: 'orgctl platform (embedded)',
  form: 'file:PATH',
  matches: (address) => address === '' || address.startsWith('file:'),
  async open(address, opts) {
    const file = address.startsWith('file:') ? address.slice(5) : DEFAULT_DB;
    const path = file === ':memory:' || isAbsolute(file) ? file : join(opts.cwd, file);
    if (path !== ':memory:' && !existsSync(path)) {
      if (opts.whenMissing === 'fail') throw new NoPlatformError(`no embedded platform at ${file}: nothing has been applied here yet (orgctl apply creates it)`);
      if (opts.whenMissing === 'empty') {
        // Planned against an empty platform, under the real file's name: a saved plan then applies to the
        // file, which apply creates, and nothing is written now. Neither SQLite nor the store is loaded.
        const { EmptyEmbeddedPlatform } = await import('./builtin/empty.js');
        return {
          platform: new EmptyEmbeddedPlatform(`embedded:${path}`, opts.identity()),
          locks: new NoLocks(),
          notes: [`no embedded platform at ${file} yet: planning against an empty one (orgctl apply creates it)`],
        };
      }
    }
    const { EmbeddedConnection, EmbeddedPlatform, EmbeddedLeases } = await import('./builtin/embedded.js');
    if (!EmbeddedConnection.exists(path)) {
      const connection = new EmbeddedConnection(path, opts.identity(), opts.env);
      return { platform: new EmbeddedPlatform(connection), locks: new EmbeddedLeases(connection), notes: [`created the embedded platform at ${file}`] };
    }
    const connection = new EmbeddedConnection(path, opts.identity(), opts.env);
    return { platform: new EmbeddedPlatform(connection), locks: new EmbeddedLeases(connection) };
  },
};

function saas(address: string): SaasAddress {
  const parsed = parseSaasAddress(address);
  if (!parsed || typeof parsed === 'string') throw new Error(parsed ?? 'not a hosted platform address');
  return parsed;
}

/** The user's own email, when given: hosted platforms may not say whose token they were handed. */
const user = (env: NodeJS.ProcessEnv) => env.ORGCTL_USER?.trim() || undefined;

/** Dataloop: no lease API, so no apply lock. ORGCTL_REFRESH_TOKEN, when set, renews an expiring JWT. */
const dataloop: PlatformKind = {
  name: SAAS_PLATFORMS.dataloop.name,
  form: SAAS_PLATFORMS.dataloop.form,
  matches: (address) => parseSaasAddress(address) !== undefined && saas(address).kind === 'dataloop',
  async open(address, opts) {
    const { openDataloop } = await import('./dataloop/platform.js');
    const refresh = opts.env.ORGCTL_REFRESH_TOKEN?.trim() || undefined;
    const platform = openDataloop(saas(address).base, opts.token(), refresh, { rateLimitPerMinute: opts.rateLimitPerMinute, batchSize: opts.batchSize, user: user(opts.env), onRetry: opts.onRetry });
    return { platform, locks: new NoLocks() };
  },
};

/** Ango Hub: no lease API; the client keeps to the documented 100 requests a minute unless told otherwise. */
const ango: PlatformKind = {
  name: SAAS_PLATFORMS.ango.name,
  form: SAAS_PLATFORMS.ango.form,
  matches: (address) => parseSaasAddress(address) !== undefined && saas(address).kind === 'ango',
  async open(address, opts) {
    const { openAngo } = await import('./ango/platform.js');
    const platform = openAngo(saas(address).base, opts.token(), {
      organization: opts.organization,
      rateLimitPerMinute: opts.rateLimitPerMinute,
      batchSize: opts.batchSize,
      user: user(opts.env),
      onRetry: opts.onRetry,
    });
    return { platform, locks: new NoLocks() };
  },
};

/** Every platform orgctl can reconcile, tried in order. */
export const PLATFORM_KINDS: readonly PlatformKind[] = [dataloop, ango, builtinHttp, embedded];

export function platformKind(address: string): PlatformKind | undefined {
  return PLATFORM_KINDS.find((k) => k.matches(address));
}

/** Opens the platform at `address`; the caller closes `target.platform`. */
export async function openPlatformTarget(address: string, opts: OpenOptions): Promise<Target> {
  const kind = platformKind(address);
  if (!kind) throw new Error(`no platform takes the address; use one of: ${PLATFORM_KINDS.map((k) => k.form).join(', ')}`);
  return kind.open(address, opts);
}

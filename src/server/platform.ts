import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { systemClock, type Clock } from './clock.js';
import { deriveFingerprintKey, SecretBox } from './crypto.js';
import { openDatabase, type Db } from './db.js';
import { AuditLog } from './service/audit.js';
import { Context } from './service/context.js';
import { Identity } from './service/identity.js';
import { Integrations } from './service/integrations.js';
import { Leases } from './service/leases.js';
import { Groups } from './service/groups.js';
import { Members, type Mailer } from './service/members.js';
import { Orgs } from './service/orgs.js';
import { Overview } from './service/overview.js';
import { Projects } from './service/projects.js';
import type { Tokens } from './service/tokens.js';

export interface PlatformOptions {
  /** SQLite file, or `:memory:`. */
  db: string;
  clock?: Clock;
  /** 32-byte key sealing integration credentials; default: $ORGCTL_PLATFORM_KEY, else `<db>.key` (created). */
  key?: Buffer;
  inviteExpiryDays?: number;
  env?: NodeJS.ProcessEnv;
  /** Delivers invite links; without one they go nowhere (invitees accept by email, as themselves). */
  mailer?: Mailer;
}

/**
 * Where the credentials key comes from. A key file next to the database is created on first use with mode
 * 0600; copying the database without it makes stored credentials unreadable, which is the point.
 */
export function resolveKey(dbFile: string, env: NodeJS.ProcessEnv): Buffer {
  const fromEnv = env.ORGCTL_PLATFORM_KEY;
  if (fromEnv) {
    const key = Buffer.from(fromEnv, 'base64');
    if (key.length !== 32) throw new Error('ORGCTL_PLATFORM_KEY must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)');
    return key;
  }
  if (dbFile === ':memory:') return randomBytes(32);
  const keyFile = `${dbFile}.key`;
  const read = () => {
    const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${keyFile} does not hold a 32-byte base64 key`);
    return key;
  };
  if (existsSync(keyFile)) return read();
  const key = randomBytes(32);
  try {
    writeFileSync(keyFile, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return read(); // another process made it first
    throw err;
  }
  return key;
}

/** The organization platform: every service module over one database and clock. */
export class PlatformService {
  readonly ctx: Context;
  readonly identity: Identity;
  readonly orgs: Orgs;
  readonly members: Members;
  readonly integrations: Integrations;
  readonly audit: AuditLog;
  readonly projects: Projects;
  readonly groups: Groups;
  readonly overview: Overview;
  readonly leases: Leases;
  /**
   * Keys the hash of a request stored with its Idempotency-Key: a request body may hold credentials, and a
   * plain hash of it would let someone with the database test guessed secrets offline.
   */
  readonly requestHashKey: Buffer;
  readonly tokens: Tokens;

  constructor(
    readonly db: Db,
    clock: Clock,
    key: Buffer,
    inviteExpiryDays?: number,
    mailer?: Mailer,
  ) {
    this.ctx = new Context(db, clock);
    this.identity = new Identity(this.ctx);
    this.tokens = this.identity.tokens;
    this.orgs = new Orgs(this.ctx, this.identity);
    this.members = new Members(this.ctx, this.identity, inviteExpiryDays, mailer);
    this.integrations = new Integrations(this.ctx, this.identity, new SecretBox(key), deriveFingerprintKey(key));
    this.requestHashKey = createHmac('sha256', key).update('orgctl idempotency request hash').digest();
    this.audit = new AuditLog(this.ctx);
    this.projects = new Projects(this.ctx, this.identity);
    this.leases = new Leases(this.ctx);
    this.groups = new Groups(this.ctx);
    this.overview = new Overview(this.ctx);
  }

  close(): void {
    this.db.close();
  }
}

export function openPlatform(opts: PlatformOptions): PlatformService {
  const env = opts.env ?? process.env;
  const key = opts.key ?? resolveKey(opts.db, env);
  const service = new PlatformService(openDatabase(opts.db), opts.clock ?? systemClock, key, opts.inviteExpiryDays, opts.mailer);
  try {
    // Once per database: fingerprints from before they were keyed are made again (see upgradeFingerprints).
    service.ctx.write(() => service.integrations.upgradeFingerprints());
  } catch {
    // A read-only database keeps them until it can be written; they are shown to managers only meanwhile.
  }
  return service;
}

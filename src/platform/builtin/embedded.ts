import { closeSync, existsSync, mkdirSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ActualIntegration, ActualInvite, ActualMember, ActualOrg } from '../../model/actual.js';
import { ApiError } from '../../server/errors.js';
import { openPlatform, type PlatformService } from '../../server/platform.js';
import type { Actor } from '../../server/service/context.js';
import type { BatchResult } from '../../server/service/members.js';
import type { Locks } from '../locks.js';
import {
  PlatformError,
  type IntegrationWrite,
  type InviteItem,
  type ItemResult,
  type MemberUpdateItem,
  type OrganizationCreate,
  type OrganizationUpdate,
  type OrgRef,
  type Platform,
  type ReadOptions,
} from '../types.js';
import { BUILTIN_CAPABILITIES } from './capabilities.js';
import { leaseError } from './leases.js';
import { actualInvite, actualMember, toActualOrg } from './views.js';

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ApiError) throw new PlatformError(err.message, err.status, err.code, err.details);
    throw err;
  }
}

function results(list: BatchResult<unknown>[]): ItemResult[] {
  return list.map((r) => (r.ok ? { email: r.email, ok: true } : { email: r.email, ok: false, error: `${r.error.message} (${r.error.code})` }));
}

/** The built-in platform's database, opened in-process, and the operator identity acting on it. */
export class EmbeddedConnection {
  readonly service: PlatformService;
  readonly operator: Actor;

  constructor(
    readonly file: string,
    localEmail: string,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    EmbeddedConnection.check(file);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.service = openPlatform({ db: file, env });
    if (file !== ':memory:') {
      // An apply writes a batch a transaction, and a large one dirties thousands of pages each (the leaves of
      // the invite-link hash index are random): checkpointing at SQLite's default 1000 WAL pages wrote and
      // synced the database at nearly every commit, which made applying 1,000,000 invites grow faster than
      // the count. Checkpoint every 40,000 pages (160 MiB) instead, and keep the WAL file at most 64 MiB
      // after one; closing the connection checkpoints the rest.
      this.service.db.pragma('wal_autocheckpoint = 40000');
      this.service.db.pragma('journal_size_limit = 67108864');
    }
    const user = this.service.ctx.write(() => this.service.identity.ensureUser(localEmail, {}, true));
    this.operator = { id: user.id, email: user.email, superuser: true };
  }

  /** Whether a database exists at `file` (plan must not create one). */
  static exists(file: string): boolean {
    return file === ':memory:' || existsSync(file);
  }

  /**
   * A file that is there but is not SQLite is refused before anything is written beside it (a key file).
   * An empty file is a new database, as SQLite treats it.
   */
  static check(file: string): void {
    if (file === ':memory:' || !existsSync(file)) return;
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(16);
      const n = readSync(fd, head, 0, 16, 0);
      if (n > 0 && head.toString('latin1', 0, n) !== 'SQLite format 3\u0000'.slice(0, n)) {
        throw new Error(`${file} is not an orgctl platform database (not an SQLite file)`);
      }
    } finally {
      closeSync(fd);
    }
  }

  close(): void {
    this.service.close();
  }
}

/**
 * The built-in platform opened in-process from its SQLite file: what orgctl targets on a fresh machine.
 * Whoever holds the file is the platform's operator, so the local identity acts as a superuser.
 */
export class EmbeddedPlatform implements Platform {
  readonly description: string;
  readonly capabilities = BUILTIN_CAPABILITIES;
  /** In-process calls are cheap; a thousand per transaction keeps progress reports and Ctrl-C prompt. */
  readonly batchSize = 1000;
  private readonly service: PlatformService;
  private readonly operator: Actor;

  /** `description` names the platform in plans; it is the file's unless given (planning against an empty one). */
  constructor(
    private readonly connection: EmbeddedConnection,
    description = `embedded:${connection.file}`,
  ) {
    this.description = description;
    this.service = connection.service;
    this.operator = connection.operator;
  }

  async actor(): Promise<string> {
    return this.operator.email;
  }

  async actsForOthers(): Promise<boolean> {
    return true;
  }

  async read(org: string, _ref?: OrgRef, opts: ReadOptions = {}): Promise<ActualOrg | undefined> {
    const s = this.service;
    // One read transaction: everything comes from the same snapshot. Members and invites are read straight
    // into the maps the diff uses (Members.observe), not through the API's views, unless the history is
    // asked for: the views carry who joined and who invited whom, when.
    return s.db.transaction(() => {
      const row = s.ctx.findOrg(org);
      if (!row) return undefined;
      const view = s.orgs.get(this.operator, org);
      const { members, invites } = opts.history ? this.history(org) : s.members.observe(this.operator, row);
      return toActualOrg(view, members, invites, s.integrations.list(this.operator, org).items);
    })();
  }

  /** Members and open invites through the API's views, page by page (inside read's transaction). */
  private history(org: string): { members: Map<string, ActualMember>; invites: Map<string, ActualInvite> } {
    const s = this.service;
    const members = new Map<string, ActualMember>();
    const invites = new Map<string, ActualInvite>();
    let cursor: string | undefined;
    do {
      const page = s.members.list(this.operator, org, { cursor, limit: 1000 });
      for (const m of page.items) members.set(m.email, actualMember(m, true));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    do {
      const page = s.members.listInvites(this.operator, org, { cursor, limit: 1000, status: 'open' });
      for (const i of page.items) invites.set(i.email, actualInvite(i, true));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return { members, invites };
  }

  async listProjects(org: string): Promise<string[]> {
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const page = wrap(() => this.service.projects.listOf(this.operator, org, { cursor, limit: 1000 }));
      for (const p of page.items) names.push(p.name);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return names;
  }

  /** The platform compares (only it holds the values and the fingerprint key); nothing is written. */
  async compareCredentials(org: string, integration: ActualIntegration, credentials: Record<string, string>): Promise<boolean | undefined> {
    return wrap(() => this.service.integrations.verifyCredentials(this.operator, org, integration.name, credentials)).match;
  }

  async createOrganization(org: string, spec: OrganizationCreate): Promise<void> {
    wrap(() => this.service.orgs.create(this.operator, { name: org, ...spec }));
  }

  async updateOrganization(org: string, spec: OrganizationUpdate): Promise<void> {
    wrap(() => this.service.orgs.update(this.operator, org, spec as never));
  }

  async invite(org: string, items: InviteItem[]): Promise<ItemResult[]> {
    return wrap(() => results(this.service.members.invite(this.operator, org, items as never)));
  }

  async resendInvites(org: string, items: InviteItem[]): Promise<ItemResult[]> {
    return wrap(() => results(this.service.members.resend(this.operator, org, items as never)));
  }

  async cancelInvites(org: string, emails: string[]): Promise<ItemResult[]> {
    return wrap(() => results(this.service.members.cancel(this.operator, org, emails)));
  }

  async updateMembers(org: string, items: MemberUpdateItem[]): Promise<ItemResult[]> {
    return wrap(() => results(this.service.members.update(this.operator, org, items)));
  }

  async removeMembers(org: string, emails: string[]): Promise<ItemResult[]> {
    return wrap(() => results(this.service.members.remove(this.operator, org, emails)));
  }

  async createIntegration(org: string, spec: IntegrationWrite): Promise<void> {
    wrap(() => this.service.integrations.create(this.operator, org, spec as never));
  }

  async updateIntegration(org: string, spec: IntegrationWrite): Promise<void> {
    wrap(() => this.service.integrations.update(this.operator, org, spec.name, { options: spec.options, ...(spec.credentials ? { credentials: spec.credentials } : {}) }));
  }

  async deleteIntegration(org: string, name: string): Promise<void> {
    wrap(() => this.service.integrations.delete(this.operator, org, name));
  }

  async close(): Promise<void> {
    this.connection.close();
  }
}

/** The built-in platform's apply lease, in-process. */
export class EmbeddedLeases implements Locks {
  readonly kind = 'platform lease';
  readonly enforced = true;

  constructor(private readonly connection: EmbeddedConnection) {}

  async acquire(org: string, lease: { id: string; holder: string; ttlMs: number }): Promise<void> {
    try {
      wrap(() => this.connection.service.leases.acquire(this.connection.operator, org, lease));
    } catch (err) {
      throw leaseError(org, err);
    }
  }

  async renew(org: string, id: string, ttlMs: number): Promise<void> {
    try {
      wrap(() => this.connection.service.leases.renew(this.connection.operator, org, id, ttlMs));
    } catch (err) {
      throw leaseError(org, err);
    }
  }

  async release(org: string, id: string): Promise<void> {
    wrap(() => this.connection.service.leases.release(this.connection.operator, org, id));
  }

  async break(org: string): Promise<{ holder: string; since: string } | undefined> {
    return wrap(() => this.connection.service.leases.forceRelease(this.connection.operator, org));
  }

  async holder(org: string): Promise<{ holder: string; since: string; expiresAt: string } | undefined> {
    return wrap(() => this.connection.service.leases.get(this.connection.operator, org)) ?? undefined;
  }
}

import { forbidden } from '../errors.js';
import type { Actor, Context } from './context.js';
import { decodeCursor, encodeCursor, isId } from './cursor.js';
import type { Page } from './members.js';

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

/** The audit log of an organization: who changed what, when. Owners and admins read it. */
export class AuditLog {
  constructor(private readonly ctx: Context) {}

  list(actor: Actor, ref: string, opts: { cursor?: string; limit?: number; action?: string } = {}): Page<AuditEntry> {
    return this.ctx.db.transaction(() => {
      const org = this.ctx.orgByName(ref);
      this.ctx.require(org, actor, ['owner', 'admin'], 'read the audit log');
      return { ...this.page(org.id, opts), stateVersion: org.version };
    })();
  }

  /** The platform's own log (tokens, settings: what belongs to no organization). Superusers read it. */
  listPlatform(actor: Actor, opts: { cursor?: string; limit?: number; action?: string } = {}): Omit<Page<AuditEntry>, 'stateVersion'> {
    if (!actor.superuser) throw forbidden('only a platform superuser may read the platform audit log');
    return this.ctx.db.transaction(() => this.page(null, opts))();
  }

  private page(orgId: number | null, opts: { cursor?: string; limit?: number; action?: string }): Omit<Page<AuditEntry>, 'stateVersion'> {
    const limit = opts.limit ?? 100;
    const after = Number(decodeCursor('audit', opts.cursor, isId) || 0);
    const rows = this.ctx
      .stmt(`SELECT * FROM audit WHERE org_id IS ? AND id > ? ${opts.action ? 'AND action = ?' : ''} ORDER BY id LIMIT ?`)
      .all(opts.action ? [orgId, after, opts.action, limit + 1] : [orgId, after, limit + 1]) as {
      id: number;
      at: number;
      actor: string;
      action: string;
      target: string;
      details: string;
    }[];
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    return {
      items: page.map((r) => ({ id: r.id, at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, target: r.target, details: JSON.parse(r.details) as Record<string, unknown> })),
      nextCursor: more ? encodeCursor('audit', String(page[page.length - 1]!.id)) : null,
    };
  }
}

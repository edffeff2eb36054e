import { badRequest, conflict, forbidden } from '../errors.js';
import type { Actor, Context, OrgRow } from './context.js';
import { normalizeEmail, ORG_NAME, type Identity } from './identity.js';

/** How long a cache takes to become ready after `apply` (platform time, so tests move the clock). */
export const CACHE_READY_MS = 5_000;

export interface OrgView {
  id: number;
  name: string;
  displayName: string;
  plan: 'freemium' | 'premium';
  creator: string;
  cache: { enabled: boolean; podType: 'small' | 'medium' | 'high' | null; state: 'none' | 'pending' | 'ready' | 'destroyed' };
  stateVersion: number;
  createdAt: string;
  updatedAt: string;
}

export interface OrgUpdate {
  displayName?: string;
  plan?: 'freemium' | 'premium';
  cache?: { enabled: boolean; podType?: 'small' | 'medium' | 'high' };
}

/** Organizations: create, read, rename, plan, cache. Organizations cannot be deleted. */
export class Orgs {
  constructor(
    private readonly ctx: Context,
    private readonly identity: Identity,
  ) {}

  view(org: OrgRow): OrgView {
    const creator = this.identity.userById(org.creator_id).email;
    let state: OrgView['cache']['state'] = org.cache_state;
    if (org.cache_state === 'pending' && org.cache_ready_at !== null && this.ctx.now() >= org.cache_ready_at) state = 'ready';
    return {
      id: org.id,
      name: org.name,
      displayName: org.display_name,
      plan: org.plan,
      creator,
      cache: { enabled: org.cache_state === 'pending', podType: org.cache_pod_type, state },
      stateVersion: org.version,
      createdAt: new Date(org.created_at).toISOString(),
      updatedAt: new Date(org.updated_at).toISOString(),
    };
  }

  list(actor: Actor): OrgView[] {
    const rows = actor.superuser
      ? (this.ctx.stmt('SELECT * FROM orgs ORDER BY name').all() as OrgRow[])
      : (this.ctx
          .stmt('SELECT o.* FROM orgs o JOIN memberships m ON m.org_id = o.id WHERE m.user_id = ? ORDER BY o.name')
          .all(actor.id) as OrgRow[]);
    return rows.map((r) => this.view(r));
  }

  get(actor: Actor, ref: string): OrgView {
    const org = this.ctx.orgByName(ref);
    this.ctx.require(org, actor, ['owner', 'admin', 'member', 'worker'], 'see the organization');
    return this.view(org);
  }

  /**
   * Whether an organization name is taken, for any signed-in user: organization names are one namespace, and
   * creating one would tell the same. Lets a client tell "does not exist" from "exists, but you cannot see it".
   */
  nameTaken(_actor: Actor, name: string): { name: string; taken: boolean } {
    if (!ORG_NAME.test(name) || name.length > 63) throw badRequest(`invalid organization name "${name}"`, 'name');
    return { name, taken: this.ctx.stmt('SELECT 1 FROM orgs WHERE name = ?').get(name) !== undefined };
  }

  /**
   * Any user may create an organization; they become its owner and creator. A superuser (the platform
   * operator) may create one on behalf of someone else, who becomes its creator.
   */
  create(actor: Actor, body: { name: string; displayName?: string; plan?: 'freemium' | 'premium'; creator?: string }): OrgView {
    if (!ORG_NAME.test(body.name) || body.name.length > 63) {
      throw badRequest(`invalid organization name "${body.name}": use lower-case letters, digits and "-" (at most 63)`, 'name');
    }
    return this.ctx.write(() => {
      if (this.ctx.stmt('SELECT 1 FROM orgs WHERE name = ?').get(body.name)) {
        throw conflict('already_exists', `organization "${body.name}" already exists`);
      }
      let creator: { id: number; email: string } = actor;
      if (body.creator !== undefined && normalizeEmail(body.creator) !== actor.email) {
        if (!actor.superuser) throw forbidden('only a platform superuser may create an organization for someone else');
        creator = this.identity.ensureUser(body.creator);
      }
      const org = this.identity.insertOrg(creator, body.name, body.displayName ?? body.name, body.plan ?? 'freemium');
      if (creator !== actor) this.ctx.audit(org.id, actor, 'org.create.on-behalf', body.name, { creator: creator.email });
      return this.view(org);
    });
  }

  update(actor: Actor, ref: string, body: OrgUpdate): OrgView {
    return this.ctx.write(() => {
      const org = this.ctx.orgByName(ref);
      const role = this.ctx.require(org, actor, ['owner', 'admin'], 'change the organization');
      const now = this.ctx.now();
      if (body.displayName !== undefined && body.displayName !== org.display_name) {
        this.ctx.stmt('UPDATE orgs SET display_name = ? WHERE id = ?').run(body.displayName, org.id);
        this.ctx.audit(org.id, actor, 'org.rename', org.name, { from: org.display_name, to: body.displayName });
      }
      if (body.plan !== undefined && body.plan !== org.plan) {
        if (role !== 'owner') throw forbidden('only an owner may change the plan');
        this.ctx.stmt('UPDATE orgs SET plan = ? WHERE id = ?').run(body.plan, org.id);
        this.ctx.audit(org.id, actor, 'org.plan', org.name, { from: org.plan, to: body.plan });
      }
      if (body.cache !== undefined) {
        const podType = body.cache.podType ?? org.cache_pod_type ?? 'small';
        if (body.cache.enabled && (org.cache_state !== 'pending' || podType !== org.cache_pod_type)) {
          this.ctx
            .stmt("UPDATE orgs SET cache_state = 'pending', cache_pod_type = ?, cache_ready_at = ? WHERE id = ?")
            .run(podType, now + CACHE_READY_MS, org.id);
          this.ctx.audit(org.id, actor, 'org.cache.apply', org.name, { podType });
        } else if (!body.cache.enabled && org.cache_state === 'pending') {
          this.ctx.stmt("UPDATE orgs SET cache_state = 'destroyed', cache_ready_at = NULL WHERE id = ?").run(org.id);
          this.ctx.audit(org.id, actor, 'org.cache.destroy', org.name);
        }
      }
      return this.view(this.ctx.orgById(org.id));
    });
  }
}

import { isoTime } from '../time.js';
import { badRequest, conflict, notFound } from '../errors.js';
import type { Actor, Context, OrgRow } from './context.js';
import { normalizeEmail } from './identity.js';
import { checkName } from './projects.js';

export interface GroupView {
  name: string;
  description: string;
  /** Emails of the group's members, sorted. */
  members: string[];
  createdAt: string;
}

interface GroupRow {
  id: number;
  org_id: number;
  name: string;
  description: string;
  created_at: number;
}

const MAX_DESCRIPTION = 1000;

/**
 * Groups of members inside an organization. Owners, admins and members see them (workers do not); owners
 * and admins change them. A group's members are always members of its organization (removing someone from
 * the organization takes them out of its groups).
 */
export class Groups {
  constructor(private readonly ctx: Context) {}

  list(actor: Actor, ref: string): { items: GroupView[]; stateVersion: number } {
    return this.ctx.db.transaction(() => {
      const org = this.ctx.orgByName(ref);
      this.ctx.require(org, actor, ['owner', 'admin', 'member'], 'see groups');
      const rows = this.ctx.stmt('SELECT * FROM groups WHERE org_id = ? ORDER BY name').all(org.id) as GroupRow[];
      return { items: rows.map((g) => this.view(g)), stateVersion: org.version };
    })();
  }

  create(actor: Actor, ref: string, body: { name: string; description?: string }): GroupView {
    const name = checkName(body.name);
    const description = checkDescription(body.description ?? '');
    return this.ctx.write(() => {
      const org = this.ctx.orgByName(ref);
      this.ctx.require(org, actor, ['owner', 'admin'], 'create groups');
      this.unused(org, name);
      this.ctx.stmt('INSERT INTO groups (org_id, name, description, created_at) VALUES (?, ?, ?, ?)').run(org.id, name, description, this.ctx.now());
      this.ctx.audit(org.id, actor, 'group.create', name, { description });
      return this.view(this.group(org, name));
    });
  }

  /** Renames a group or changes its description. */
  update(actor: Actor, ref: string, groupName: string, body: { name?: string; description?: string }): GroupView {
    const name = body.name === undefined ? undefined : checkName(body.name);
    const description = body.description === undefined ? undefined : checkDescription(body.description);
    return this.ctx.write(() => {
      const org = this.ctx.orgByName(ref);
      this.ctx.require(org, actor, ['owner', 'admin'], 'change groups');
      const group = this.group(org, groupName);
      const changes: Record<string, unknown> = {};
      if (name !== undefined && name !== group.name) {
        this.unused(org, name);
        this.ctx.stmt('UPDATE groups SET name = ? WHERE id = ?').run(name, group.id);
        changes.name = { from: group.name, to: name };
      }
      if (description !== undefined && description !== group.description) {
        this.ctx.stmt('UPDATE groups SET description = ? WHERE id = ?').run(description, group.id);
        changes.description = { from: group.description, to: description };
      }
      if (Object.keys(changes).length) this.ctx.audit(org.id, actor, 'group.update', group.name, changes);
      return this.view(this.group(org, name ?? group.name));
    });
  }

  delete(actor: Actor, ref: string, groupName: string): void {
    this.ctx.write(() => {
      const org = this.ctx.orgByName(ref);
      this.ctx.require(org, actor, ['owner', 'admin'], 'delete groups');
      const group = this.group(org, groupName);
      const members = this.memberEmails(group.id);
      this.ctx.stmt('DELETE FROM group_members WHERE group_id = ?').run(group.id);
      this.ctx.stmt('DELETE FROM groups WHERE id = ?').run(group.id);
      this.ctx.audit(org.id, actor, 'group.delete', group.name, { members: members.length });
    });
  }

  /**
   * Replaces the group's members. Every email must belong to a member of the organization; otherwise the
   * whole request is refused (400) naming the emails that are not, and nothing changes.
   */
  setMembers(actor: Actor, ref: string, groupName: string, rawEmails: string[]): GroupView {
    return this.ctx.write(() => {
      const org = this.ctx.orgByName(ref);
      this.ctx.require(org, actor, ['owner', 'admin'], 'change group members');
      const group = this.group(org, groupName);
      const emails = [...new Set(rawEmails.map(normalizeEmail))];
      const ids = new Map<string, number>();
      const outsiders: string[] = [];
      for (const email of emails) {
        const m = this.ctx.stmt('SELECT user_id FROM memberships WHERE org_id = ? AND email = ?').get(org.id, email) as { user_id: number } | undefined;
        if (m) ids.set(email, m.user_id);
        else outsiders.push(email);
      }
      if (outsiders.length) {
        throw badRequest(`${outsiders.join(', ')} ${outsiders.length === 1 ? 'is not a member' : 'are not members'} of "${org.name}"`, 'emails', {
          emails: outsiders,
        });
      }
      const before = new Set(this.memberEmails(group.id));
      const added = emails.filter((e) => !before.has(e)).sort();
      const removed = [...before].filter((e) => !ids.has(e)).sort();
      if (added.length || removed.length) {
        this.ctx.stmt('DELETE FROM group_members WHERE group_id = ?').run(group.id);
        const insert = this.ctx.stmt('INSERT INTO group_members (group_id, user_id) VALUES (?, ?)');
        for (const id of ids.values()) insert.run(group.id, id);
        this.ctx.audit(org.id, actor, 'group.members', group.name, { added, removed });
      }
      return this.view(this.group(org, group.name));
    });
  }

  private group(org: OrgRow, name: string): GroupRow {
    const row = this.ctx.stmt('SELECT * FROM groups WHERE org_id = ? AND name = ?').get(org.id, name) as GroupRow | undefined;
    if (!row) throw notFound(`group "${name}" in "${org.name}"`);
    return row;
  }

  private unused(org: OrgRow, name: string): void {
    if (this.ctx.stmt('SELECT 1 FROM groups WHERE org_id = ? AND name = ?').get(org.id, name)) {
      throw conflict('already_exists', `group "${name}" already exists in "${org.name}"`);
    }
  }

  private memberEmails(groupId: number): string[] {
    return (
      this.ctx.stmt('SELECT u.email FROM group_members g JOIN users u ON u.id = g.user_id WHERE g.group_id = ? ORDER BY u.email').all(groupId) as {
        email: string;
      }[]
    ).map((r) => r.email);
  }

  private view(g: GroupRow): GroupView {
    return { name: g.name, description: g.description, members: this.memberEmails(g.id), createdAt: isoTime(g.created_at) };
  }
}

function checkDescription(description: string): string {
  if (typeof description !== 'string' || description.length > MAX_DESCRIPTION) {
    throw badRequest(`description must be at most ${MAX_DESCRIPTION} characters`, 'description');
  }
  return description;
}

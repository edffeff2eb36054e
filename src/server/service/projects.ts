import { isoTime } from '../time.js';
import { badRequest, conflict, forbidden, notFound } from '../errors.js';
import type { Actor, Context, OrgRow, Role } from './context.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { normalizeEmail, type Identity } from './identity.js';
import type { Page } from './members.js';

export type ProjectRole = 'manager' | 'annotator' | 'reviewer';
export const PROJECT_ROLES: readonly ProjectRole[] = ['manager', 'annotator', 'reviewer'];

export interface ProjectView {
  id: number;
  name: string;
  /** The owning organization (the actor's active one when the project was created, unless named). */
  organization: string;
  /** The organization charged for the project: the owner, or a labeling-service provider that took it over. */
  payingOrganization: string;
  createdBy: string;
  createdAt: string;
  /** The caller's project role; null when they see the project as an owner/admin of its organization. */
  myRole: ProjectRole | null;
}

/** A project as an organization's project list shows it. */
export interface ProjectListItem {
  id: number;
  name: string;
  createdAt: string;
}

export interface ProjectMemberView {
  email: string;
  role: ProjectRole;
  firstName: string;
  lastName: string;
  /** Not a member of the owning organization: a labeling-service provider's user. */
  external: boolean;
}

export interface DatasetView {
  id: number;
  name: string;
  createdAt: string;
  /** Contains a task that is not 100% complete. */
  active: boolean;
}

export interface TaskView {
  id: number;
  name: string;
  datasetId: number | null;
  completion: number;
  assignee: string | null;
  /** Not 100% complete. */
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ProjectDetail extends ProjectView {
  active: boolean;
  members: ProjectMemberView[];
  datasets: DatasetView[];
  tasks: TaskView[];
}

export interface TaskCreate {
  name: string;
  datasetId?: number;
  completion?: number;
  assignee?: string;
}

interface ProjectRow {
  id: number;
  org_id: number;
  name: string;
  paying_org_id: number;
  created_by: number;
  created_at: number;
}

interface TaskRow {
  id: number;
  project_id: number;
  dataset_id: number | null;
  name: string;
  completion: number;
  assignee_id: number | null;
  created_at: number;
  updated_at: number;
}

const iso = isoTime;
const MAX_NAME = 200;

/** Names of projects, datasets and tasks: 1..200 characters, no surrounding whitespace. */
export function checkName(name: string, field = 'name'): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME || name.trim() !== name) {
    throw badRequest(`${field} must be 1 to ${MAX_NAME} characters without leading or trailing spaces`, field);
  }
  return name;
}

/**
 * Projects, their members, datasets and tasks, and who pays for them.
 *
 * Rules:
 * - A project belongs to one organization: the one named at creation, else the creator's active organization.
 *   Only its owners/admins create projects there; the creator becomes the project's `manager` (Dataloop's
 *   "project owner"). The owning organization pays until someone sets the project under another account.
 * - Seeing a project: superusers; owners/admins of the owning organization (all its projects); project
 *   members (only the projects they are assigned to). Anyone else gets 404, not 403.
 * - Managing a project (members, datasets, tasks): owners/admins of the owning organization, or its managers.
 * - Who can be added to a project: a member (any role) of the owning organization; or a user outside it (a
 *   labeling-service provider's user), either by an owner/admin of the owning organization (the client adding
 *   a "labeling company") or by a project manager who is an owner/admin of an organization that user belongs
 *   to (the provider bringing in its own workforce). The user must exist; otherwise invite them to the
 *   organization (invites can pre-add people to projects).
 * - Paying organization: moving it to another organization takes a project manager who is an owner/admin of
 *   that organization; moving it back to the owning organization takes an owner/admin of the owning one.
 */
export class Projects {
  constructor(
    private readonly ctx: Context,
    private readonly identity: Identity,
  ) {}

  // ---- reading ----------------------------------------------------------------------------------------

  list(actor: Actor): { items: ProjectView[] } {
    return this.ctx.db.transaction(() => {
      const rows = actor.superuser
        ? (this.ctx.stmt('SELECT * FROM projects ORDER BY id').all() as ProjectRow[])
        : (this.ctx
            .stmt(
              `SELECT * FROM projects
               WHERE org_id IN (SELECT org_id FROM memberships WHERE user_id = ? AND role IN ('owner', 'admin'))
                  OR id IN (SELECT project_id FROM project_members WHERE user_id = ?)
               ORDER BY id`,
            )
            .all(actor.id, actor.id) as ProjectRow[]);
      return { items: rows.map((r) => this.view(r, actor)) };
    })();
  }

  /**
   * An organization's projects by name, a page at a time, in one query a page: the projects its owners and
   * admins see (all it owns). What invites may pre-assign: the reconciler checks its references with it.
   */
  listOf(actor: Actor, ref: string, opts: { cursor?: string; limit?: number } = {}): Page<ProjectListItem> {
    const limit = opts.limit ?? 100;
    return this.ctx.db.transaction(() => {
      const org = this.ctx.orgByName(ref);
      this.ctx.require(org, actor, ['owner', 'admin'], 'list the projects of the organization');
      const after = decodeCursor('projects', opts.cursor, (key) => key.length > 0);
      const rows = this.ctx
        .rawStmt('SELECT id, name, created_at FROM projects WHERE org_id = ? AND name > ? ORDER BY name LIMIT ?')
        .all(org.id, after, limit + 1) as [number, string, number][];
      const more = rows.length > limit;
      const items = (more ? rows.slice(0, limit) : rows).map((r) => ({ id: r[0], name: r[1], createdAt: iso(r[2]) }));
      return { items, nextCursor: more ? encodeCursor('projects', items[items.length - 1]!.name) : null, stateVersion: org.version };
    })();
  }

  get(actor: Actor, id: number): ProjectDetail {
    return this.ctx.db.transaction(() => this.detail(this.visible(actor, id), actor))();
  }

  // ---- projects ---------------------------------------------------------------------------------------

  create(actor: Actor, body: { name: string; organization?: string }): ProjectDetail {
    const name = checkName(body.name);
    return this.ctx.write(() => {
      let org: OrgRow;
      if (body.organization !== undefined) {
        org = this.ctx.orgByName(body.organization);
      } else {
        const active = this.identity.userById(actor.id).active_org_id;
        if (active === null) throw badRequest('you have no active organization; name one in "organization"', 'organization');
        org = this.ctx.orgById(active);
      }
      this.ctx.require(org, actor, ['owner', 'admin'], `create projects in "${org.name}"`);
      if (this.ctx.stmt('SELECT 1 FROM projects WHERE org_id = ? AND name = ?').get(org.id, name)) {
        throw conflict('already_exists', `project "${name}" already exists in "${org.name}"`);
      }
      const now = this.ctx.now();
      const info = this.ctx
        .stmt('INSERT INTO projects (org_id, name, paying_org_id, created_by, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(org.id, name, org.id, actor.id, now);
      const id = Number(info.lastInsertRowid);
      this.ctx.stmt("INSERT INTO project_members (project_id, user_id, role) VALUES (?, ?, 'manager')").run(id, actor.id);
      this.ctx.audit(org.id, actor, 'project.create', name, { projectId: id });
      return this.detail(this.row(id), actor);
    });
  }

  /**
   * Dataloop's "Set under [organization] account": who pays for the project. See the class comment for
   * the rules. Setting the current paying organization again changes nothing.
   */
  setPayingOrganization(actor: Actor, projectId: number, orgRef: string): ProjectDetail {
    return this.ctx.write(() => {
      const project = this.visible(actor, projectId);
      const owning = this.ctx.orgById(project.org_id);
      const target = this.ctx.orgByName(orgRef);
      if (target.id === owning.id) {
        if (!this.isOrgAdmin(actor, owning.id)) {
          throw forbidden(`only an owner or admin of "${owning.name}" may set project "${project.name}" back under its own account`);
        }
      } else {
        if (!actor.superuser && this.projectRole(project.id, actor.id) !== 'manager') {
          throw forbidden(`only a manager of project "${project.name}" (its project owner) may set it under another organization's account`);
        }
        const role = actor.superuser ? 'owner' : this.ctx.roleIn(target.id, actor.id);
        if (!role) throw notFound(`organization "${target.name}"`);
        if (role !== 'owner' && role !== 'admin') {
          throw forbidden(`a ${role} of "${target.name}" may not put projects under its account (needs owner or admin of "${target.name}")`);
        }
      }
      if (project.paying_org_id !== target.id) {
        const previous = this.ctx.orgById(project.paying_org_id);
        this.ctx.stmt('UPDATE projects SET paying_org_id = ? WHERE id = ?').run(target.id, project.id);
        const details = { projectId: project.id, organization: owning.name, from: previous.name, to: target.name };
        for (const orgId of new Set([owning.id, previous.id, target.id])) this.ctx.audit(orgId, actor, 'project.paying', project.name, details);
      }
      return this.detail(this.row(project.id), actor);
    });
  }

  // ---- members ----------------------------------------------------------------------------------------

  /** Adds someone to the project, or changes their project role. `created` tells which. */
  addMember(actor: Actor, projectId: number, body: { email: string; role: ProjectRole }): { member: ProjectMemberView; created: boolean } {
    if (!PROJECT_ROLES.includes(body.role)) throw badRequest(`role must be one of ${PROJECT_ROLES.join(', ')}`, 'role');
    return this.ctx.write(() => {
      const project = this.visible(actor, projectId);
      this.requireManage(actor, project, 'add project members');
      const email = normalizeEmail(body.email);
      const user = this.identity.userByEmail(email);
      if (!user) throw notFound(`user ${email} (invite them to the organization instead)`);
      if (!this.ctx.roleIn(project.org_id, user.id) && !this.mayBringOutsider(actor, project, user.id)) {
        const owning = this.ctx.orgById(project.org_id);
        throw forbidden(
          `${email} is not a member of "${owning.name}": only an owner or admin of "${owning.name}", or a project manager who administers an organization ${email} belongs to, may add them`,
        );
      }
      const previous = this.projectRole(project.id, user.id);
      if (previous !== body.role) {
        this.ctx
          .stmt('INSERT INTO project_members (project_id, user_id, role) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET role = excluded.role')
          .run(project.id, user.id, body.role);
        this.ctx.audit(
          project.org_id,
          actor,
          previous ? 'project.member.role' : 'project.member.add',
          email,
          previous ? { project: project.name, projectId: project.id, from: previous, to: body.role } : { project: project.name, projectId: project.id, role: body.role },
        );
      }
      return { member: this.memberView(project, user.id), created: previous === undefined };
    });
  }

  /** Takes someone off the project. Managers and org owners/admins remove anyone; anyone may leave. */
  removeMember(actor: Actor, projectId: number, rawEmail: string): { email: string } {
    return this.ctx.write(() => {
      const project = this.visible(actor, projectId);
      const email = normalizeEmail(rawEmail);
      const user = this.identity.userByEmail(email);
      const role = user ? this.projectRole(project.id, user.id) : undefined;
      if (user?.id !== actor.id) this.requireManage(actor, project, 'remove project members');
      if (!user || !role) throw notFound(`member ${email} of project "${project.name}"`);
      this.ctx.stmt('DELETE FROM project_members WHERE project_id = ? AND user_id = ?').run(project.id, user.id);
      this.ctx.audit(project.org_id, actor, 'project.member.remove', email, { project: project.name, projectId: project.id, role });
      return { email };
    });
  }

  // ---- datasets and tasks -----------------------------------------------------------------------------

  createDataset(actor: Actor, projectId: number, body: { name: string }): DatasetView {
    const name = checkName(body.name);
    return this.ctx.write(() => {
      const project = this.visible(actor, projectId);
      this.requireManage(actor, project, 'create datasets');
      if (this.ctx.stmt('SELECT 1 FROM datasets WHERE project_id = ? AND name = ?').get(project.id, name)) {
        throw conflict('already_exists', `dataset "${name}" already exists in project "${project.name}"`);
      }
      const info = this.ctx.stmt('INSERT INTO datasets (project_id, name, created_at) VALUES (?, ?, ?)').run(project.id, name, this.ctx.now());
      const id = Number(info.lastInsertRowid);
      this.ctx.audit(project.org_id, actor, 'dataset.create', name, { project: project.name, projectId: project.id, datasetId: id });
      return this.datasetViews(project.id).find((d) => d.id === id)!;
    });
  }

  /**
   * A task, optionally in one of the project's datasets and assigned to someone who can see the project
   * (a project member, or an owner/admin of the owning organization).
   */
  createTask(actor: Actor, projectId: number, body: TaskCreate): TaskView {
    const name = checkName(body.name);
    const completion = checkCompletion(body.completion ?? 0);
    return this.ctx.write(() => {
      const project = this.visible(actor, projectId);
      this.requireManage(actor, project, 'create tasks');
      if (body.datasetId !== undefined && !this.ctx.stmt('SELECT 1 FROM datasets WHERE id = ? AND project_id = ?').get(body.datasetId, project.id)) {
        throw badRequest(`dataset ${body.datasetId} is not in project "${project.name}"`, 'datasetId');
      }
      let assignee: number | null = null;
      if (body.assignee !== undefined) {
        const email = normalizeEmail(body.assignee);
        const user = this.identity.userByEmail(email);
        if (!user || (!this.projectRole(project.id, user.id) && !this.isOrgAdmin({ id: user.id, email, superuser: false }, project.org_id))) {
          throw badRequest(`${email} cannot be assigned: not a member of project "${project.name}"`, 'assignee', { email });
        }
        assignee = user.id;
      }
      const now = this.ctx.now();
      const info = this.ctx
        .stmt('INSERT INTO tasks (project_id, dataset_id, name, completion, assignee_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(project.id, body.datasetId ?? null, name, completion, assignee, now, now);
      const id = Number(info.lastInsertRowid);
      this.ctx.audit(project.org_id, actor, 'task.create', name, { project: project.name, projectId: project.id, taskId: id, completion });
      return this.taskView(this.task(project, id));
    });
  }

  updateTask(actor: Actor, projectId: number, taskId: number, body: { completion: number }): TaskView {
    const completion = checkCompletion(body.completion);
    return this.ctx.write(() => {
      const project = this.visible(actor, projectId);
      this.requireManage(actor, project, 'update tasks');
      const task = this.task(project, taskId);
      if (task.completion !== completion) {
        this.ctx.stmt('UPDATE tasks SET completion = ?, updated_at = ? WHERE id = ?').run(completion, this.ctx.now(), task.id);
        this.ctx.audit(project.org_id, actor, 'task.update', task.name, { project: project.name, projectId: project.id, taskId: task.id, from: task.completion, to: completion });
      }
      return this.taskView(this.task(project, taskId));
    });
  }

  // ---- helpers ----------------------------------------------------------------------------------------

  private row(id: number): ProjectRow {
    const row = Number.isSafeInteger(id) ? (this.ctx.stmt('SELECT * FROM projects WHERE id = ?').get(id) as ProjectRow | undefined) : undefined;
    if (!row) throw notFound(`project ${id}`);
    return row;
  }

  /** The project, if the actor may see it; 404 otherwise (they may not learn what exists). */
  private visible(actor: Actor, id: number): ProjectRow {
    const row = this.row(id);
    if (actor.superuser || this.isOrgAdmin(actor, row.org_id) || this.projectRole(row.id, actor.id)) return row;
    throw notFound(`project ${id}`);
  }

  private requireManage(actor: Actor, project: ProjectRow, action: string): void {
    if (actor.superuser || this.isOrgAdmin(actor, project.org_id)) return;
    const role = this.projectRole(project.id, actor.id);
    if (role === 'manager') return;
    const org = this.ctx.orgById(project.org_id);
    throw forbidden(`a project ${role ?? 'member'} may not ${action} (needs project manager, or owner or admin of "${org.name}")`);
  }

  private isOrgAdmin(actor: Actor, orgId: number): boolean {
    if (actor.superuser) return true;
    const role: Role | undefined = this.ctx.roleIn(orgId, actor.id);
    return role === 'owner' || role === 'admin';
  }

  private mayBringOutsider(actor: Actor, project: ProjectRow, userId: number): boolean {
    if (this.isOrgAdmin(actor, project.org_id)) return true;
    if (this.projectRole(project.id, actor.id) !== 'manager') return false;
    return !!this.ctx
      .stmt(
        `SELECT 1 FROM memberships a JOIN memberships b ON b.org_id = a.org_id
         WHERE a.user_id = ? AND a.role IN ('owner', 'admin') AND b.user_id = ? LIMIT 1`,
      )
      .get(actor.id, userId);
  }

  private projectRole(projectId: number, userId: number): ProjectRole | undefined {
    const r = this.ctx.stmt('SELECT role FROM project_members WHERE project_id = ? AND user_id = ?').get(projectId, userId) as { role: ProjectRole } | undefined;
    return r?.role;
  }

  private task(project: ProjectRow, taskId: number): TaskRow {
    const row = Number.isSafeInteger(taskId)
      ? (this.ctx.stmt('SELECT * FROM tasks WHERE id = ? AND project_id = ?').get(taskId, project.id) as TaskRow | undefined)
      : undefined;
    if (!row) throw notFound(`task ${taskId} of project "${project.name}"`);
    return row;
  }

  private view(r: ProjectRow, actor: Actor): ProjectView {
    return {
      id: r.id,
      name: r.name,
      organization: this.ctx.orgById(r.org_id).name,
      payingOrganization: this.ctx.orgById(r.paying_org_id).name,
      createdBy: this.identity.userById(r.created_by).email,
      createdAt: iso(r.created_at),
      myRole: this.projectRole(r.id, actor.id) ?? null,
    };
  }

  private detail(r: ProjectRow, actor: Actor): ProjectDetail {
    const members = (this.ctx.stmt('SELECT user_id FROM project_members WHERE project_id = ?').all(r.id) as { user_id: number }[])
      .map((m) => this.memberView(r, m.user_id))
      .sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
    const tasks = (this.ctx.stmt('SELECT * FROM tasks WHERE project_id = ? ORDER BY id').all(r.id) as TaskRow[]).map((t) => this.taskView(t));
    return { ...this.view(r, actor), active: tasks.some((t) => t.active), members, datasets: this.datasetViews(r.id), tasks };
  }

  private memberView(project: ProjectRow, userId: number): ProjectMemberView {
    // Names as the project's organization shows them (its own copy, else the person's); a person from another
    // organization shows their own.
    const u = this.ctx
      .stmt(
        `SELECT u.email, COALESCE(m.first_name, u.first_name) AS first_name, COALESCE(m.last_name, u.last_name) AS last_name, m.role
         FROM users u LEFT JOIN memberships m ON m.user_id = u.id AND m.org_id = ? WHERE u.id = ?`,
      )
      .get(project.org_id, userId) as { email: string; first_name: string; last_name: string; role: string | null };
    return {
      email: u.email,
      role: this.projectRole(project.id, userId)!,
      firstName: u.first_name,
      lastName: u.last_name,
      external: u.role === null,
    };
  }

  private datasetViews(projectId: number): DatasetView[] {
    const rows = this.ctx
      .stmt(
        `SELECT d.id, d.name, d.created_at,
                EXISTS (SELECT 1 FROM tasks t WHERE t.dataset_id = d.id AND t.completion < 100) AS active
         FROM datasets d WHERE d.project_id = ? ORDER BY d.id`,
      )
      .all(projectId) as { id: number; name: string; created_at: number; active: number }[];
    return rows.map((d) => ({ id: d.id, name: d.name, createdAt: iso(d.created_at), active: d.active === 1 }));
  }

  private taskView(t: TaskRow): TaskView {
    return {
      id: t.id,
      name: t.name,
      datasetId: t.dataset_id,
      completion: t.completion,
      assignee: t.assignee_id === null ? null : this.identity.userById(t.assignee_id).email,
      active: t.completion < 100,
      createdAt: iso(t.created_at),
      updatedAt: iso(t.updated_at),
    };
  }
}

function checkCompletion(value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
    throw badRequest('completion must be a number from 0 to 100', 'completion');
  }
  return value;
}

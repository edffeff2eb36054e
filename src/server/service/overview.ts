import { isoTime } from '../time.js';
import type { Actor, Context, OrgRow, Role } from './context.js';

/** Totals and active counts. Active: a task under 100% complete, and the datasets and projects holding one. */
export interface OverviewView {
  organization: string;
  projects: { total: number; active: number };
  datasets: { total: number; active: number };
  tasks: { total: number; active: number };
  members: number;
  /** Open invites that have not expired. */
  pendingInvites: number;
  stateVersion: number;
}

export interface UserStatsView {
  email: string;
  role: Role;
  /** First and last name, space-separated; empty when unknown. */
  name: string;
  lastConnectionAt: string | null;
  /** Projects of this organization the member is assigned to (any project role). */
  projects: number;
  /** Tasks of this organization's projects assigned to the member. */
  tasksAssigned: number;
  /** Of those, the ones 100% complete. */
  tasksCompleted: number;
}

export const USER_STATS_COLUMNS = ['email', 'role', 'name', 'lastConnectionAt', 'projects', 'tasksAssigned', 'tasksCompleted'] as const;

/**
 * Organization statistics (Dataloop's Organization Overview, Ango Hub's Overview tab): only owners and
 * admins see them. Everything counted belongs to projects the organization owns, not ones it pays for.
 */
export class Overview {
  constructor(private readonly ctx: Context) {}

  get(actor: Actor, ref: string): OverviewView {
    return this.ctx.db.transaction(() => {
      const org = this.readable(actor, ref);
      const projects = this.ctx
        .stmt(
          `SELECT COUNT(*) AS total,
                  COALESCE(SUM(EXISTS (SELECT 1 FROM tasks t WHERE t.project_id = p.id AND t.completion < 100)), 0) AS active
           FROM projects p WHERE p.org_id = ?`,
        )
        .get(org.id) as { total: number; active: number };
      const datasets = this.ctx
        .stmt(
          `SELECT COUNT(*) AS total,
                  COALESCE(SUM(EXISTS (SELECT 1 FROM tasks t WHERE t.dataset_id = d.id AND t.completion < 100)), 0) AS active
           FROM datasets d JOIN projects p ON p.id = d.project_id WHERE p.org_id = ?`,
        )
        .get(org.id) as { total: number; active: number };
      const tasks = this.ctx
        .stmt(
          `SELECT COUNT(*) AS total, COALESCE(SUM(t.completion < 100), 0) AS active
           FROM tasks t JOIN projects p ON p.id = t.project_id WHERE p.org_id = ?`,
        )
        .get(org.id) as { total: number; active: number };
      const members = (this.ctx.stmt('SELECT COUNT(*) AS n FROM memberships WHERE org_id = ?').get(org.id) as { n: number }).n;
      const pendingInvites = (
        this.ctx.stmt("SELECT COUNT(*) AS n FROM invites WHERE org_id = ? AND status = 'pending' AND expires_at > ?").get(org.id, this.ctx.now()) as {
          n: number;
        }
      ).n;
      return { organization: org.name, projects, datasets, tasks, members, pendingInvites, stateVersion: org.version };
    })();
  }

  /** Per-member statistics, ordered by email. */
  users(actor: Actor, ref: string): { organization: string; items: UserStatsView[]; stateVersion: number } {
    return this.ctx.db.transaction(() => {
      const org = this.readable(actor, ref);
      // Aggregated once per organization rather than per member: tasks have no index by assignee.
      const rows = this.ctx
        .rawStmt(
          `WITH pm AS (
             SELECT pm.user_id, COUNT(*) AS n FROM project_members pm JOIN projects p ON p.id = pm.project_id
             WHERE p.org_id = @org GROUP BY pm.user_id
           ), ta AS (
             SELECT t.assignee_id AS user_id, COUNT(*) AS assigned, SUM(t.completion >= 100) AS completed
             FROM tasks t JOIN projects p ON p.id = t.project_id
             WHERE p.org_id = @org AND t.assignee_id IS NOT NULL GROUP BY t.assignee_id
           )
           SELECT m.email, m.role, COALESCE(m.first_name, u.first_name), COALESCE(m.last_name, u.last_name), u.last_connection_at,
                  COALESCE(pm.n, 0), COALESCE(ta.assigned, 0), COALESCE(ta.completed, 0)
           FROM memberships m JOIN users u ON u.id = m.user_id
           LEFT JOIN pm ON pm.user_id = m.user_id LEFT JOIN ta ON ta.user_id = m.user_id
           WHERE m.org_id = @org ORDER BY m.email`,
        )
        .all({ org: org.id }) as [string, Role, string, string, number | null, number, number, number][];
      const items = rows.map((r) => ({
        email: r[0],
        role: r[1],
        name: `${r[2]} ${r[3]}`.trim(),
        lastConnectionAt: r[4] === null ? null : isoTime(r[4]),
        projects: r[5],
        tasksAssigned: r[6],
        tasksCompleted: r[7],
      }));
      return { organization: org.name, items, stateVersion: org.version };
    })();
  }

  /**
   * The same statistics as RFC 4180 CSV: a header row, every field double-quoted (quotes doubled), CRLF
   * after every record. A text field starting with = + - @ or a tab/CR gets a leading `'` so spreadsheets
   * do not run it as a formula (names are user-supplied).
   */
  usersCsv(actor: Actor, ref: string): { organization: string; filename: string; csv: string } {
    const { organization, items } = this.users(actor, ref);
    const lines = [USER_STATS_COLUMNS.map(csvField).join(',')];
    for (const u of items) lines.push(USER_STATS_COLUMNS.map((c) => csvField(u[c])).join(','));
    return { organization, filename: `${organization}-users.csv`, csv: `${lines.join('\r\n')}\r\n` };
  }

  private readable(actor: Actor, ref: string): OrgRow {
    const org = this.ctx.orgByName(ref);
    this.ctx.require(org, actor, ['owner', 'admin'], 'see organization statistics');
    return org;
  }
}

export function csvField(value: string | number | null): string {
  let s = value === null ? '' : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

import type { DesiredOrg } from '../../model/desired.js';
import { ROLES, type Role } from '../../model/roles.js';
import { CsvError, parseCsv, toCsv } from '../../util/csv.js';

/**
 * Deepomatic has no public API for users (platform-apis.md section 3), so orgctl cannot apply anything there.
 * It plans instead what an Org Admin does by hand on the admin page: bulk-invite CSV files in the documented
 * columns (Email, First name, Last name, Description), one per role since every user of one import gets one
 * role, and a checklist of the rest (resends, role changes, removals). Given the admin page's user table
 * (email, role, status), it diffs against it as `plan` does.
 */

/** The roles the Deepomatic docs list (global, Drive); Engage roles exist beyond these, so others are allowed. */
export const DEEPOMATIC_ROLES = ['Org Admin', 'Project manager', 'ReadOnly', 'Data scientist', 'Auditor', 'Annotator', 'GalleryViewer'] as const;

/**
 * orgctl's roles on Deepomatic. Owners and admins invite and manage people: Org Admin (Deepomatic has one
 * admin role). Members work in projects: Data scientist. Workers label: Annotator. Override per role.
 */
export const DEFAULT_ROLE_MAP: Readonly<Record<Role, string>> = { owner: 'Org Admin', admin: 'Org Admin', member: 'Data scientist', worker: 'Annotator' };

/** The admin page's user statuses. */
export const STATUSES = ['Active', 'Invite Pending', 'Invite Expired'] as const;
export type Status = (typeof STATUSES)[number];

export interface CurrentUser {
  email: string;
  role: string;
  status: Status;
  /** 1-based line in the CSV, for messages. */
  line: number;
}

/** The bulk-invite columns, in the documented order. */
export const INVITE_COLUMNS = ['Email', 'First name', 'Last name', 'Description'] as const;

export interface Invitee {
  email: string;
  firstName: string;
  lastName: string;
  description: string;
}

export interface InviteFile {
  /** `invite-org-admin.csv` */
  file: string;
  role: string;
  people: Invitee[];
}

export interface Handoff {
  organization: string;
  invites: InviteFile[];
  resend: { email: string; role: string }[];
  roleChanges: { email: string; from: string; to: string; status: Status }[];
  remove: { email: string; role: string; status: Status }[];
  /** Not declared, kept (additive policy). */
  leftAlone: { email: string; role: string; status: Status }[];
  /** Whether a current user table was given. */
  compared: boolean;
}

const norm = (role: string) => role.trim().replace(/\s+/g, ' ').toLowerCase();
const slug = (role: string) => role.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'role';

/** `ROLE=Deepomatic role` overrides, as `--role` gives them. */
export function parseRoleMap(overrides: readonly string[]): { map: Record<Role, string>; problems: string[]; notes: string[] } {
  const map: Record<Role, string> = { ...DEFAULT_ROLE_MAP };
  const problems: string[] = [];
  const notes: string[] = [];
  for (const o of overrides) {
    const m = /^([a-z]+)=(.+)$/.exec(o.trim());
    if (!m || !(ROLES as readonly string[]).includes(m[1]!)) {
      problems.push(`--role ${JSON.stringify(o)}: expected ROLE=DEEPOMATIC_ROLE with ROLE one of ${ROLES.join(', ')} (e.g. member="Project manager")`);
      continue;
    }
    const target = m[2]!.trim();
    const known = DEEPOMATIC_ROLES.find((r) => norm(r) === norm(target));
    if (!known) notes.push(`--role ${m[1]}=${target}: not a role the Deepomatic docs list (${DEEPOMATIC_ROLES.join(', ')}); used as written`);
    map[m[1] as Role] = known ?? target;
  }
  return { map, problems, notes };
}

/** The admin page's user table as CSV: a header naming Email, Role and Status (any order, other columns ignored). */
export function parseCurrentUsers(text: string): CurrentUser[] {
  let records: string[][];
  try {
    records = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvError) throw new Error(`not valid CSV: ${err.message}`);
    throw err;
  }
  const header = records[0]?.map((h) => h.trim().toLowerCase());
  const col = (name: string) => header?.indexOf(name) ?? -1;
  const [email, role, status] = [col('email'), col('role'), col('status')];
  if (!header || email < 0 || role < 0 || status < 0) throw new Error('the first line must be a header naming the columns Email, Role and Status (as on the admin page)');
  const out: CurrentUser[] = [];
  const seen = new Map<string, number>();
  const problems: string[] = [];
  records.slice(1).forEach((r, i) => {
    const line = i + 2;
    const e = (r[email] ?? '').trim().toLowerCase();
    if (!e && r.every((f) => !f.trim())) return;
    if (!e.includes('@')) return void problems.push(`line ${line}: "${(r[email] ?? '').slice(0, 80)}" is not an email`);
    const s = STATUSES.find((x) => norm(x) === norm(r[status] ?? ''));
    if (!s) return void problems.push(`line ${line}: status "${(r[status] ?? '').slice(0, 40)}" is not one of ${STATUSES.join(', ')}`);
    if (seen.has(e)) return void problems.push(`line ${line}: ${e} is also on line ${seen.get(e)}`);
    seen.set(e, line);
    out.push({ email: e, role: (r[role] ?? '').trim(), status: s, line });
  });
  if (problems.length) throw new Error(problems.join('\n'));
  return out;
}

function globs(patterns: string[]): (email: string) => boolean {
  const res = patterns.map((p) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i'));
  return (email) => res.some((r) => r.test(email));
}

/** What an admin must do on Deepomatic for the organization to be as declared. */
export function planHandoff(org: DesiredOrg, current: CurrentUser[] | undefined, roleMap: Readonly<Record<Role, string>> = DEFAULT_ROLE_MAP): Handoff {
  const ignored = globs(org.ignore);
  const now = new Map((current ?? []).map((u) => [u.email, u]));
  const invites = new Map<string, InviteFile>();
  const h: Handoff = { organization: org.name, invites: [], resend: [], roleChanges: [], remove: [], leftAlone: [], compared: current !== undefined };
  for (const m of [...org.members.values()].sort((a, b) => (a.email < b.email ? -1 : 1))) {
    if (ignored(m.email)) continue;
    const role = roleMap[m.role];
    const have = now.get(m.email);
    if (!have) {
      const key = norm(role);
      const file = invites.get(key) ?? { file: `invite-${slug(role)}.csv`, role, people: [] };
      file.people.push({ email: m.email, firstName: m.firstName ?? '', lastName: m.lastName ?? '', description: m.description ?? '' });
      invites.set(key, file);
      continue;
    }
    if (norm(have.role) !== norm(role)) h.roleChanges.push({ email: m.email, from: have.role, to: role, status: have.status });
    if (have.status === 'Invite Expired') h.resend.push({ email: m.email, role });
  }
  for (const u of [...now.values()].sort((a, b) => (a.email < b.email ? -1 : 1))) {
    if (org.members.has(u.email) || ignored(u.email)) continue;
    (org.membersPolicy === 'authoritative' ? h.remove : h.leftAlone).push({ email: u.email, role: u.role, status: u.status });
  }
  h.invites = [...invites.values()].sort((a, b) => (a.file < b.file ? -1 : 1));
  return h;
}

/** One bulk-invite file: the documented columns, RFC 4180. */
export function inviteCsv(file: InviteFile): string {
  return toCsv([[...INVITE_COLUMNS], ...file.people.map((p) => [p.email, p.firstName, p.lastName, p.description])]);
}

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The one-line summary, as plan's. */
export function summary(h: Handoff): string {
  const invited = h.invites.reduce((n, f) => n + f.people.length, 0);
  return `${count(invited, 'person', 'people')} to invite, ${count(h.resend.length, 'invite')} to resend, ${count(h.roleChanges.length, 'role change')}, ${count(h.remove.length, 'user')} to remove`;
}

/** The checklist, in Markdown: deterministic (no dates), so it can be committed and reviewed. */
export function renderChecklist(h: Handoff, source: { manifests: string; current?: string; roleMap: Readonly<Record<Role, string>> }): string {
  const out: string[] = [];
  const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;
  out.push(`# Deepomatic hand-off: ${h.organization}`, '');
  out.push(
    'Deepomatic has no public API for users, so orgctl cannot apply this itself: an Org Admin does it on the',
    "platform's admin page, in this order.",
    '',
    `Made by \`orgctl handoff deepomatic\` from ${code(source.manifests)}${source.current ? ` and the user table ${code(source.current)}` : ''}.`,
    `Roles: ${ROLES.map((r) => `${r} -> ${source.roleMap[r]}`).join(', ')}.`,
    '',
    `Summary: ${summary(h)}.`,
    '',
  );
  if (!h.compared) {
    out.push(
      '> No user table was given (`--current users.csv`), so every declared person is in the invite files and no',
      '> resends, role changes or removals could be worked out. Copy the admin page\'s user table (Email, Role,',
      '> Status) into a CSV and run again with `--current` to see them.',
      '',
    );
  }
  out.push('## 1. Invite', '');
  if (h.invites.length) {
    out.push('On the admin page: Invite, then import a CSV. Every user of one import gets the same role and site access.', '');
    for (const f of h.invites) out.push(`- [ ] Import ${code(f.file)} with role **${f.role}** (${count(f.people.length, 'person', 'people')}), and choose their site access.`);
  } else {
    out.push('Nobody to invite.');
  }
  out.push('', '## 2. Resend expired invites', '');
  if (h.resend.length) {
    out.push("User menu: Resend invite (for users whose status is Invite Expired).", '');
    for (const r of h.resend) out.push(`- [ ] ${r.email} (${r.role})`);
  } else {
    out.push(h.compared ? 'No expired invites.' : 'Unknown without a user table.');
  }
  out.push('', '## 3. Change roles', '');
  if (h.roleChanges.length) {
    out.push('User menu: Edit user info/role.', '');
    for (const c of h.roleChanges) out.push(`- [ ] ${c.email}: ${c.from || '(no role)'} -> **${c.to}**${c.status === 'Active' ? '' : ` (${c.status})`}`);
  } else {
    out.push(h.compared ? 'No role changes.' : 'Unknown without a user table.');
  }
  out.push('', '## 4. Remove users', '');
  if (h.remove.length) {
    out.push('User menu: Remove user (they lose access to the organization at once).', '');
    for (const r of h.remove) out.push(`- [ ] ${r.email} (${r.role || 'no role'}, ${r.status})`);
  } else {
    out.push(h.compared ? 'Nobody to remove.' : 'Unknown without a user table.');
  }
  if (h.leftAlone.length) {
    out.push('', '## Not declared, left alone', '', 'The organization\'s members policy is additive: these users are not in the manifests and stay as they are.', '');
    for (const r of h.leftAlone) out.push(`- ${r.email} (${r.role || 'no role'}, ${r.status})`);
  }
  return `${out.join('\n')}\n`;
}

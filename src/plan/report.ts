import type { ActualOrg } from '../model/actual.js';
import type { DesiredOrg } from '../model/desired.js';
import type { Role } from '../model/roles.js';

/** Where a person is declared (`file:line:column`), as the manifests say. */
export interface DeclaredAt {
  file: string;
  line: number;
  column: number;
}

/** One person with access to an organization, and why. */
export interface AccessRow {
  email: string;
  role: Role;
  /** active: a member; pending: an open invite; expired: an invite past its end, not accepted. */
  status: 'active' | 'pending' | 'expired';
  /** When the invite was sent, and by whom (or when a member joined), where the platform says. */
  invitedAt?: string;
  invitedBy?: string;
  joinedAt?: string;
  /** Where it is declared; undefined: present on the platform but in no manifest given. */
  declaredAt?: DeclaredAt;
  /** When the declared access ends, if it does. */
  expiresAt?: string;
  owner: boolean;
  creator: boolean;
  /** A pending invite older than the stale threshold. */
  stale: boolean;
  /** What a reviewer should look at, in words: `not declared`, `pending 21 days`, `access ends ...`. */
  notes: string[];
}

export interface AccessReport {
  organization: string;
  generatedAt: string;
  /** Whether manifests were given: without them, nobody can be called undeclared. */
  declarationsKnown: boolean;
  rows: AccessRow[];
  summary: { members: number; pending: number; expired: number; stale: number; undeclared: number; owners: number; expiring: number };
}

const DAY = 86_400_000;

/**
 * Who has access to an organization and why: every member and open invite, with its status, who invited
 * them and when, and where it is declared. Pure: the platform's state, the declarations and the clock in,
 * rows out, sorted by email.
 */
export function accessReport(
  actual: ActualOrg,
  opts: { now: number; staleAfterMs: number; declarations?: ReadonlyMap<string, DeclaredAt>; desired?: DesiredOrg; expiringWithinMs?: number },
): AccessReport {
  const rows: AccessRow[] = [];
  const policy = opts.desired?.membersPolicy ?? 'additive';
  const declared = (email: string) => opts.declarations?.get(email);
  const expiry = (email: string) => opts.desired?.members.get(email)?.expiresAt;
  const ending = (at: string | undefined) => at !== undefined && Date.parse(at) > opts.now && Date.parse(at) <= opts.now + (opts.expiringWithinMs ?? 14 * DAY);
  const describeEnd = (row: AccessRow) => {
    if (!row.expiresAt) return;
    if (Date.parse(row.expiresAt) <= opts.now) row.notes.push(`access ended on ${row.expiresAt} (the next apply removes it)`);
    else if (ending(row.expiresAt)) row.notes.push(`access ends on ${row.expiresAt}`);
  };
  const undeclared = (row: AccessRow) => {
    if (!opts.declarations || row.declaredAt) return;
    row.notes.push(policy === 'authoritative' ? 'not declared (the authoritative policy removes it on the next apply)' : 'not declared (the additive policy leaves it)');
  };
  for (const m of actual.members.values()) {
    const row: AccessRow = {
      email: m.email,
      role: m.role,
      status: 'active',
      ...(m.joinedAt ? { joinedAt: m.joinedAt } : {}),
      ...(declared(m.email) ? { declaredAt: declared(m.email)! } : {}),
      ...(expiry(m.email) ? { expiresAt: expiry(m.email)! } : {}),
      owner: m.role === 'owner',
      creator: m.creator,
      stale: false,
      notes: [],
    };
    if (m.creator) row.notes.push('created the organization');
    undeclared(row);
    describeEnd(row);
    rows.push(row);
  }
  for (const i of actual.invites.values()) {
    if (actual.members.has(i.email)) continue;
    const age = i.invitedAt ? opts.now - Date.parse(i.invitedAt) : undefined;
    const stale = i.status === 'pending' && age !== undefined && age > opts.staleAfterMs;
    const row: AccessRow = {
      email: i.email,
      role: i.role,
      status: i.status,
      ...(i.invitedAt ? { invitedAt: i.invitedAt } : {}),
      ...(i.invitedBy ? { invitedBy: i.invitedBy } : {}),
      ...(declared(i.email) ? { declaredAt: declared(i.email)! } : {}),
      ...(expiry(i.email) ? { expiresAt: expiry(i.email)! } : {}),
      owner: false,
      creator: false,
      stale,
      notes: [],
    };
    if (stale) row.notes.push(`pending ${Math.floor(age! / DAY)} days`);
    if (i.status === 'expired') row.notes.push(`invite expired${i.expiresAt ? ` on ${i.expiresAt}` : ''}; not accepted`);
    undeclared(row);
    describeEnd(row);
    rows.push(row);
  }
  rows.sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
  return {
    organization: actual.name,
    generatedAt: new Date(opts.now).toISOString(),
    declarationsKnown: opts.declarations !== undefined,
    rows,
    summary: {
      members: rows.filter((r) => r.status === 'active').length,
      pending: rows.filter((r) => r.status === 'pending').length,
      expired: rows.filter((r) => r.status === 'expired').length,
      stale: rows.filter((r) => r.stale).length,
      undeclared: opts.declarations ? rows.filter((r) => !r.declaredAt).length : 0,
      owners: rows.filter((r) => r.owner).length,
      expiring: rows.filter((r) => ending(r.expiresAt)).length,
    },
  };
}

import { desiredState } from '../../manifest/desired.js';
import { formatDiagnostic } from '../../manifest/diagnostics.js';
import { memberDeclarations } from '../../manifest/declarations.js';
import type { DesiredOrg } from '../../model/desired.js';
import { PlatformError } from '../../platform/types.js';
import { accessReport, type AccessReport, type AccessRow } from '../../plan/report.js';
import { toCsv } from '../../util/csv.js';
import { clock } from '../clock.js';
import { parseDuration } from '../duration.js';
import { ExitCode, UserError, type Io } from '../io.js';
import { plural, readManifests } from '../manifests.js';
import { openTarget } from '../target.js';

export interface ReportFlags {
  org: string;
  filename?: string[];
  output: 'text' | 'json' | 'csv';
  staleAfter: string;
  platform?: string;
}

const where = (r: AccessRow) => (r.declaredAt ? `${r.declaredAt.file}:${r.declaredAt.line}:${r.declaredAt.column}` : '');
const day = (iso: string | undefined) => (iso ? iso.slice(0, 10) : '');

function renderText(report: AccessReport): string {
  const header = ['EMAIL', 'ROLE', 'STATUS', 'SINCE', 'INVITED BY', ...(report.declarationsKnown ? ['DECLARED'] : []), 'NOTES'];
  const rows = report.rows.map((r) => [
    r.email,
    r.role,
    r.status,
    day(r.joinedAt ?? r.invitedAt),
    r.invitedBy ?? '',
    ...(report.declarationsKnown ? [where(r) || 'not declared'] : []),
    r.notes.filter((n) => !n.startsWith('not declared')).join('; '),
  ]);
  // A reduce, not Math.max(...): an organization of 100,000 rows would overflow the call's arguments.
  const widths = header.map((h, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), h.length));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const s = report.summary;
  const tail = [
    `${plural(s.members, 'member')}, ${plural(s.pending, 'pending invite')} (${s.stale} stale), ${plural(s.expired, 'expired invite')}, ${plural(s.owners, 'owner')}`,
    ...(report.declarationsKnown ? [`${s.undeclared} not declared in the manifests`] : ['pass -f with the manifests to see where each person is declared']),
    ...(s.expiring ? [`${plural(s.expiring, 'person', 'people')} whose declared access ends soon`] : []),
  ];
  return `organization ${report.organization} (as of ${report.generatedAt})\n${line(header)}\n${rows.map(line).join('\n')}${rows.length ? '\n' : ''}\n${tail.join('\n')}\n`;
}

function renderCsv(report: AccessReport): string {
  return toCsv([
    ['email', 'role', 'status', 'joined_at', 'invited_at', 'invited_by', 'declared_at', 'expires_at', 'owner', 'stale', 'notes'],
    ...report.rows.map((r) => [
      r.email,
      r.role,
      r.status,
      r.joinedAt ?? '',
      r.invitedAt ?? '',
      r.invitedBy ?? '',
      report.declarationsKnown ? where(r) || 'not declared' : '',
      r.expiresAt ?? '',
      String(r.owner),
      String(r.stale),
      r.notes.join('; '),
    ]),
  ]);
}

/**
 * `orgctl report --org NAME [-f PATH...] [-o text|json|csv] [--stale-after 14d]`: who has access to an
 * organization and why, for an access review: members and invites with their status, who invited them and
 * when, where they are declared (or that nobody declared them), stale and expired invites, owners.
 */
export async function runReport(flags: ReportFlags, io: Io): Promise<number> {
  const staleAfterMs = parseDuration(flags.staleAfter);
  if (staleAfterMs === undefined) throw new UserError(`--stale-after must be a duration such as 14d, not "${flags.staleAfter}"`, ExitCode.usage);
  let declarations;
  let desired: DesiredOrg | undefined;
  if (flags.filename?.length) {
    const set = readManifests(flags.filename, io);
    if (set.problems.length) {
      for (const d of set.problems) io.stderr(`${formatDiagnostic(d)}\n`);
      throw new UserError(`${plural(set.problems.length, 'problem')} in the manifests; no report`);
    }
    desired = desiredState(set.result.objects, new Map(set.sources.map((s) => [s.name, s.dir]))).get(flags.org);
    if (!desired) throw new UserError(`the manifests declare no Organization "${flags.org}"`);
    declarations = memberDeclarations(set.result.objects, set.sources, flags.org);
  }
  const { platform } = await openTarget(flags.platform, io);
  try {
    const actual = await platform.read(flags.org, desired?.externalId ? { externalId: desired.externalId } : undefined, { history: true });
    if (!actual) throw new UserError(`organization "${flags.org}" does not exist on ${platform.description}`);
    const report = accessReport(actual, { now: clock(io.env)(), staleAfterMs, declarations, desired });
    if (flags.output === 'json') io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    else if (flags.output === 'csv') io.stdout(renderCsv(report));
    else io.stdout(renderText(report));
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof PlatformError) throw new UserError(err.message);
    throw err;
  } finally {
    await platform.close();
  }
}

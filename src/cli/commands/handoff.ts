import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { desiredState } from '../../manifest/desired.js';
import { formatDiagnostic, formatNote } from '../../manifest/diagnostics.js';
import { loadManifests } from '../../manifest/load.js';
import { readSources } from '../../manifest/sources.js';
import { inviteCsv, parseCurrentUsers, parseRoleMap, planHandoff, renderChecklist, summary, type CurrentUser } from '../../platform/deepomatic/handoff.js';
import { ExitCode, UserError, type Io } from '../io.js';

export interface HandoffFlags {
  filename: string[];
  out: string;
  current?: string;
  org?: string;
  role: string[];
}

export const CHECKLIST = 'checklist.md';

/**
 * `orgctl handoff deepomatic -f DIR [--current users.csv] --out DIR`: for a platform with no user API, writes
 * what its admin does by hand (bulk-invite CSVs, one per role, and a checklist), diffed against the admin
 * page's user table when one is given. Writes only into --out; talks to no platform.
 */
export async function runHandoff(platform: string, flags: HandoffFlags, io: Io): Promise<number> {
  if (platform !== 'deepomatic') throw new UserError(`orgctl handoff knows one platform without a user API, deepomatic, not "${platform}"`, ExitCode.usage);
  const roles = parseRoleMap(flags.role);
  if (roles.problems.length) throw new UserError(roles.problems.join('\n'), ExitCode.usage);
  for (const n of roles.notes) io.stderr(`note: ${n}\n`);

  const read = readSources(flags.filename, { cwd: io.cwd, stdin: io.stdin });
  const loaded = loadManifests(read.sources, {});
  for (const n of loaded.notes) io.stderr(`note: ${formatNote(n)}\n`);
  const problems = [...read.diagnostics, ...loaded.diagnostics];
  if (problems.length) {
    for (const d of problems) io.stderr(`${formatDiagnostic(d)}\n`);
    throw new UserError(`${problems.length} problem(s) in the manifests; nothing was written (run \`orgctl validate\` for details)`);
  }
  const orgs = desiredState(loaded.objects);
  if (orgs.size === 0) throw new UserError('the manifests declare no Organization');
  const name = flags.org ?? (orgs.size === 1 ? [...orgs.keys()][0]! : undefined);
  if (!name) throw new UserError(`the manifests declare ${orgs.size} organizations (${[...orgs.keys()].join(', ')}); pick one with --org`, ExitCode.usage);
  const org = orgs.get(name);
  if (!org) throw new UserError(`organization "${name}" is not declared in the manifests (declared: ${[...orgs.keys()].join(', ')})`);
  for (const m of org.members.values()) {
    if (m.projects.length) {
      io.stderr(`note: project pre-assignments are not part of a Deepomatic bulk invite; ${m.email} and others are invited without them\n`);
      break;
    }
  }

  let current: CurrentUser[] | undefined;
  if (flags.current) {
    let text: string;
    try {
      text = readFileSync(isAbsolute(flags.current) ? flags.current : join(io.cwd, flags.current), 'utf8');
    } catch (err) {
      throw new UserError(`cannot read ${flags.current}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      current = parseCurrentUsers(text);
    } catch (err) {
      throw new UserError(`${flags.current}: ${(err as Error).message.split('\n').join(`\n${flags.current}: `)}`);
    }
  }

  const h = planHandoff(org, current, roles.map);
  const lines = [`organization ${org.name} (Deepomatic: by hand, see ${join(flags.out, CHECKLIST)})`];
  for (const f of h.invites) for (const p of f.people) lines.push(`  + invite ${p.email} as ${f.role}`);
  for (const r of h.resend) lines.push(`  ~ resend-invite ${r.email} expired invite, as ${r.role}`);
  for (const c of h.roleChanges) lines.push(`  ~ change-role ${c.email} ${c.from || '(no role)'} -> ${c.to}`);
  for (const r of h.remove) lines.push(`  - remove ${r.email} (${r.role || 'no role'}, ${r.status})`);
  io.stdout(`${lines.join('\n')}\n\nHand-off: ${summary(h)}.\n`);

  const dir = isAbsolute(flags.out) ? flags.out : join(io.cwd, flags.out);
  mkdirSync(dir, { recursive: true });
  const written = new Set(h.invites.map((f) => f.file));
  // An invite file of an earlier run that this one does not write would invite people twice.
  for (const old of readdirSync(dir)) {
    if (/^invite-.*\.csv$/.test(old) && !written.has(old)) {
      rmSync(join(dir, old));
      io.stderr(`removed ${join(flags.out, old)} (from an earlier run; nobody to invite with that role now)\n`);
    }
  }
  for (const f of h.invites) {
    writeFileSync(join(dir, f.file), inviteCsv(f));
    io.stdout(`wrote ${join(flags.out, f.file)} (${f.people.length} ${f.people.length === 1 ? 'person' : 'people'}, role ${f.role})\n`);
  }
  writeFileSync(join(dir, CHECKLIST), renderChecklist(h, { manifests: flags.filename.join(' '), ...(flags.current ? { current: flags.current } : {}), roleMap: roles.map }));
  io.stdout(`wrote ${join(flags.out, CHECKLIST)}\n`);
  return ExitCode.ok;
}

import type { ActualOrg } from '../model/actual.js';
import type { DeclaredIn, DesiredMember, DesiredOrg, MemberSource } from '../model/desired.js';
import type { Change } from '../model/plan.js';
import { formatPath } from '../manifest/path.js';
import { closest } from '../manifest/suggest.js';
import type { Platform } from '../platform/types.js';

/** A plan problem at a field of a manifest, placed (file:line:column) by whoever holds the manifests' text. */
export interface ManifestProblem {
  in: DeclaredIn;
  /** Inside the object: `spec.members[3].projects[0].project`. */
  path: (string | number)[];
  message: string;
}

/** The problem as text, unplaced: `members.yaml: spec.members[3].projects[0].project: ...`. */
export function describeManifestProblem(p: ManifestProblem): string {
  return `${p.in.file}: ${formatPath(p.path)}: ${p.message}`;
}

/** Missing references reported one by one, per organization; past this many they are counted. */
const MAX_REPORTED = 20;
/** Existing projects named in a message, at most. */
const MAX_LISTED = 10;

/** Where project `k` of a (possibly merged) member's projects was written. */
function projectSource(source: MemberSource | undefined, k: number): { in: DeclaredIn; path: (string | number)[] } | undefined {
  for (let s = source; s; s = s.also) {
    if (k < s.projects) return { in: s.in, path: ['spec', 'members', s.index, 'projects', k, 'project'] };
    k -= s.projects;
  }
  return undefined;
}

function listed(names: string[]): string {
  if (names.length === 0) return 'it has none';
  const sorted = [...names].sort();
  const shown = sorted.slice(0, MAX_LISTED).map((n) => `"${n}"`).join(', ');
  return `existing projects: ${shown}${sorted.length > MAX_LISTED ? ` and ${sorted.length - MAX_LISTED} more` : ''}`;
}

/**
 * Checks that what the plan's changes refer to on the platform exists: the projects its invites pre-assign
 * (invite, resend-invite, reinvite: what apply sends). Read with list calls, once per organization and only
 * when a change names a project. A missing one is a problem at the manifest's field, so the plan fails
 * before anything is written instead of apply failing those invites half-way. An organization that does not
 * exist yet has no projects: they must be created first. Platforms that cannot list projects are not checked.
 */
export async function checkReferences(
  platform: Platform,
  org: DesiredOrg,
  actual: ActualOrg | undefined,
  changes: Change[],
): Promise<{ located: ManifestProblem[]; problems: string[] }> {
  const wanted: { member: DesiredMember | undefined; k: number; project: string }[] = [];
  for (const c of changes) {
    if (c.action !== 'invite' && c.action !== 'resend-invite' && c.action !== 'reinvite') continue;
    const projects = c.after.projects;
    if (!projects?.length) continue;
    const member = org.members.get(c.target);
    for (let k = 0; k < projects.length; k++) wanted.push({ member, k, project: projects[k]!.project });
  }
  const out = { located: [] as ManifestProblem[], problems: [] as string[] };
  if (wanted.length === 0) return out;
  let exists: (project: string) => boolean;
  let message: (project: string) => string;
  if (!actual) {
    exists = () => false;
    message = (project) =>
      `project "${project}" cannot be pre-assigned: organization "${org.name}" does not exist yet, so its projects must be created first (apply without this pre-assignment, create the project, then add it)`;
  } else {
    if (!platform.listProjects) return out;
    const names = await platform.listProjects(org.name);
    const existing = new Set(names);
    exists = (project) => existing.has(project);
    message = (project) => {
      const guess = closest(project, names);
      return `project "${project}" does not exist in organization "${org.name}"; ${listed(names)}${guess ? `; did you mean "${guess}"?` : ''}`;
    };
  }
  let unreported = 0;
  for (const w of wanted) {
    if (exists(w.project)) continue;
    if (out.located.length + out.problems.length >= MAX_REPORTED) {
      unreported++;
      continue;
    }
    const at = projectSource(w.member?.source, w.k);
    if (at) out.located.push({ in: at.in, path: at.path, message: message(w.project) });
    else out.problems.push(`organization "${org.name}": ${w.member?.email ?? 'a member'}: ${message(w.project)}`);
  }
  if (unreported) out.problems.push(`organization "${org.name}": ${unreported} more pre-assignment${unreported === 1 ? '' : 's'} of projects that do not exist`);
  return out;
}

import type { ActualOrg } from '../model/actual.js';
import type { DesiredOrg } from '../model/desired.js';
import { summarize, type Change, type Observed, type Plan } from '../model/plan.js';
import { CredentialsError, type CredentialResolver } from '../platform/credentials.js';
import type { Platform } from '../platform/types.js';
import { mapLimit } from '../util/concurrency.js';
import { capabilityNotes, capabilityProblems } from './capabilities.js';
import { diffOrganization, teardownOrganization, type CredentialsComparison } from './diff.js';
import { checkGuards, type GuardSettings, type GuardViolation } from './guards.js';
import { observedState } from './observed.js';
import { checkReferences, describeManifestProblem, type ManifestProblem } from './references.js';

export interface PlanResult {
  plan: Plan;
  /** Things worth saying that do not stop the plan. */
  notes: string[];
  /** Things that make the plan check less than it should (a credential variable not set); errors under --strict. */
  warnings: string[];
  /** Existing integrations whose credentials were not compared (`org/name`), for the summary. */
  uncompared: string[];
  actual: Map<string, ActualOrg | undefined>;
  violations: GuardViolation[];
}

/**
 * Reasons a plan cannot be made from these manifests on this platform (a new integration without its
 * credentials); `located` ones are at a field of a manifest (a project that does not exist), for the caller
 * to place at file:line:column. The message holds them all, unplaced.
 */
export class PlanError extends Error {
  constructor(
    readonly problems: string[],
    readonly located: ManifestProblem[] = [],
  ) {
    super([...problems, ...located.map(describeManifestProblem)].join('\n'));
  }
}

/** Who acts on the platform, read once per plan, and when (expiries are judged at `now`). */
export interface Acting {
  actor: string;
  actsForOthers: boolean;
  now: number;
}

/** One organization's part of a plan. */
export interface OrgPlan {
  organization: string;
  actual: ActualOrg | undefined;
  observed: Observed;
  changes: Change[];
  notes: string[];
  warnings: string[];
  uncompared: string[];
  problems: string[];
  /** Problems at a field of a manifest (see PlanError). */
  located?: ManifestProblem[];
}

/** What comparing credentials found to say, beside the comparison itself. */
interface Findings {
  notes: string[];
  warnings: string[];
  uncompared: string[];
  problems: string[];
}

/**
 * Compares the credentials of integrations that exist on the platform with the desired ones, through the
 * platform (values never leave this function). Values that cannot be read are a problem for a new
 * integration, which cannot be created without them, and a note for an existing one, left as it is.
 */
async function compareCredentials(
  platform: Platform,
  resolver: CredentialResolver,
  org: DesiredOrg,
  actual: ActualOrg | undefined,
  found: Findings,
): Promise<CredentialsComparison> {
  const out = new Map<string, 'match' | 'differ' | 'unknown'>();
  for (const integration of org.integrations.values()) {
    if (!integration.credentialsRef) continue;
    const existing = actual?.integrations.get(integration.name);
    const where = `integration "${integration.name}" of "${org.name}"`;
    if (existing && platform.capabilities.credentialDrift === 'none') {
      found.notes.push(`${where}: ${platform.description} cannot tell whether stored credentials differ; they are not compared (a changed secret is applied only when the integration changes otherwise)`);
      found.uncompared.push(`${org.name}/${integration.name}`);
      out.set(integration.name, 'unknown');
      continue;
    }
    let values: Record<string, string>;
    try {
      values = await resolver.resolve(integration.credentialsRef, where);
    } catch (err) {
      if (!(err instanceof CredentialsError)) throw err;
      if (existing) {
        // A misnamed CI secret must not silence drift detection in silence.
        found.warnings.push(`${err.message}; its credentials are not compared (an error with --strict)`);
        found.uncompared.push(`${org.name}/${integration.name}`);
        out.set(integration.name, 'unknown');
      } else {
        found.problems.push(err.message);
      }
      continue;
    }
    if (!existing) continue;
    const same = await platform.compareCredentials(org.name, existing, values);
    out.set(integration.name, same === undefined ? 'unknown' : same ? 'match' : 'differ');
  }
  return out;
}

/** Reads one organization and diffs it against its desired state. Reads the platform and credential sources only. */
export async function planOrganization(platform: Platform, resolver: CredentialResolver, org: DesiredOrg, acting: Acting): Promise<OrgPlan> {
  const found: Findings = { notes: [], warnings: [], uncompared: [], problems: capabilityProblems(org, platform.capabilities, platform.description) };
  if (found.problems.length) return { organization: org.name, actual: undefined, observed: null, changes: [], ...found };
  const actual = await platform.read(org.name, org.externalId ? { externalId: org.externalId } : undefined);
  for (const n of actual?.notes ?? []) found.notes.push(n);
  const credentials = await compareCredentials(platform, resolver, org, actual, found);
  const caps = platform.capabilities;
  const changes = diffOrganization(org, actual, { ...acting, credentials, compareOptions: caps.optionDrift !== 'none', cacheUnknown: caps.organizations.cache === 'write-only' });
  for (const n of capabilityNotes(org, caps, platform.description, changes.filter((c) => c.action === 'invite').length)) found.notes.push(n);
  const refs = await checkReferences(platform, org, actual, changes);
  for (const p of refs.problems) found.problems.push(p);
  return { organization: org.name, actual, observed: observedState(actual, platform.capabilities), changes, ...found, located: refs.located };
}

/** Plans removing what an organization's (deleted) manifests declared; see teardownOrganization. */
export async function planTeardown(platform: Platform, org: DesiredOrg, acting: Acting): Promise<OrgPlan> {
  const actual = await platform.read(org.name, org.externalId ? { externalId: org.externalId } : undefined);
  const { changes, notes } = teardownOrganization(org, actual, { actor: acting.actor });
  return { organization: org.name, actual, observed: observedState(actual, platform.capabilities), changes, notes, warnings: [], uncompared: [], problems: [] };
}

/** Puts organizations' plans together, in the order given, and checks the guards on the whole. */
export function assemblePlan(platform: Platform, parts: OrgPlan[], guards: GuardSettings, actor: string): PlanResult {
  const actual = new Map<string, ActualOrg | undefined>();
  const observed: Record<string, Observed> = {};
  const changes: Change[] = [];
  const notes: string[] = [];
  const warnings: string[] = [];
  const uncompared: string[] = [];
  const problems: string[] = [];
  const located: ManifestProblem[] = [];
  for (const part of parts) {
    actual.set(part.organization, part.actual);
    observed[part.organization] = part.observed;
    for (const c of part.changes) changes.push(c); // no spread: an organization may have a million changes
    for (const n of part.notes) notes.push(n);
    for (const w of part.warnings) warnings.push(w);
    for (const u of part.uncompared) uncompared.push(u);
    for (const p of part.problems) problems.push(p);
    for (const p of part.located ?? []) located.push(p);
  }
  if (problems.length || located.length) throw new PlanError(problems, located);
  const violations = checkGuards(changes, actual, { ...guards, actor });
  return { notes, warnings, uncompared, plan: { formatVersion: 1, platform: platform.description, observed, guards, changes, summary: summarize(changes) }, actual, violations };
}

/** Organizations read at once unless told otherwise (Terraform's -parallelism default is 10 too). */
export const DEFAULT_PARALLELISM = 10;

/**
 * The imperative shell around diff: read each organization (list calls only), compare credentials through
 * the platform, diff, check guards. Reads nothing but the platform and the credential sources; writes
 * nothing, and leaves its inputs as they were. Up to `parallelism` organizations are read at a time (reads
 * mostly wait on the platform); the plan lists them in the order given whatever order the reads end in.
 */
export async function makePlan(
  platform: Platform,
  resolver: CredentialResolver,
  desired: Map<string, DesiredOrg>,
  opts: { guards: GuardSettings; only?: string[]; teardown?: boolean; parallelism?: number; now?: number },
): Promise<PlanResult> {
  const acting = { actor: await platform.actor(), actsForOthers: await platform.actsForOthers(), now: opts.now ?? Date.now() };
  const orgs = [...desired.values()].filter((org) => !opts.only || opts.only.includes(org.name));
  const parts = await mapLimit(orgs, opts.parallelism ?? DEFAULT_PARALLELISM, (org) =>
    opts.teardown ? planTeardown(platform, org, acting) : planOrganization(platform, resolver, org, acting),
  );
  return assemblePlan(platform, parts, opts.guards, acting.actor);
}

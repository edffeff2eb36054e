import type { Platform } from '../platform/types.js';
import { resolveCredentials } from './credentials.js';
import { diffOrganization } from './diff.js';
import { checkGuards, type GuardOptions, type GuardViolation } from './guards.js';
import type { ActualOrg, DesiredOrg, Plan } from './model.js';
import { summarize } from './render.js';

export interface PlanResult {
  plan: Plan;
  /** Things worth saying that do not stop the plan. */
  notes: string[];
  actual: Map<string, ActualOrg | undefined>;
  violations: GuardViolation[];
}

/**
 * The imperative shell around diff: resolve credentials, read each organization (list calls only), diff,
 * check guards. Reads nothing but the platform and the credential sources; writes nothing.
 */
export async function makePlan(
  platform: Platform,
  desired: Map<string, DesiredOrg>,
  opts: { guards: Omit<GuardOptions, 'actor'>; env: NodeJS.ProcessEnv; only?: string[] },
): Promise<PlanResult> {
  const actor = await platform.actor();
  const actsForOthers = await platform.actsForOthers();
  const actual = new Map<string, ActualOrg | undefined>();
  const observed: Record<string, number | null> = {};
  const changes = [];
  const problems: string[] = [];
  const notes: string[] = [];
  for (const org of [...desired.values()].filter((o) => !opts.only || opts.only.includes(o.name))) {
    const state = await platform.read(org.name);
    actual.set(org.name, state);
    observed[org.name] = state?.stateVersion ?? null;
    for (const integration of org.integrations.values()) {
      if (!integration.credentialsRef) continue;
      try {
        integration.credentials = resolveCredentials(integration.credentialsRef, opts.env, `integration "${integration.name}" of "${org.name}"`);
      } catch (err) {
        // Without the values, an existing integration's credentials are left as they are (and said so);
        // a new one cannot be created.
        if (state?.integrations.has(integration.name)) notes.push(`${(err as Error).message}; its credentials are not compared`);
        else problems.push((err as Error).message);
      }
    }
    changes.push(...diffOrganization(org, state, { actor, actsForOthers }));
  }
  if (problems.length) throw new Error(problems.join('\n'));
  const violations = checkGuards(changes, actual, { ...opts.guards, actor });
  return { notes, plan: { formatVersion: 1, platform: platform.description, observed, changes, summary: summarize(changes) }, actual, violations };
}

import type { Action, Change, ChangeFor, IntegrationSpec, Plan } from '../model/plan.js';
import type { CredentialResolver } from '../platform/credentials.js';
import { PlatformError, type IntegrationWrite, type InviteItem, type ItemResult, type MemberUpdateItem, type Platform } from '../platform/types.js';
import { confirmByReading } from './confirm-by-reading.js';

export interface ApplyOutcome {
  applied: Change[];
  failed: { change: Change; error: string }[];
  skipped: { change: Change; reason: string }[];
}

export interface ApplyOptions {
  credentials: CredentialResolver;
  /** Called after each call to the platform with the number of changes done so far. */
  onProgress?: (done: number, total: number) => void;
  /** Checked between calls: true stops before the next one (SIGINT/SIGTERM finish the call in flight). */
  shouldStop?: () => boolean;
}

function inviteItem(c: ChangeFor<'invite' | 'resend-invite' | 'reinvite'>): InviteItem {
  const a = c.after;
  return {
    email: c.target,
    role: a.role,
    ...(a.firstName !== undefined ? { firstName: a.firstName } : {}),
    ...(a.lastName !== undefined ? { lastName: a.lastName } : {}),
    ...(a.description !== undefined ? { description: a.description } : {}),
    ...(a.projects ? { projects: a.projects } : {}),
  };
}

function memberItem(c: ChangeFor<'update-role' | 'update-profile'>): MemberUpdateItem {
  return { email: c.target, ...c.after };
}

/** Actions the platform takes many of in one call. */
const BATCHED: ReadonlySet<Action> = new Set(['invite', 'resend-invite', 'reinvite', 'update-role', 'update-profile', 'remove-member', 'cancel-invite']);

/** Narrows a run of changes of one action (the run is made of changes of `first`'s action only). */
function runOf<A extends Action>(run: Change[], _action: A): ChangeFor<A>[] {
  return run as ChangeFor<A>[];
}

/**
 * Applies a plan in its order, batching each run of the same action in one organization into as few calls
 * as the platform allows. A failed change does not stop independent ones; changes that depend on a failed
 * one (everything in an organization that could not be created) are reported as not attempted. Every change
 * ends as applied, failed or not attempted.
 */
export async function applyPlan(platform: Platform, plan: Plan, opts: ApplyOptions): Promise<ApplyOutcome> {
  const outcome: ApplyOutcome = { applied: [], failed: [], skipped: [] };
  const total = plan.changes.length;
  const brokenOrgs = new Set<string>();
  // Once the platform cannot be reached at all, the rest is not sent: each call would retry for seconds.
  let unreachable = false;
  const noteUnreachable = (err: unknown) => {
    if (err instanceof PlatformError && err.code === 'unreachable') unreachable = true;
  };
  let i = 0;
  const done = () => outcome.applied.length + outcome.failed.length + outcome.skipped.length;

  while (i < plan.changes.length) {
    const first = plan.changes[i]!;
    // One call per run of the same action in one organization, at most a batch long: a stop request is
    // then honoured after the call in flight, not after a whole run of thousands.
    const size = BATCHED.has(first.action) ? Math.max(1, platform.batchSize) : 1;
    let j = i + 1;
    while (j < plan.changes.length && j - i < size && plan.changes[j]!.action === first.action && plan.changes[j]!.organization === first.organization) j++;
    const run = plan.changes.slice(i, j);
    i = j;
    if (opts.shouldStop?.()) {
      for (const c of run) outcome.skipped.push({ change: c, reason: 'interrupted' });
      continue;
    }
    if (unreachable) {
      for (const c of run) outcome.skipped.push({ change: c, reason: `${platform.description} is unreachable` });
      continue;
    }
    if (brokenOrgs.has(first.organization)) {
      for (const c of run) outcome.skipped.push({ change: c, reason: `organization "${first.organization}" could not be created` });
      continue;
    }
    const org = first.organization;
    const settled = new Set<Change>();
    const perItem = (results: ItemResult[]) => {
      const byEmail = new Map(results.map((r) => [r.email, r]));
      for (const c of run) {
        const r = byEmail.get(c.target.toLowerCase());
        settled.add(c);
        if (r?.ok) outcome.applied.push(c);
        else outcome.failed.push({ change: c, error: r?.error ?? 'no result from the platform' });
      }
    };
    // A write whose answer was lost on a platform that does not deduplicate writes is not sent again: the
    // organization is read, and what it shows done counts as applied.
    const settleLost = async (changes: Change[], err: PlatformError) => {
      const done = await confirmByReading(platform, org, changes);
      for (const c of changes) {
        settled.add(c);
        if (done.has(c)) outcome.applied.push(c);
        else {
          outcome.failed.push({ change: c, error: `${err.message}; the answer was lost and ${platform.description} does not show it done, so it was not sent again` });
          if (c.action === 'create-organization') brokenOrgs.add(org);
        }
      }
    };
    const each = async <C extends Change>(changes: C[], fn: (c: C) => Promise<void>) => {
      for (const c of changes) {
        try {
          await fn(c);
          settled.add(c);
          outcome.applied.push(c);
        } catch (err) {
          if (err instanceof PlatformError && err.ambiguous) {
            await settleLost([c], err);
            continue;
          }
          settled.add(c);
          outcome.failed.push({ change: c, error: (err as Error).message });
          if (c.action === 'create-organization') brokenOrgs.add(org);
          noteUnreachable(err);
          if (unreachable) break;
        }
      }
    };
    const integration = async (c: ChangeFor<'create-integration' | 'update-integration'>): Promise<IntegrationWrite> => ({
      name: c.target,
      type: c.after.type,
      options: c.after.options ?? {},
      credentials: await credentialsOf(c.after, opts.credentials, `integration "${c.target}" of "${org}"`),
    });
    try {
      const action = first.action;
      switch (action) {
        case 'create-organization':
          await each(runOf(run, action), (c) => platform.createOrganization(org, c.after));
          break;
        case 'rename':
          await each(runOf(run, action), (c) => platform.updateOrganization(org, { displayName: c.after.displayName }));
          break;
        case 'update-plan':
          await each(runOf(run, action), (c) => platform.updateOrganization(org, { plan: c.after.plan }));
          break;
        case 'cache-apply':
          await each(runOf(run, action), (c) => platform.updateOrganization(org, { cache: { enabled: true, podType: c.after.podType } }));
          break;
        case 'cache-destroy':
          await each(runOf(run, action), () => platform.updateOrganization(org, { cache: { enabled: false } }));
          break;
        case 'create-integration':
          await each(runOf(run, action), async (c) => platform.createIntegration(org, await integration(c)));
          break;
        case 'update-integration':
          await each(runOf(run, action), async (c) => {
            const spec = await integration(c);
            if (c.before.type !== c.after.type) {
              // The type of an integration cannot change in place: replace it.
              await platform.deleteIntegration(org, c.target);
              await platform.createIntegration(org, spec);
            } else {
              await platform.updateIntegration(org, spec);
            }
          });
          break;
        case 'delete-integration':
          await each(runOf(run, action), (c) => platform.deleteIntegration(org, c.target));
          break;
        case 'invite':
          perItem(await platform.invite(org, runOf(run, action).map(inviteItem)));
          break;
        case 'resend-invite':
        case 'reinvite':
          perItem(await platform.resendInvites(org, runOf(run, action).map(inviteItem)));
          break;
        case 'update-role':
        case 'update-profile':
          perItem(await platform.updateMembers(org, runOf(run, action).map(memberItem)));
          break;
        case 'remove-member':
          perItem(await platform.removeMembers(org, run.map((c) => c.target)));
          break;
        case 'cancel-invite':
          perItem(await platform.cancelInvites(org, run.map((c) => c.target)));
          break;
        default: {
          // Every action is handled above; an action added to the model without a case fails to compile here.
          const unhandled: never = action;
          throw new Error(`no way to apply action "${String(unhandled)}"`);
        }
      }
    } catch (err) {
      noteUnreachable(err);
      if (err instanceof PlatformError && err.ambiguous) await settleLost(run.filter((c) => !settled.has(c)), err);
      // A whole batch call failed (network, 5xx): every change in it failed; later runs still go ahead.
      else {
        for (const c of run) {
          if (settled.has(c)) continue;
          settled.add(c);
          outcome.failed.push({ change: c, error: (err as Error).message });
        }
      }
    }
    // `each` stops early when the platform is gone: what it did not reach is not attempted.
    for (const c of run) if (!settled.has(c)) outcome.skipped.push({ change: c, reason: `${platform.description} is unreachable` });
    opts.onProgress?.(done(), total);
  }
  return outcome;
}

/** The values an integration change needs, read where its plan says they are; none for a type that takes none. */
async function credentialsOf(spec: IntegrationSpec, resolver: CredentialResolver, where: string): Promise<Record<string, string> | undefined> {
  return spec.credentialsRef ? resolver.resolve(spec.credentialsRef, where) : undefined;
}

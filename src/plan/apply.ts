import type { InviteItem, ItemResult, MemberUpdateItem, Platform } from '../platform/types.js';
import { resolveCredentials } from './credentials.js';
import type { Change, CredentialsSource, Plan, Role } from './model.js';

export interface ApplyOutcome {
  applied: Change[];
  failed: { change: Change; error: string }[];
  skipped: { change: Change; reason: string }[];
}

export interface ApplyOptions {
  env: NodeJS.ProcessEnv;
  /** Called after each call to the platform with the number of changes done so far. */
  onProgress?: (done: number, total: number) => void;
  /** Checked between calls: true stops before the next one (SIGINT/SIGTERM finish the call in flight). */
  shouldStop?: () => boolean;
}

function inviteItem(c: Change): InviteItem {
  const a = c.after ?? {};
  return {
    email: c.target,
    role: a.role as Role,
    ...(typeof a.firstName === 'string' ? { firstName: a.firstName } : {}),
    ...(typeof a.lastName === 'string' ? { lastName: a.lastName } : {}),
    ...(typeof a.description === 'string' ? { description: a.description } : {}),
    ...(Array.isArray(a.projects) ? { projects: a.projects as InviteItem['projects'] } : {}),
  };
}

function memberItem(c: Change): MemberUpdateItem {
  return { email: c.target, ...(c.after as Omit<MemberUpdateItem, 'email'>) };
}

/** Actions the platform takes many of in one call. */
const BATCHED = new Set<Change['action']>(['invite', 'resend-invite', 'reinvite', 'update-role', 'update-profile', 'remove-member', 'cancel-invite']);

/**
 * Applies a plan in its order, batching each run of the same action in one organization into as few calls
 * as the platform allows. A failed change does not stop independent ones; changes that depend on a failed
 * one (everything in an organization that could not be created) are reported as not attempted.
 */
export async function applyPlan(platform: Platform, plan: Plan, opts: ApplyOptions): Promise<ApplyOutcome> {
  const outcome: ApplyOutcome = { applied: [], failed: [], skipped: [] };
  const total = plan.changes.length;
  const brokenOrgs = new Set<string>();
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
    if (brokenOrgs.has(first.organization)) {
      for (const c of run) outcome.skipped.push({ change: c, reason: `organization "${first.organization}" could not be created` });
      continue;
    }
    const org = first.organization;
    const perItem = (results: ItemResult[]) => {
      const byEmail = new Map(results.map((r) => [r.email, r]));
      for (const c of run) {
        const r = byEmail.get(c.target.toLowerCase());
        if (r?.ok) outcome.applied.push(c);
        else outcome.failed.push({ change: c, error: r?.error ?? 'no result from the platform' });
      }
    };
    const each = async (fn: (c: Change) => Promise<void>) => {
      for (const c of run) {
        try {
          await fn(c);
          outcome.applied.push(c);
        } catch (err) {
          outcome.failed.push({ change: c, error: (err as Error).message });
          if (c.action === 'create-organization') brokenOrgs.add(org);
        }
      }
    };
    const credentials = (c: Change) => {
      const ref = c.after?.credentialsRef as CredentialsSource | undefined;
      return ref ? resolveCredentials(ref, opts.env, `integration "${c.target}" of "${org}"`) : undefined;
    };
    try {
      switch (first.action) {
        case 'create-organization':
          await each((c) => platform.createOrganization(org, c.after as { displayName: string; plan: 'freemium'; creator?: string }));
          break;
        case 'rename':
          await each((c) => platform.updateOrganization(org, { displayName: c.after!.displayName as string }));
          break;
        case 'update-plan':
          await each((c) => platform.updateOrganization(org, { plan: c.after!.plan as 'freemium' }));
          break;
        case 'cache-apply':
          await each((c) => platform.updateOrganization(org, { cache: { enabled: true, podType: c.after!.podType as string } }));
          break;
        case 'cache-destroy':
          await each(() => platform.updateOrganization(org, { cache: { enabled: false } }));
          break;
        case 'create-integration':
          await each((c) => platform.createIntegration(org, { name: c.target, type: c.after!.type as string, options: (c.after!.options ?? {}) as Record<string, unknown>, credentials: credentials(c) }));
          break;
        case 'update-integration':
          await each(async (c) => {
            const spec = { name: c.target, type: c.after!.type as string, options: (c.after!.options ?? {}) as Record<string, unknown>, credentials: credentials(c) };
            if (c.before?.type !== c.after?.type) {
              // The type of an integration cannot change in place: replace it.
              await platform.deleteIntegration(org, c.target);
              await platform.createIntegration(org, spec);
            } else {
              await platform.updateIntegration(org, spec);
            }
          });
          break;
        case 'delete-integration':
          await each((c) => platform.deleteIntegration(org, c.target));
          break;
        case 'invite':
          perItem(await platform.invite(org, run.map(inviteItem)));
          break;
        case 'resend-invite':
        case 'reinvite':
          perItem(await platform.resendInvites(org, run.map(inviteItem)));
          break;
        case 'update-role':
        case 'update-profile':
          perItem(await platform.updateMembers(org, run.map(memberItem)));
          break;
        case 'remove-member':
          perItem(await platform.removeMembers(org, run.map((c) => c.target)));
          break;
        case 'cancel-invite':
          perItem(await platform.cancelInvites(org, run.map((c) => c.target)));
          break;
      }
    } catch (err) {
      // A whole batch call failed (network, 5xx): every change in it failed; later runs still go ahead.
      for (const c of run) if (!outcome.applied.includes(c) && !outcome.failed.some((f) => f.change === c)) outcome.failed.push({ change: c, error: (err as Error).message });
    }
    opts.onProgress?.(done(), total);
  }
  return outcome;
}

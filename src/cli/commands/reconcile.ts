import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { formatDiagnostic, formatNote } from '../../manifest/diagnostics.js';
import { loadManifests } from '../../manifest/load.js';
import { readSources } from '../../manifest/sources.js';
import { applyPlan } from '../../plan/apply.js';
import { desiredState } from '../../plan/desired.js';
import { parseRemovalLimit, type RemovalLimit } from '../../plan/guards.js';
import type { DesiredOrg, Plan } from '../../plan/model.js';
import { makePlan, type PlanResult } from '../../plan/planner.js';
import { renderOutcome, renderPlan } from '../../plan/render.js';
import { lockOrganizations, LockTimeoutError, type HeldLocks } from '../../platform/lock.js';
import { PlatformError, type Platform } from '../../platform/types.js';
import { parseDuration } from '../duration.js';
import { ExitCode, UserError, type Io } from '../io.js';
import { openTarget } from '../target.js';

export interface ReconcileFlags {
  filename?: string[];
  platform?: string;
  rateLimit?: string;
  batchSize?: string;
  maxRemovals: string;
  allowOwnerChanges: boolean;
  color: boolean;
}

/** Exit code of `diff` for errors, as kubectl diff: 0 no drift, 1 drift, >1 error. */
const DIFF_ERROR = 2;

function removalLimit(text: string): RemovalLimit {
  const limit = parseRemovalLimit(text);
  if (!limit) throw new UserError(`--max-removals must be a count (e.g. 10) or a percentage (e.g. 25%), not "${text}"`, ExitCode.usage);
  return limit;
}

/** Reads and validates manifests; prints every problem and fails if there is any. */
function loadDesired(flags: ReconcileFlags, io: Io, errorCode: number): Map<string, DesiredOrg> {
  if (!flags.filename?.length) throw new UserError('no manifests: pass -f FILE|DIR|-', ExitCode.usage);
  const read = readSources(flags.filename, { cwd: io.cwd, stdin: io.stdin });
  const result = loadManifests(read.sources, {});
  const problems = [...read.diagnostics, ...result.diagnostics];
  for (const n of result.notes) io.stderr(`note: ${formatNote(n)}\n`);
  if (problems.length) {
    for (const d of problems) io.stderr(`${formatDiagnostic(d)}\n`);
    throw new UserError(`${problems.length} problem(s) in the manifests; nothing was planned (run \`orgctl validate\` for details)`, errorCode);
  }
  return desiredState(result.objects, new Map(read.sources.map((s) => [s.name, s.dir])));
}

async function plan(flags: ReconcileFlags, io: Io, platform: Platform, errorCode: number, loaded?: Map<string, DesiredOrg>): Promise<PlanResult> {
  const maxRemovals = removalLimit(flags.maxRemovals); // flags first: a typo must not cost a platform read
  const desired = loaded ?? loadDesired(flags, io, errorCode);
  let result: PlanResult;
  try {
    result = await makePlan(platform, desired, {
      guards: { maxRemovals, allowOwnerChanges: flags.allowOwnerChanges },
      env: io.env,
    });
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError((err as Error).message, errorCode);
  }
  for (const n of result.notes) io.stderr(`note: ${n}\n`);
  return result;
}

function refuseOnGuards(result: PlanResult, io: Io, errorCode: number): void {
  if (result.violations.length === 0) return;
  for (const v of result.violations) io.stderr(`guard ${v.guard}: ${v.message}\n`);
  throw new UserError(`the plan violates ${result.violations.length} safety guard(s); nothing was written`, errorCode);
}

async function withPlatform<T>(flags: { platform?: string; rateLimit?: string; batchSize?: string }, io: Io, errorCode: number, fn: (p: Platform) => Promise<T>): Promise<T> {
  const platform = openTarget(flags.platform, io, { rateLimit: flags.rateLimit, batchSize: flags.batchSize });
  try {
    return await fn(platform);
  } catch (err) {
    if (err instanceof PlatformError) throw new UserError(err.message, errorCode);
    throw err;
  } finally {
    if (io.env.ORGCTL_REQUEST_STATS && 'requestStats' in platform) {
      io.stderr(`request stats: ${JSON.stringify((platform as { requestStats(): unknown }).requestStats())}\n`);
    }
    await platform.close();
  }
}

/** `orgctl plan`: what apply would do. Exit 0, 1 on error, 2 with --detailed-exitcode when there are changes. */
export async function runPlan(flags: ReconcileFlags & { output: 'text' | 'json'; out?: string; detailedExitcode: boolean }, io: Io): Promise<number> {
  return withPlatform(flags, io, ExitCode.failure, async (platform) => {
    const result = await plan(flags, io, platform, ExitCode.failure);
    refuseOnGuards(result, io, ExitCode.failure);
    if (flags.out) {
      writeFileSync(flags.out.startsWith('/') ? flags.out : `${io.cwd}/${flags.out}`, `${JSON.stringify(result.plan, null, 2)}\n`);
    }
    if (flags.output === 'json') io.stdout(`${JSON.stringify(result.plan, null, 2)}\n`);
    else io.stdout(renderPlan(result.plan, flags.color && io.isTTY));
    if (flags.out) io.stderr(`saved the plan to ${flags.out}; apply exactly it with: orgctl apply ${flags.out}\n`);
    return flags.detailedExitcode && result.plan.changes.length > 0 ? 2 : ExitCode.ok;
  });
}

/** `orgctl diff`: drift report, as kubectl diff: exit 0 none, 1 drift, 2 error. */
export async function runDiff(flags: ReconcileFlags & { output: 'text' | 'json' }, io: Io): Promise<number> {
  return withPlatform(flags, io, DIFF_ERROR, async (platform) => {
    const result = await plan(flags, io, platform, DIFF_ERROR);
    if (flags.output === 'json') io.stdout(`${JSON.stringify(result.plan, null, 2)}\n`);
    else io.stdout(renderPlan(result.plan, flags.color && io.isTTY));
    for (const v of result.violations) io.stderr(`note: applying this would trip guard ${v.guard}: ${v.message}\n`);
    return result.plan.changes.length > 0 ? 1 : ExitCode.ok;
  });
}

function readSavedPlan(file: string, io: Io): Plan {
  let plan: Plan;
  try {
    plan = JSON.parse(readFileSync(file.startsWith('/') ? file : `${io.cwd}/${file}`, 'utf8')) as Plan;
  } catch (err) {
    throw new UserError(`cannot read saved plan ${file}: ${(err as NodeJS.ErrnoException).code ?? 'not valid JSON'}`);
  }
  if (plan?.formatVersion !== 1 || !Array.isArray(plan.changes) || typeof plan.observed !== 'object') {
    throw new UserError(`${file} is not an orgctl plan (formatVersion 1)`);
  }
  return plan;
}

function duration(text: string, flag: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UserError(`${flag} must be a duration such as 0, 30s, 2m or 500ms, not "${text}"`, ExitCode.usage);
  return ms;
}

/**
 * Holds the apply lease on `orgs` while `fn` runs (Terraform's state lock): a second apply on one of them
 * waits up to --lock-timeout, then fails naming the holder. Leases are renewed while held and run out by
 * themselves when a killed apply cannot release them.
 */
async function withLocks<T>(platform: Platform, orgs: Iterable<string>, lock: { timeoutMs: number; ttlMs: number }, io: Io, fn: (locks: HeldLocks) => Promise<T>): Promise<T> {
  let locks: HeldLocks;
  try {
    locks = await lockOrganizations(platform, orgs, {
      ...lock,
      holder: `${await platform.actor()} (orgctl apply, pid ${process.pid} on ${hostname()})`,
      onWait: (held) => io.stderr(`waiting up to ${Math.round(lock.timeoutMs / 1000)}s: ${held.message}\n`),
    });
  } catch (err) {
    if (err instanceof LockTimeoutError) throw new UserError(err.message);
    throw err;
  }
  try {
    return await fn(locks);
  } finally {
    await locks.release();
  }
}

/** `orgctl apply`: plan and apply (after confirmation), or apply a saved plan if the platform has not moved. */
export async function runApply(
  flags: ReconcileFlags & { planFile?: string; yes: boolean; lockTimeout: string; lockTtl: string },
  io: Io,
  hooks: { confirm?: (question: string) => Promise<boolean>; shouldStop?: () => boolean } = {},
): Promise<number> {
  if (flags.planFile && flags.filename?.length) throw new UserError('give either a saved plan or -f manifests, not both', ExitCode.usage);
  const lock = { timeoutMs: duration(flags.lockTimeout, '--lock-timeout'), ttlMs: duration(flags.lockTtl, '--lock-ttl') };
  if (lock.ttlMs < 1000 || lock.ttlMs > 3_600_000) throw new UserError(`--lock-ttl must be between 1s and 1h, not "${flags.lockTtl}"`, ExitCode.usage);
  removalLimit(flags.maxRemovals);
  return withPlatform(flags, io, ExitCode.failure, async (platform) => {
    const saved = flags.planFile ? readSavedPlan(flags.planFile, io) : undefined;
    const desired = saved ? undefined : loadDesired(flags, io, ExitCode.failure);
    const orgs = saved ? [...Object.keys(saved.observed), ...saved.changes.map((c) => c.organization)] : [...desired!.keys()];
    return withLocks(platform, orgs, lock, io, async (locks) => {
      let planToApply: Plan;
      if (saved) {
        planToApply = saved;
        if (planToApply.platform !== platform.description) {
          throw new UserError(`the saved plan is for ${planToApply.platform}, not ${platform.description}`);
        }
        for (const [org, version] of Object.entries(planToApply.observed)) {
          const now = (await platform.read(org))?.stateVersion ?? null;
          if (now !== version) {
            throw new UserError(
              `saved plan is stale: organization "${org}" changed since the plan was made (state version ${version ?? 'none'} -> ${now ?? 'none'}); run plan again`,
            );
          }
        }
        io.stdout(renderPlan(planToApply, flags.color && io.isTTY));
      } else {
        const result = await plan(flags, io, platform, ExitCode.failure, desired);
        refuseOnGuards(result, io, ExitCode.failure);
        planToApply = result.plan;
        io.stdout(renderPlan(planToApply, flags.color && io.isTTY));
      }
      if (planToApply.changes.length === 0) return ExitCode.ok;
      if (!flags.yes) {
        if (!io.isTTY || !hooks.confirm) throw new UserError('refusing to apply without confirmation: not a terminal; pass --yes to apply non-interactively');
        if (!(await hooks.confirm(`Apply ${planToApply.changes.length} change(s) to ${platform.description}? Only 'yes' will be accepted: `))) {
          io.stderr('apply cancelled; nothing was written\n');
          return ExitCode.failure;
        }
      }
      let lastReport = 0;
      const outcome = await applyPlan(platform, planToApply, {
        env: io.env,
        shouldStop: () => (hooks.shouldStop?.() ?? false) || locks.lost() !== undefined,
        onProgress: (done, total) => {
          if (total >= 200 && (done - lastReport >= total / 10 || done === total)) {
            lastReport = done;
            io.stderr(`applied ${done}/${total}\n`);
          }
        },
      });
      io.stdout(renderOutcome(outcome));
      const lost = locks.lost();
      if (lost) io.stderr(`error: ${lost}; stopped writing\n`);
      return outcome.failed.length || outcome.skipped.length || lost ? ExitCode.failure : ExitCode.ok;
    });
  });
}

/** `orgctl force-unlock ORG...`: breaks apply locks left behind, as terraform force-unlock. */
export async function runForceUnlock(orgs: string[], flags: { platform?: string }, io: Io): Promise<number> {
  return withPlatform(flags, io, ExitCode.failure, async (platform) => {
    for (const org of orgs) {
      const broken = await platform.breakLease(org);
      io.stdout(broken ? `broke the lock on "${org}" held by ${broken.holder} since ${broken.since}\n` : `"${org}" was not locked\n`);
    }
    return ExitCode.ok;
  });
}

import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { desiredState } from '../../manifest/desired.js';
import { formatDiagnostic, formatNote } from '../../manifest/diagnostics.js';
import { loadManifests } from '../../manifest/load.js';
import { readSources } from '../../manifest/sources.js';
import type { DesiredOrg } from '../../model/desired.js';
import type { Plan } from '../../model/plan.js';
import { CredentialsError, LocalCredentials } from '../../platform/credentials.js';
import { LockTimeoutError } from '../../platform/locks.js';
import type { Target } from '../../platform/registry.js';
import { PlatformError } from '../../platform/types.js';
import { parseRemovalLimit, type GuardSettings, type GuardViolation } from '../../plan/guards.js';
import { makePlan, PlanError, type PlanResult } from '../../plan/planner.js';
import { reconcile, SavedPlanError } from '../../plan/reconcile.js';
import { renderOutcome, renderPlan } from '../../plan/render.js';
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

function guardSettings(flags: ReconcileFlags): GuardSettings {
  const maxRemovals = parseRemovalLimit(flags.maxRemovals);
  if (!maxRemovals) throw new UserError(`--max-removals must be a count (e.g. 10) or a percentage (e.g. 25%), not "${flags.maxRemovals}"`, ExitCode.usage);
  return { maxRemovals, allowOwnerChanges: flags.allowOwnerChanges };
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

function printNotes(notes: string[], io: Io): void {
  for (const n of notes) io.stderr(`note: ${n}\n`);
}

function refuseOnGuards(violations: GuardViolation[], io: Io, errorCode: number): void {
  if (violations.length === 0) return;
  for (const v of violations) io.stderr(`guard ${v.guard}: ${v.message}\n`);
  throw new UserError(`the plan violates ${violations.length} safety guard(s); nothing was written`, errorCode);
}

/**
 * Opens the platform, runs `fn`, closes it; errors of the layers below become user errors with the command's
 * own exit code (a platform that cannot be reached is not a bug).
 */
async function withTarget<T>(flags: { platform?: string; rateLimit?: string; batchSize?: string }, io: Io, errorCode: number, fn: (t: Target) => Promise<T>): Promise<T> {
  let target: Target;
  try {
    target = await openTarget(flags.platform, io, { rateLimit: flags.rateLimit, batchSize: flags.batchSize });
  } catch (err) {
    if (err instanceof UserError && err.exitCode !== ExitCode.usage) throw new UserError(err.message, errorCode);
    throw err;
  }
  const { platform } = target;
  try {
    return await fn(target);
  } catch (err) {
    if (err instanceof PlatformError || err instanceof PlanError || err instanceof CredentialsError || err instanceof SavedPlanError || err instanceof LockTimeoutError) {
      throw new UserError(err.message, errorCode);
    }
    throw err;
  } finally {
    if (io.env.ORGCTL_REQUEST_STATS && 'requestStats' in platform) {
      io.stderr(`request stats: ${JSON.stringify((platform as { requestStats(): unknown }).requestStats())}\n`);
    }
    await platform.close();
  }
}

async function planFromFlags(flags: ReconcileFlags, io: Io, target: Target, errorCode: number): Promise<PlanResult> {
  const guards = guardSettings(flags); // flags first: a typo must not cost a platform read
  const desired = loadDesired(flags, io, errorCode);
  const result = await makePlan(target.platform, new LocalCredentials(io.env, io.cwd), desired, { guards });
  printNotes(result.notes, io);
  return result;
}

/** `orgctl plan`: what apply would do. Exit 0, 1 on error, 2 with --detailed-exitcode when there are changes. */
export async function runPlan(flags: ReconcileFlags & { output: 'text' | 'json'; out?: string; detailedExitcode: boolean }, io: Io): Promise<number> {
  return withTarget(flags, io, ExitCode.failure, async (target) => {
    const result = await planFromFlags(flags, io, target, ExitCode.failure);
    refuseOnGuards(result.violations, io, ExitCode.failure);
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
  return withTarget(flags, io, DIFF_ERROR, async (target) => {
    const result = await planFromFlags(flags, io, target, DIFF_ERROR);
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
 * `orgctl apply`: plan and apply (after confirmation), or apply a saved plan if the platform has not moved.
 * A thin shell over `reconcile`: this function only reads flags, prints, asks and picks the exit code.
 */
export async function runApply(
  flags: ReconcileFlags & { planFile?: string; yes: boolean; lockTimeout: string; lockTtl: string },
  io: Io,
  hooks: { confirm?: (question: string) => Promise<boolean>; shouldStop?: () => boolean } = {},
): Promise<number> {
  if (flags.planFile && flags.filename?.length) throw new UserError('give either a saved plan or -f manifests, not both', ExitCode.usage);
  const lock = { timeoutMs: duration(flags.lockTimeout, '--lock-timeout'), ttlMs: duration(flags.lockTtl, '--lock-ttl') };
  if (lock.ttlMs < 1000 || lock.ttlMs > 3_600_000) throw new UserError(`--lock-ttl must be between 1s and 1h, not "${flags.lockTtl}"`, ExitCode.usage);
  const guards = guardSettings(flags);
  return withTarget(flags, io, ExitCode.failure, async (target) => {
    const input = flags.planFile ? { saved: readSavedPlan(flags.planFile, io) } : { desired: loadDesired(flags, io, ExitCode.failure) };
    const { platform } = target;
    if (!target.locks.enforced) io.stderr(`note: ${platform.description} has no lock (locking: ${target.locks.kind}): nothing stops another apply from writing the same organizations at the same time\n`);
    let lastReport = 0;
    const outcome = await reconcile({ ...target, credentials: new LocalCredentials(io.env, io.cwd) }, input, {
      guards,
      lock: {
        ...lock,
        holder: `${await platform.actor()} (orgctl apply, pid ${process.pid} on ${hostname()})`,
        onWait: (held) => io.stderr(`waiting up to ${Math.round(lock.timeoutMs / 1000)}s: ${held.message}\n`),
      },
      onPlan: (result) => {
        printNotes(result.notes, io);
        refuseOnGuards(result.violations, io, ExitCode.failure);
        io.stdout(renderPlan(result.plan, flags.color && io.isTTY));
      },
      confirm: flags.yes
        ? undefined
        : async (plan) => {
            if (!io.isTTY || !hooks.confirm) throw new UserError('refusing to apply without confirmation: not a terminal; pass --yes to apply non-interactively');
            return hooks.confirm(`Apply ${plan.changes.length} change(s) to ${platform.description}? Only 'yes' will be accepted: `);
          },
      shouldStop: hooks.shouldStop,
      onProgress: (done, total) => {
        if (total >= 200 && (done - lastReport >= total / 10 || done === total)) {
          lastReport = done;
          io.stderr(`applied ${done}/${total}\n`);
        }
      },
    });
    switch (outcome.status) {
      case 'no-changes':
      case 'planned':
        return ExitCode.ok;
      case 'declined':
        io.stderr('apply cancelled; nothing was written\n');
        return ExitCode.failure;
      case 'guard-tripped': // refused in onPlan already; kept for completeness
        refuseOnGuards(outcome.violations, io, ExitCode.failure);
        return ExitCode.failure;
      case 'applied':
      case 'incomplete':
        io.stdout(renderOutcome(outcome));
        if (outcome.lockLost) io.stderr(`error: ${outcome.lockLost}; stopped writing\n`);
        return outcome.status === 'applied' ? ExitCode.ok : ExitCode.failure;
    }
  });
}

/** `orgctl force-unlock ORG...`: breaks apply locks left behind, as terraform force-unlock. */
export async function runForceUnlock(orgs: string[], flags: { platform?: string }, io: Io): Promise<number> {
  return withTarget(flags, io, ExitCode.failure, async ({ locks }) => {
    for (const org of orgs) {
      const broken = await locks.break(org);
      io.stdout(broken ? `broke the lock on "${org}" held by ${broken.holder} since ${broken.since}\n` : `"${org}" was not locked\n`);
    }
    return ExitCode.ok;
  });
}

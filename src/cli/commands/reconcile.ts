import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { desiredState } from '../../manifest/desired.js';
import { formatDiagnostic, formatNote, type Diagnostic } from '../../manifest/diagnostics.js';
import type { DesiredOrg } from '../../model/desired.js';
import type { Plan } from '../../model/plan.js';
import { CredentialsError, LocalCredentials } from '../../platform/credentials.js';
import { LockTimeoutError, type HeldLocks } from '../../platform/locks.js';
import type { Target, WhenMissing } from '../../platform/registry.js';
import { PlatformError } from '../../platform/types.js';
import { upcomingExpiries } from '../../plan/diff.js';
import { parseRemovalLimit, type GuardSettings, type GuardViolation } from '../../plan/guards.js';
import { InvalidPlanError, parseSavedPlan } from '../../plan/plan-file.js';
import { DEFAULT_PARALLELISM, makePlan, PlanError, type PlanResult } from '../../plan/planner.js';
import { reconcile, SavedPlanError } from '../../plan/reconcile.js';
import { renderOutcome, renderPlan, type RenderOptions } from '../../plan/render.js';
import { clock } from '../clock.js';
import { parseDuration } from '../duration.js';
import { writeUserFile } from '../files.js';
import { ExitCode, UserError, useColor, type Io } from '../io.js';
import { maxManifestBytes, plural, readManifests } from '../manifests.js';
import { manifestPlacer } from '../../manifest/read-set.js';
import { Progress } from '../progress.js';
import { openTarget } from '../target.js';

export interface ReconcileFlags {
  filename?: string[];
  platform?: string;
  rateLimit?: string;
  batchSize?: string;
  maxRemovals: string;
  allowOwnerChanges: boolean;
  color: boolean;
  /** Warnings (a credential variable not set) are errors. */
  strict?: boolean;
  /** Show every change on a terminal, uncut. */
  full?: boolean;
  /** List every person in failure reports. */
  verbose?: boolean;
  /** List access that ends within this long (`plan`): a duration, default 14d. */
  expiringWithin?: string;
  /** Organizations read at once. */
  parallelism?: string;
  /** Largest manifest file read. */
  maxManifestSize?: string;
}

/** Exit code of `diff` for errors, as kubectl diff: 0 no drift, 1 drift, >1 error. */
const DIFF_ERROR = 2;

/** On a terminal, more than this many changes of one action in one organization are cut to the first 20. */
const CUT = { above: 50, to: 20 };

/**
 * An error that stops a command, with what `-o json` prints on stdout for it (as Terraform's `-json` does):
 * a tool reading the JSON learns why, instead of reading nothing.
 */
class Failure extends UserError {
  constructor(
    message: string,
    exitCode: number,
    readonly diagnostics: Diagnostic[] = [],
    readonly violations: GuardViolation[] = [],
  ) {
    super(message, exitCode);
  }
}

/** `--parallelism N`: how many organizations are read at once (Terraform's flag), 1 to 100. */
function parallelismOf(flags: ReconcileFlags): number {
  if (flags.parallelism === undefined) return DEFAULT_PARALLELISM;
  const n = Number(flags.parallelism);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new UserError(`--parallelism must be a whole number from 1 to 100, not "${flags.parallelism}"`, ExitCode.usage);
  return n;
}

function guardSettings(flags: ReconcileFlags): GuardSettings {
  const maxRemovals = parseRemovalLimit(flags.maxRemovals);
  if (!maxRemovals) throw new UserError(`--max-removals must be a count (e.g. 10) or a percentage (e.g. 25%), not "${flags.maxRemovals}"`, ExitCode.usage);
  return { maxRemovals, allowOwnerChanges: flags.allowOwnerChanges };
}

/** Places problems a plan finds at fields of the manifests (file:line:column). */
type Placer = ReturnType<typeof manifestPlacer>;

/** Reads and validates manifests; prints every problem and fails if there is any. */
function loadDesired(flags: ReconcileFlags, io: Io, errorCode: number): { desired: Map<string, DesiredOrg>; place: Placer } {
  if (!flags.filename?.length) throw new UserError('no manifests: pass -f FILE|DIR|-', ExitCode.usage);
  const { sources, result, problems, notes } = readManifests(flags.filename, io, { maxFileBytes: maxManifestBytes(flags.maxManifestSize, io) });
  for (const n of notes) io.stderr(`note: ${formatNote(n)}\n`);
  if (problems.length) {
    for (const d of problems) io.stderr(`${formatDiagnostic(d)}\n`);
    throw new Failure(`${plural(problems.length, 'problem')} in the manifests; nothing was planned`, errorCode, problems);
  }
  return { desired: desiredState(result.objects, new Map(sources.map((s) => [s.name, s.dir]))), place: manifestPlacer(sources, io.cwd) };
}

/**
 * A plan that cannot be made because the manifests refer to what the platform does not have: each such
 * problem is printed at its file:line:column, as validation prints its own, and is in `-o json`'s diagnostics.
 */
function planFailure(err: PlanError, place: Placer, io: Io, errorCode: number, outcome: string): Failure {
  if (err.located.length === 0) return new Failure(err.message, errorCode);
  const diagnostics = place(err.located);
  for (const d of diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
  const summary = `${plural(diagnostics.length, 'reference')} in the manifests to what does not exist on the platform; ${outcome}`;
  return new Failure([...err.problems, summary].join('\n'), errorCode, diagnostics);
}

function printFindings(result: PlanResult, flags: ReconcileFlags, io: Io, errorCode: number): void {
  for (const n of result.notes) io.stderr(`note: ${n}\n`);
  for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
  if (flags.strict && result.warnings.length) {
    throw new Failure(`${plural(result.warnings.length, 'warning')} with --strict; nothing was planned`, errorCode);
  }
}

function refuseOnGuards(violations: GuardViolation[], io: Io, errorCode: number): void {
  if (violations.length === 0) return;
  for (const v of violations) io.stderr(`guard ${v.guard}: ${v.message}\n`);
  throw new Failure(`the plan violates ${plural(violations.length, 'safety guard')}; nothing was written`, errorCode, [], violations);
}

function renderOptions(flags: ReconcileFlags, io: Io, result?: Pick<PlanResult, 'uncompared'>): RenderOptions {
  return { color: useColor(io, flags.color), cut: io.isTTY && !flags.full ? CUT : undefined, uncompared: result?.uncompared };
}

/**
 * Opens the platform, runs `fn`, closes it; errors of the layers below become user errors with the command's
 * own exit code (a platform that cannot be reached is not a bug).
 */
async function withTarget<T>(
  flags: { platform?: string; rateLimit?: string; batchSize?: string },
  io: Io,
  errorCode: number,
  fn: (t: Target) => Promise<T>,
  opts: { whenMissing?: WhenMissing; parallelism?: number } = {},
): Promise<T> {
  let target: Target;
  try {
    target = await openTarget(flags.platform, io, { rateLimit: flags.rateLimit, batchSize: flags.batchSize, whenMissing: opts.whenMissing ?? 'fail', parallelism: opts.parallelism });
  } catch (err) {
    if (err instanceof UserError && err.exitCode !== ExitCode.usage) throw new Failure(err.message, errorCode);
    throw err;
  }
  for (const n of target.notes ?? []) io.stderr(`note: ${n}\n`);
  const { platform } = target;
  try {
    return await fn(target);
  } catch (err) {
    if (err instanceof PlatformError || err instanceof PlanError || err instanceof CredentialsError || err instanceof SavedPlanError || err instanceof LockTimeoutError) {
      throw new Failure(err.message, errorCode);
    }
    throw err;
  } finally {
    if (io.env.ORGCTL_REQUEST_STATS && 'requestStats' in platform) {
      io.stderr(`request stats: ${JSON.stringify((platform as { requestStats(): unknown }).requestStats())}\n`);
    }
    await platform.close();
  }
}

/** Under `-o json`, a failure is also a JSON document on stdout. */
async function jsonOnFailure<T>(output: 'text' | 'json', io: Io, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (output === 'json' && err instanceof UserError) {
      const f = err instanceof Failure ? err : undefined;
      io.stdout(
        `${JSON.stringify(
          {
            formatVersion: 1,
            error: err.message,
            diagnostics: (f?.diagnostics ?? []).map(({ file, line, column, path, message }) => ({ file, line, column, path, message })),
            violations: f?.violations ?? [],
          },
          null,
          2,
        )}\n`,
      );
    }
    throw err;
  }
}

/** While planning takes more than a second on a terminal, says so (reads over a rate limit can take minutes). */
function planning(io: Io): Progress {
  return new Progress(io.stderr, Boolean(io.stderrTTY), 'planning: reading the platform');
}

async function planFromFlags(flags: ReconcileFlags, io: Io, target: Target, errorCode: number, desiredOut?: { value?: Map<string, DesiredOrg> }): Promise<PlanResult> {
  const guards = guardSettings(flags); // flags first: a typo must not cost a platform read
  const parallelism = parallelismOf(flags);
  const { desired, place } = loadDesired(flags, io, errorCode);
  if (desiredOut) desiredOut.value = desired;
  const progress = planning(io);
  try {
    const result = await makePlan(target.platform, new LocalCredentials(io.env, io.cwd), desired, { guards, parallelism, now: clock(io.env)() });
    progress.finish();
    printFindings(result, flags, io, errorCode);
    return result;
  } catch (err) {
    progress.finish();
    if (err instanceof PlanError) throw planFailure(err, place, io, errorCode, 'nothing was planned');
    throw err;
  } finally {
    progress.finish();
  }
}

/** The command that applies a saved plan, with the platform flag it needs (never a token). */
function applyCommand(file: string, flags: { platform?: string }): string {
  return `orgctl apply${flags.platform ? ` --platform ${flags.platform}` : ''} ${file}`;
}

/** "Access ending within 14 days": who loses access soon, so it is renewed (or not) on purpose. */
function renderExpiring(desired: Map<string, DesiredOrg>, flags: ReconcileFlags, io: Io): string {
  const withinMs = parseDuration(flags.expiringWithin ?? '14d');
  if (withinMs === undefined) throw new UserError(`--expiring-within must be a duration such as 14d or 48h, not "${flags.expiringWithin}"`, ExitCode.usage);
  const soon = upcomingExpiries(desired.values(), clock(io.env)(), withinMs);
  if (!soon.length) return '';
  const lines = soon.map((e) => `  ${e.expiresAt}  ${e.organization}  ${e.email} (${e.role})`);
  return `\nAccess ending within ${flags.expiringWithin ?? '14d'} (${soon.length}):\n${lines.join('\n')}\n`;
}

/** `orgctl plan`: what apply would do. Exit 0, 1 on error, 2 with --detailed-exitcode when there are changes. */
export async function runPlan(flags: ReconcileFlags & { output: 'text' | 'json'; out?: string; detailedExitcode: boolean }, io: Io): Promise<number> {
  if (flags.expiringWithin !== undefined && parseDuration(flags.expiringWithin) === undefined) {
    throw new UserError(`--expiring-within must be a duration such as 14d or 48h, not "${flags.expiringWithin}"`, ExitCode.usage);
  }
  return jsonOnFailure(flags.output, io, () =>
    withTarget(flags, io, ExitCode.failure, async (target) => {
      const desired: { value?: Map<string, DesiredOrg> } = {};
      const result = await planFromFlags(flags, io, target, ExitCode.failure, desired);
      refuseOnGuards(result.violations, io, ExitCode.failure);
      if (flags.out) writeUserFile(io, flags.out, `${JSON.stringify(result.plan, null, 2)}\n`, 'the plan');
      if (flags.output === 'json') io.stdout(`${JSON.stringify(result.plan, null, 2)}\n`);
      else io.stdout(renderPlan(result.plan, renderOptions(flags, io, result)) + renderExpiring(desired.value!, flags, io));
      if (flags.out) io.stderr(`saved the plan to ${flags.out}; apply exactly it with: ${applyCommand(flags.out, flags)}\n`);
      return flags.detailedExitcode && result.plan.changes.length > 0 ? 2 : ExitCode.ok;
    }, { whenMissing: 'empty', parallelism: parallelismOf(flags) }),
  );
}

/**
 * `orgctl diff`: as kubectl diff, a unified diff of each organization's live state against the state apply
 * would leave it in, both rendered as the manifests `export` writes (`-o json`: the plan). Exit 0 no drift,
 * 1 drift, 2 error.
 */
export async function runDiff(flags: ReconcileFlags & { output: 'text' | 'json' }, io: Io): Promise<number> {
  return jsonOnFailure(flags.output, io, () =>
    withTarget(flags, io, DIFF_ERROR, async (target) => {
      const result = await planFromFlags(flags, io, target, DIFF_ERROR);
      if (flags.output === 'json') io.stdout(`${JSON.stringify(result.plan, null, 2)}\n`);
      else {
        // Loaded only here: the YAML writer and the diff library are no part of plan's or apply's start-up.
        const { diffSides, externalDiff, unifiedDiff } = await import('./diff-sides.js');
        const sides = diffSides(result, target.platform);
        const external = io.env.ORGCTL_EXTERNAL_DIFF;
        if (external) externalDiff(external, sides, io, DIFF_ERROR);
        else for (const s of sides) if (s.live !== s.desired) io.stdout(unifiedDiff(s));
        for (const s of sides) for (const h of s.hidden) io.stderr(`note: ${s.org}: ${h}\n`);
      }
      for (const v of result.violations) io.stderr(`note: applying this would trip guard ${v.guard}: ${v.message}\n`);
      return result.plan.changes.length > 0 ? 1 : ExitCode.ok;
    }, { whenMissing: 'empty', parallelism: parallelismOf(flags) }),
  );
}

/** Whether a file is a saved plan (JSON with a format version), to catch one passed where manifests go. */
function looksLikeSavedPlan(path: string): boolean {
  if (!path.endsWith('.json')) return false;
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { formatVersion?: unknown; changes?: unknown };
    return typeof doc?.formatVersion === 'number' && Array.isArray(doc.changes);
  } catch {
    return false;
  }
}

/** Reads and checks a saved plan before anything else happens: a bad one is refused whole. */
function readSavedPlan(file: string, io: Io): Plan {
  let text: string;
  try {
    text = readFileSync(file.startsWith('/') ? file : `${io.cwd}/${file}`, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read saved plan ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parseSavedPlan(text, file);
  } catch (err) {
    if (!(err instanceof InvalidPlanError)) throw err;
    // kubectl habit: `apply file.yaml` means manifests; say how orgctl takes them.
    if (/^\s*(?:#.*\n\s*)*(?:---\s*\n\s*)?(?:apiVersion|kind)\s*:/m.test(text.slice(0, 4096))) {
      throw new UserError(`${file} holds manifests, not a saved plan: pass manifests with -f (orgctl apply -f ${file})`, ExitCode.usage);
    }
    throw new UserError(err.message);
  }
}

function duration(text: string, flag: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UserError(`${flag} must be a duration with a unit, such as 30s, 2m or 500ms (or 0), not "${text}"`, ExitCode.usage);
  return ms;
}

export interface ApplyHooks {
  confirm?: (question: string) => Promise<boolean>;
  shouldStop?: () => boolean;
  /** Told the held locks, so a second interrupt can give them back before exiting at once. */
  onLocked?: (held: HeldLocks) => void;
}

/**
 * `orgctl apply`: plan and apply (after confirmation), or apply a saved plan if the platform has not moved.
 * A thin shell over `reconcile`: this function only reads flags, prints, asks and picks the exit code.
 */
export async function runApply(flags: ReconcileFlags & { planFile?: string; yes: boolean; lockTimeout: string; lockTtl: string }, io: Io, hooks: ApplyHooks = {}): Promise<number> {
  // The repeatable -f swallows a plan file that follows it: `apply -f dir plan.json`.
  const swallowed = flags.filename?.find((f) => looksLikeSavedPlan(f.startsWith('/') ? f : `${io.cwd}/${f}`));
  if (swallowed) throw new UserError(`${swallowed} is a saved plan, passed with -f among manifests: apply a saved plan alone (${applyCommand(swallowed, flags)})`, ExitCode.usage);
  if (flags.planFile && flags.filename?.length) throw new UserError('give either a saved plan or -f manifests, not both', ExitCode.usage);
  const lock = { timeoutMs: duration(flags.lockTimeout, '--lock-timeout'), ttlMs: duration(flags.lockTtl, '--lock-ttl') };
  if (lock.ttlMs < 1000 || lock.ttlMs > 3_600_000) throw new UserError(`--lock-ttl must be between 1s and 1h, not "${flags.lockTtl}"`, ExitCode.usage);
  const guards = guardSettings(flags);
  const parallelism = parallelismOf(flags);
  const saved = flags.planFile ? readSavedPlan(flags.planFile, io) : undefined;
  const loaded = saved ? undefined : loadDesired(flags, io, ExitCode.failure);
  return withTarget(
    flags,
    io,
    ExitCode.failure,
    async (target) => {
      const { platform } = target;
      if (!target.locks.enforced) io.stderr(`note: ${platform.description} has no lock: concurrent applies to one organization are not prevented\n`);
      let progress: Progress | undefined = planning(io);
      const outcome = await reconcile({ ...target, credentials: new LocalCredentials(io.env, io.cwd) }, saved ? { saved } : { desired: loaded!.desired }, {
        guards,
        parallelism,
        lock: {
          ...lock,
          holder: `${await platform.actor()} (orgctl apply, pid ${process.pid} on ${hostname()})`,
          onWait: (held) => io.stderr(`waiting up to ${Math.round(lock.timeoutMs / 1000)}s: ${held.message}\n`),
        },
        onLocked: hooks.onLocked,
        onPlan: (result) => {
          progress?.finish();
          progress = undefined;
          printFindings(result, flags, io, ExitCode.failure);
          refuseOnGuards(result.violations, io, ExitCode.failure);
          io.stdout(renderPlan(result.plan, renderOptions(flags, io, result)));
        },
        // A saved plan is the reviewed change (Terraform applies one without asking); --yes skips asking.
        confirm:
          flags.yes || saved
            ? undefined
            : async (plan) => {
                if (!io.interactive || !hooks.confirm) throw new UserError('refusing to apply without confirmation: standard input is not a terminal; pass --yes to apply non-interactively');
                return hooks.confirm(`Apply ${plan.changes.length} change(s) to ${platform.description}? Only 'yes' will be accepted: `);
              },
        shouldStop: hooks.shouldStop,
        now: clock(io.env),
        onProgress: (done, total) => {
          progress ??= new Progress(io.stderr, Boolean(io.stderrTTY), 'applied');
          progress.update(done, total);
        },
      }).catch((err: unknown) => {
        progress?.finish();
        if (err instanceof PlanError && loaded) throw planFailure(err, loaded.place, io, ExitCode.failure, 'nothing was written');
        throw err;
      });
      progress?.finish();
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
          if (outcome.lockLost) io.stderr(`error: ${outcome.lockLost}; stopped writing\n`);
          io.stdout(renderOutcome(outcome, { verbose: flags.verbose }));
          return outcome.status === 'applied' ? ExitCode.ok : ExitCode.failure;
      }
    },
    { whenMissing: 'create', parallelism },
  );
}

/**
 * `orgctl force-unlock ORG...`: breaks apply locks, as terraform force-unlock: asks first (naming the holder)
 * unless --force; an organization that is not locked is an error, so a typo does not pass for success.
 */
export async function runForceUnlock(orgs: string[], flags: { platform?: string; force?: boolean }, io: Io, confirm?: (question: string) => Promise<boolean>): Promise<number> {
  return withTarget(flags, io, ExitCode.failure, async ({ locks }) => {
    let code: number = ExitCode.ok;
    for (const org of orgs) {
      const held = await locks.holder(org);
      if (!held) {
        io.stderr(`error: "${org}" is not locked (${locks.kind}); nothing to break\n`);
        code = ExitCode.failure;
        continue;
      }
      if (!flags.force) {
        if (!io.interactive || !confirm) throw new UserError(`"${org}" is locked by ${held.holder} since ${held.since}; pass --force to break the lock without asking`);
        if (!(await confirm(`"${org}" is locked by ${held.holder} since ${held.since} (until ${held.expiresAt}). Break the lock? Only 'yes' will be accepted: `))) {
          io.stderr(`left the lock on "${org}" in place\n`);
          code = ExitCode.failure;
          continue;
        }
      }
      const broken = await locks.break(org);
      io.stdout(broken ? `broke the lock on "${org}" held by ${broken.holder} since ${broken.since}\n` : `"${org}" was no longer locked\n`);
    }
    return code;
  });
}

import { hostname } from 'node:os';
import { Controller, type OrgStatus } from '../../controller/controller.js';
import { DirectorySource } from '../../controller/directory.js';
import { serveHealth } from '../../controller/http.js';
import { Logger, type LogFormat } from '../../controller/log.js';
import { ControllerMetrics } from '../../controller/metrics.js';
import { formatDiagnostic } from '../../manifest/diagnostics.js';
import { LocalCredentials } from '../../platform/credentials.js';
import { parseRemovalLimit } from '../../plan/guards.js';
import { clock } from '../clock.js';
import { parseDuration } from '../duration.js';
import { ExitCode, UserError, type Io } from '../io.js';
import { untilStopSignal, type Signals } from '../signals.js';
import { openTarget } from '../target.js';

export interface ControllerFlags {
  filename?: string[];
  platform?: string;
  rateLimit?: string;
  batchSize?: string;
  maxRemovals: string;
  allowOwnerChanges: boolean;
  concurrency: string;
  resync: string;
  debounce: string;
  deletionGrace: string;
  lockTtl: string;
  metricsAddr: string;
  logFormat: string;
  dryRun: boolean;
  once: boolean;
  /** In-cluster mode (controller-kubernetes.ts): the custom resources are the manifests. */
  kubernetes?: boolean;
  namespace?: string;
  allNamespaces?: boolean;
  leaderElect?: boolean;
  leaderElectLeaseDuration?: string;
  leaderElectRenewDeadline?: string;
  leaderElectRetryPeriod?: string;
  leaderElectNamespace?: string;
}

function duration(text: string, flag: string, min = 0): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < min) throw new UserError(`${flag} must be a duration with a unit (e.g. 10m, 30s, 200ms)${min ? ` of at least ${min} ms` : ''}, not "${text}"`, ExitCode.usage);
  return ms;
}

/** Exit code of `--once`, as apply's: 0 when every organization is in sync or was applied whole. */
function onceExitCode(statuses: Map<string, OrgStatus>): number {
  for (const s of statuses.values()) if (!['success', 'no_changes', 'dry_run'].includes(s.result)) return ExitCode.failure;
  return ExitCode.ok;
}

/**
 * `orgctl controller -f DIR...`: keeps every declared organization reconciled, continuously, from manifests
 * in a directory (next to a git checkout kept current by git-sync or a cron pull). The same platform
 * selection, credentials and guards as `apply`; the same reconcile.
 */
export async function runController(flags: ControllerFlags, io: Io, signals: Signals = process): Promise<number> {
  if (flags.kubernetes) return (await import('./controller-kubernetes.js')).runKubernetesController(flags, io, signals);
  for (const [set, flag] of [[flags.namespace, '--namespace'], [flags.allNamespaces, '--all-namespaces'], [flags.leaderElect, '--leader-elect']] as const) {
    if (set) throw new UserError(`${flag} goes with --kubernetes`, ExitCode.usage);
  }
  if (!flags.filename?.length) throw new UserError('no manifests: pass -f DIR (the directories and files to watch)', ExitCode.usage);
  const maxRemovals = parseRemovalLimit(flags.maxRemovals);
  if (!maxRemovals) throw new UserError(`--max-removals must be a count (e.g. 10) or a percentage (e.g. 25%), not "${flags.maxRemovals}"`, ExitCode.usage);
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UserError(`--concurrency must be a whole number from 1 to 64, not "${flags.concurrency}"`, ExitCode.usage);
  const resyncMs = duration(flags.resync, '--resync', 1000);
  const debounceMs = duration(flags.debounce, '--debounce');
  const deletionGraceMs = duration(flags.deletionGrace, '--deletion-grace');
  const ttlMs = duration(flags.lockTtl, '--lock-ttl', 1000);
  if (flags.logFormat !== 'text' && flags.logFormat !== 'json') throw new UserError(`--log-format must be text or json, not "${flags.logFormat}"`, ExitCode.usage);
  const log = new Logger(io.stderr, flags.logFormat as LogFormat);
  const metrics = new ControllerMetrics();

  let target;
  try {
    target = await openTarget(flags.platform, io, { rateLimit: flags.rateLimit, batchSize: flags.batchSize, whenMissing: flags.dryRun ? 'empty' : 'create',
      // A reconcile gives up on an unreachable platform at once; the work queue's backoff paces the next try.
      breakerCooldownMs: 1000,
    });
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError((err as Error).message);
  }
  for (const n of target.notes ?? []) log.info('platform', n);
  if (!target.locks.enforced) log.warn('platform', `${target.platform.description} has no lock: a controller and an apply may write one organization at once`);

  const source = new DirectorySource({
    paths: flags.filename,
    cwd: io.cwd,
    debounceMs,
    onRead: ({ valid, problems, changed, durationMs }) => {
      metrics.manifestsValid.set(valid ? 1 : 0);
      metrics.manifestProblems.set(problems.length);
      if (valid) {
        log.info('manifests-read', changed.size ? `manifests read; changed: ${[...changed].sort().join(', ')}` : 'manifests read; no organization changed', { durationMs });
        return;
      }
      log.warn('manifests-invalid', `the manifests do not validate (${problems.length} problem(s)); nothing is acted on from them, the last valid ones stay in use until they are fixed`, { durationMs });
      for (const p of problems.slice(0, 50)) log.warn('manifests-invalid', formatDiagnostic(p));
    },
  });
  const controller = new Controller(
    { target, credentials: new LocalCredentials(io.env, io.cwd), source, metrics, log },
    {
      concurrency,
      resyncMs,
      guards: { maxRemovals, allowOwnerChanges: flags.allowOwnerChanges },
      lock: { holder: `${await target.platform.actor()} (orgctl controller, pid ${process.pid} on ${hostname()})`, ttlMs },
      dryRun: flags.dryRun,
      deletionGraceMs,
      now: clock(io.env),
    },
  );

  if (flags.once) {
    try {
      const statuses = await controller.runOnce();
      const problems = source.snapshot().problems;
      if (problems.length) {
        for (const p of problems) io.stderr(`${formatDiagnostic(p)}\n`);
        throw new UserError(`${problems.length} problem(s) in the manifests; nothing was reconciled`);
      }
      for (const [org, s] of [...statuses].sort(([a], [b]) => (a < b ? -1 : 1))) io.stdout(`${org}: ${s.result}: ${s.message}\n`);
      return onceExitCode(statuses);
    } finally {
      await source.stop();
      await target.platform.close();
    }
  }

  let health;
  try {
    health = await serveHealth(flags.metricsAddr, metrics, controller);
  } catch (err) {
    await target.platform.close();
    throw new UserError(`cannot serve metrics on ${flags.metricsAddr}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, (err as NodeJS.ErrnoException).code ? ExitCode.failure : ExitCode.usage);
  }
  log.info('started', `watching ${flags.filename.join(', ')}; reconciling on ${target.platform.description}${flags.dryRun ? ' (dry run: nothing is written)' : ''}; metrics and health on ${health.url}`);
  await controller.start();
  await untilStopSignal(signals);
  log.info('stopping', 'stopping: no new work; reconciles in flight stop after their platform call in flight and give their locks back');
  await controller.stop();
  await health.close();
  await target.platform.close();
  log.info('stopped', 'stopped');
  return ExitCode.ok;
}

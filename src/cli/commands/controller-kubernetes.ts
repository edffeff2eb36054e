import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Controller } from '../../controller/controller.js';
import { serveHealth } from '../../controller/http.js';
import { KubeClient, loadKubeConfig } from '../../controller/kubernetes/client.js';
import { EventRecorder } from '../../controller/kubernetes/events.js';
import { LeaderElector } from '../../controller/kubernetes/leader.js';
import { KubernetesLeaseLocks } from '../../controller/kubernetes/leases.js';
import { KubernetesReporter } from '../../controller/kubernetes/reporter.js';
import { SecretCredentials } from '../../controller/kubernetes/secrets.js';
import { KubernetesSource } from '../../controller/kubernetes/source.js';
import { Logger, type LogFormat } from '../../controller/log.js';
import { ControllerMetrics } from '../../controller/metrics.js';
import { parseRemovalLimit } from '../../plan/guards.js';
import { parseDuration } from '../duration.js';
import { ExitCode, UserError, type Io } from '../io.js';
import { untilStopSignal, type Signals } from '../signals.js';
import { openTarget } from '../target.js';
import type { ControllerFlags } from './controller.js';


function duration(text: string, flag: string, min = 0): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < min) throw new UserError(`${flag} must be a duration with a unit (e.g. 15s, 2s)${min ? ` of at least ${min} ms` : ''}, not "${text}"`, ExitCode.usage);
  return ms;
}

/**
 * `orgctl controller --kubernetes`: desired state from the Organization, Membership and Integration custom
 * resources of a cluster (one namespace, or all), reconciled by the same controller and reconcile as the
 * directory controller; results written back as status, finalizers and Events; the per-organization lock is a
 * Lease; with --leader-elect, only the replica holding the `orgctl-controller` Lease reconciles or writes.
 */
export async function runKubernetesController(flags: ControllerFlags, io: Io, signals: Signals, exit: (code: number) => never = (code) => process.exit(code)): Promise<number> {
  if (flags.filename?.length) throw new UserError('--kubernetes reads the custom resources of the cluster; -f is for the directory controller', ExitCode.usage);
  if (flags.namespace && flags.allNamespaces) throw new UserError('--namespace and --all-namespaces exclude each other', ExitCode.usage);
  if (flags.once) throw new UserError('--once is for the directory controller; in a cluster the controller runs continuously', ExitCode.usage);
  const maxRemovals = parseRemovalLimit(flags.maxRemovals);
  if (!maxRemovals) throw new UserError(`--max-removals must be a count (e.g. 10) or a percentage (e.g. 25%), not "${flags.maxRemovals}"`, ExitCode.usage);
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UserError(`--concurrency must be a whole number from 1 to 64, not "${flags.concurrency}"`, ExitCode.usage);
  const resyncMs = duration(flags.resync, '--resync', 1000);
  const ttlMs = duration(flags.lockTtl, '--lock-ttl', 1000);
  const leaseDurationMs = duration(flags.leaderElectLeaseDuration ?? '15s', '--leader-elect-lease-duration', 1000);
  const renewDeadlineMs = duration(flags.leaderElectRenewDeadline ?? '10s', '--leader-elect-renew-deadline', 1000);
  const retryPeriodMs = duration(flags.leaderElectRetryPeriod ?? '2s', '--leader-elect-retry-period', 100);
  // client-go's checks: a leader gives up before its Lease could be anyone else's.
  if (leaseDurationMs <= renewDeadlineMs) throw new UserError('--leader-elect-lease-duration must be longer than --leader-elect-renew-deadline', ExitCode.usage);
  if (renewDeadlineMs <= retryPeriodMs * 1.2) throw new UserError('--leader-elect-renew-deadline must be longer than 1.2 x --leader-elect-retry-period', ExitCode.usage);
  if (flags.logFormat !== 'text' && flags.logFormat !== 'json') throw new UserError(`--log-format must be text or json, not "${flags.logFormat}"`, ExitCode.usage);
  const log = new Logger(io.stderr, flags.logFormat as LogFormat);
  const metrics = new ControllerMetrics();

  let kube;
  try {
    kube = loadKubeConfig(io.env);
  } catch (err) {
    throw new UserError(`cannot load the Kubernetes configuration: ${(err as Error).message}`);
  }
  const namespace = flags.allNamespaces ? undefined : (flags.namespace ?? kube.namespace);
  const leaseNamespace = flags.leaderElectNamespace ?? io.env.POD_NAMESPACE ?? kube.namespace;
  const identity = `${io.env.POD_NAME || hostname()}_${randomUUID().slice(0, 8)}`;
  const client = new KubeClient(kube.config, `orgctl-controller/${identity}`);

  let target;
  try {
    target = await openTarget(flags.platform, io, { rateLimit: flags.rateLimit, batchSize: flags.batchSize, whenMissing: flags.dryRun ? 'empty' : 'create', breakerCooldownMs: 1000 });
  } catch (err) {
    client.close();
    if (err instanceof UserError) throw err;
    throw new UserError((err as Error).message);
  }
  for (const n of target.notes ?? []) log.info('platform', n);

  let elector: LeaderElector | undefined;
  let leading = !flags.leaderElect;
  const canWrite = () => (elector ? elector.leading() : leading);
  const credentials = new SecretCredentials(client, io.env);
  const source = new KubernetesSource({
    client,
    config: kube.config,
    namespace,
    onInformerError: (what, err, ms) => log.warn('informer', `${what} informer stopped (${describe(err)}); starting it again in ${(ms / 1000).toFixed(1)} s`),
  });
  const events = new EventRecorder({ client, component: 'orgctl-controller', instance: identity, canWrite, onError: (err) => log.warn('event', `could not record an event: ${describe(err)}`) });
  const reporter = new KubernetesReporter({ client, source, credentials, events, log, canWrite });
  source.onGroups = (orgs) => {
    const invalid = source.invalidCount();
    metrics.manifestsValid.set(invalid ? 0 : 1);
    metrics.manifestProblems.set(invalid);
    reporter.onGroups(orgs);
  };
  const controller = new Controller(
    { target: { ...target, locks: new KubernetesLeaseLocks(client, leaseNamespace) }, credentials, source, metrics, log },
    {
      concurrency,
      resyncMs,
      guards: { maxRemovals, allowOwnerChanges: flags.allowOwnerChanges },
      lock: { holder: `${await target.platform.actor()} (orgctl controller, ${identity})`, ttlMs },
      dryRun: flags.dryRun,
      // A deleted object is held by the finalizer until its deletionPolicy has acted: no grace needed.
      deletionGraceMs: 0,
    },
  );
  controller.observe(reporter.onResult);

  let started = false;
  const health = await serveHealth(flags.metricsAddr, metrics, {
    readiness: () => {
      if (!source.synced) return { ready: false, reasons: ['the informers have not listed the custom resources yet'] };
      if (!canWrite()) return { ready: true, reasons: [] }; // a standby is healthy: it takes over when the leader goes
      if (!started) return { ready: false, reasons: ['elected; starting'] };
      return controller.readiness();
    },
  }).catch(async (err: unknown) => {
    client.close();
    await target.platform.close();
    throw new UserError(`cannot serve metrics on ${flags.metricsAddr}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, (err as NodeJS.ErrnoException).code ? ExitCode.failure : ExitCode.usage);
  });
  const scope = namespace ? `namespace ${namespace}` : 'all namespaces';
  log.info('started', `watching Organizations, Memberships and Integrations in ${scope} on ${kube.config.getCurrentCluster()?.server}; reconciling on ${target.platform.description}${flags.dryRun ? ' (dry run: nothing is written to the platform)' : ''}; identity ${identity}; metrics and health on ${health.url}`);

  let sweeper: NodeJS.Timeout | undefined;
  const lead = async () => {
    log.info('leading', flags.leaderElect ? `elected leader (Lease ${leaseNamespace}/orgctl-controller); reconciling` : 'reconciling (no leader election)');
    await controller.start();
    started = true;
    reporter.sweep();
    sweeper = setInterval(() => reporter.sweep(), Math.min(resyncMs, 60_000));
    sweeper.unref();
  };

  const stopped = untilStopSignal(signals);

  const informers = source.run().then(() => log.info('synced', `informers synced: ${[...source.allGroups()].length} organization(s) declared`));
  if (flags.leaderElect) {
    elector = new LeaderElector({
      client,
      namespace: leaseNamespace,
      name: 'orgctl-controller',
      identity,
      leaseDurationMs,
      renewDeadlineMs,
      retryPeriodMs,
      onNewLeader: (who) => log.info('leader', `the leader is ${who}; standing by`),
      onStartedLeading: () => {
        void informers.then(lead).catch((err: unknown) => {
          log.error('start', `could not start: ${describe(err)}`);
          exit(ExitCode.failure);
        });
      },
      onStoppedLeading: (why) => {
        // client-go's answer: leadership is gone, so is every write in flight. The Deployment starts it again.
        log.error('leader-lost', `lost leadership: ${why}; exiting so that nothing more is written`);
        exit(ExitCode.failure);
      },
    });
    void elector.run();
  } else {
    await Promise.race([informers.then(lead), stopped]);
  }

  await stopped;
  log.info('stopping', 'stopping: no new work; reconciles in flight stop after their platform call in flight and give their locks back');
  clearInterval(sweeper);
  if (started) await controller.stop();
  else await source.stop();
  await Promise.race([Promise.all([reporter.idle(), events.flush()]), new Promise((r) => setTimeout(r, 5000).unref())]);
  await elector?.stop();
  leading = false;
  await health.close();
  await target.platform.close();
  client.close();
  log.info('stopped', 'stopped');
  return ExitCode.ok;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

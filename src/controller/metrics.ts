import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The controller's Prometheus metrics, named after controller-runtime's (reconcile totals by result, reconcile
 * time, work queue depth, adds and retries) with what an access-control controller adds: drift found and put
 * back, guard trips, the last success per organization, whether the manifests validate, platform requests.
 */
export class ControllerMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'orgctl_reconcile_total',
    help: 'Reconciles by organization and result (success, no_changes, incomplete, guard_tripped, error, dry_run, deleted, orphaned).',
    labelNames: ['organization', 'result'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'orgctl_reconcile_errors_total',
    help: 'Reconciles that ended in an error or did not apply everything, by organization.',
    labelNames: ['organization'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'orgctl_reconcile_time_seconds',
    help: 'Time per reconcile (lock, read, plan, apply, release).',
    labelNames: ['result'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly depth = new Gauge({ name: 'orgctl_workqueue_depth', help: 'Organizations waiting to be reconciled.', registers: [this.registry] });
  readonly adds = new Counter({ name: 'orgctl_workqueue_adds_total', help: 'Organizations added to the work queue.', registers: [this.registry] });
  readonly retries = new Counter({ name: 'orgctl_workqueue_retries_total', help: 'Reconciles retried after a backoff.', registers: [this.registry] });
  readonly driftDetected = new Counter({
    name: 'orgctl_drift_detected_total',
    help: 'Changes planned (drift between manifests and the platform), by organization and action.',
    labelNames: ['organization', 'action'] as const,
    registers: [this.registry],
  });
  readonly driftCorrected = new Counter({
    name: 'orgctl_drift_corrected_total',
    help: 'Changes applied, by organization and action.',
    labelNames: ['organization', 'action'] as const,
    registers: [this.registry],
  });
  readonly guardTrips = new Counter({
    name: 'orgctl_guard_trips_total',
    help: 'Plans refused by a safety guard (nothing written), by organization and guard.',
    labelNames: ['organization', 'guard'] as const,
    registers: [this.registry],
  });
  readonly lastSuccess = new Gauge({
    name: 'orgctl_last_successful_reconcile_timestamp_seconds',
    help: 'When each organization last reconciled without error (Unix time).',
    labelNames: ['organization'] as const,
    registers: [this.registry],
  });
  readonly manifestsValid = new Gauge({
    name: 'orgctl_manifests_valid',
    help: '1 when the manifests validate; 0 while they do not (the last valid ones are used).',
    registers: [this.registry],
  });
  readonly manifestProblems = new Gauge({ name: 'orgctl_manifest_problems', help: 'Problems in the manifests as last read.', registers: [this.registry] });
  readonly platformRequests = new Counter({
    name: 'orgctl_platform_requests_total',
    help: 'Requests to the platform by kind (METHOD /path template).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly platformErrors = new Counter({
    name: 'orgctl_platform_errors_total',
    help: 'Platform answers that were errors worth retrying (429, 5xx) and retries, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly seenRequests = new Map<string, number>();

  constructor(opts: { defaults?: boolean } = {}) {
    if (opts.defaults !== false) collectDefaultMetrics({ register: this.registry, prefix: 'orgctl_' });
  }

  /** Takes a platform client's running request counts (`requestStats()`) into the counters, by difference. */
  recordRequests(stats: Record<string, number>): void {
    for (const [kind, total] of Object.entries(stats)) {
      const delta = total - (this.seenRequests.get(kind) ?? 0);
      if (delta <= 0) continue;
      this.seenRequests.set(kind, total);
      if (kind === 'retries' || kind.startsWith('answered ')) this.platformErrors.inc({ kind }, delta);
      else this.platformRequests.inc({ kind }, delta);
    }
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

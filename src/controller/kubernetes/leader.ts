import { isNotFound, type KubeClient } from './client.js';
import { leasePath, microTime, type Lease } from './leases.js';

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  /** The Lease's name (`orgctl-controller`). */
  name: string;
  /** Who this process is (`POD_NAME_uuid`): the Lease's holderIdentity while it leads. */
  identity: string;
  /** How long a standby waits, from when it last saw the Lease change, before taking it (client-go: 15 s). */
  leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it gives up leading (client-go: 10 s). */
  renewDeadlineMs: number;
  /** How often to try to take or renew the Lease (client-go: 2 s). */
  retryPeriodMs: number;
  now?: () => number;
  onStartedLeading: () => void;
  /** The Lease could not be renewed within the renew deadline: stop writing now. */
  onStoppedLeading: (why: string) => void;
  onNewLeader?: (identity: string) => void;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, client-go's algorithm (leaderelection.go): try to take
 * the Lease every retry period (with jitter) until it is free, ours, or has not changed for its duration as
 * seen by this process's clock; then renew it every retry period. A renewal that has not succeeded within the
 * renew deadline ends leadership: `leading()` is false from the moment the deadline passes, before the Lease
 * could be anyone else's (renew deadline < lease duration), and onStoppedLeading is told.
 */
export class LeaderElector {
  private observedRecord: Lease['spec'] | undefined;
  private observedRaw = '';
  private observedTime = 0;
  private lastRenew = 0;
  private isLeading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private lastLeader = '';
  private readonly now: () => number;

  constructor(private readonly opts: LeaderElectionOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Leads now, and renewed the Lease within the renew deadline. */
  leading(): boolean {
    return this.isLeading && this.now() - this.lastRenew < this.opts.renewDeadlineMs;
  }

  get identity(): string {
    return this.opts.identity;
  }

  /** Campaigns until elected, then renews until leadership is lost or stop() is called. */
  async run(): Promise<void> {
    while (!this.stopped) {
      if (await this.tryAcquireOrRenew()) break;
      await this.sleep(this.opts.retryPeriodMs * (1 + Math.random() * 0.2));
    }
    if (this.stopped) return;
    this.isLeading = true;
    this.opts.onStartedLeading();
    while (!this.stopped) {
      await this.sleep(this.opts.retryPeriodMs);
      if (this.stopped) return;
      const deadline = this.lastRenew + this.opts.renewDeadlineMs;
      let renewed = false;
      while (!this.stopped && this.now() < deadline) {
        if (await this.tryAcquireOrRenew(deadline - this.now())) {
          renewed = true;
          break;
        }
        if (!this.isLeaderRecord()) break; // someone else holds it now
        await this.sleep(Math.min(this.opts.retryPeriodMs, Math.max(0, deadline - this.now())));
      }
      if (this.stopped) return;
      if (!renewed) {
        this.isLeading = false;
        this.opts.onStoppedLeading(this.isLeaderRecord() ? `could not renew the Lease within the renew deadline (${Math.round(this.opts.renewDeadlineMs / 1000)} s)` : `the Lease is held by ${this.observedRecord?.holderIdentity ?? 'someone else'} now`);
        return;
      }
    }
  }

  private isLeaderRecord(): boolean {
    return this.observedRecord?.holderIdentity === this.opts.identity;
  }

  private async tryAcquireOrRenew(timeoutMs = this.opts.renewDeadlineMs): Promise<boolean> {
    const { client, namespace, name, identity } = this.opts;
    const timeout = Math.max(500, Math.min(timeoutMs, 5000));
    const now = this.now();
    const seconds = Math.max(1, Math.round(this.opts.leaseDurationMs / 1000));
    let old: Lease | undefined;
    try {
      old = await client.get<Lease>(leasePath(namespace, name), { timeoutMs: timeout });
    } catch (err) {
      if (!isNotFound(err)) return false;
    }
    if (!old) {
      const spec = { holderIdentity: identity, leaseDurationSeconds: seconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 };
      try {
        await client.request('POST', leasePath(namespace), { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec }, timeoutMs: timeout });
      } catch {
        return false; // another candidate created it first (409), or the API server did not answer
      }
      this.observed(spec, now);
      this.lastRenew = now;
      return true;
    }
    const raw = JSON.stringify(old.spec ?? {});
    if (raw !== this.observedRaw) this.observed(old.spec ?? {}, now, raw);
    const holder = old.spec?.holderIdentity ?? '';
    if (holder && holder !== this.lastLeader) {
      this.lastLeader = holder;
      if (holder !== identity) this.opts.onNewLeader?.(holder);
    }
    const leaderIsMe = holder === identity;
    if (holder && !leaderIsMe && this.observedTime + (old.spec?.leaseDurationSeconds ?? seconds) * 1000 > now) return false;
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: seconds,
      acquireTime: leaderIsMe ? old.spec?.acquireTime ?? microTime(now) : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (old.spec?.leaseTransitions ?? 0) + (leaderIsMe ? 0 : 1),
    };
    try {
      await client.request('PUT', leasePath(namespace, name), { body: { ...old, spec }, timeoutMs: timeout });
    } catch {
      return false; // 409: someone else wrote it since it was read
    }
    this.observed(spec, now);
    this.lastRenew = now;
    return true;
  }

  private observed(spec: Lease['spec'], at: number, raw = JSON.stringify(spec)): void {
    this.observedRecord = spec;
    this.observedRaw = raw;
    this.observedTime = at;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  /**
   * Stops campaigning or renewing. A leader gives the Lease up (holder cleared, duration 1 s), so a standby
   * takes over at its next try instead of after the lease duration.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    if (!this.leading()) return;
    this.isLeading = false;
    try {
      const old = await this.opts.client.get<Lease>(leasePath(this.opts.namespace, this.opts.name), { timeoutMs: 2000 });
      if (old.spec?.holderIdentity !== this.opts.identity) return;
      await this.opts.client.request('PUT', leasePath(this.opts.namespace, this.opts.name), {
        body: { ...old, spec: { ...old.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(this.now()) } },
        timeoutMs: 2000,
      });
    } catch {
      // It runs out by itself.
    }
  }
}

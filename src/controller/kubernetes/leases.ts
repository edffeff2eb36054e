import { createHash } from 'node:crypto';
import { LeaseHeldError, LockLostError, type Locks } from '../../platform/locks.js';
import { isConflict, isNotFound, type KubeClient } from './client.js';

/** A coordination.k8s.io/v1 Lease as the API server returns it. */
export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

/** A MicroTime, as Lease times are written: `2026-11-28T10:00:00.123000Z`. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

export function leasePath(namespace: string, name?: string): string {
  return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases${name ? `/${encodeURIComponent(name)}` : ''}`;
}

const HOLDER_ANNOTATION = 'orgctl.dev/holder';
const ORG_ANNOTATION = 'orgctl.dev/organization';

/**
 * Remembers when this process last saw each Lease change (client-go's rule): a Lease held by someone else is
 * expired once it has not changed for its duration by this process's own clock, whatever the holder's clock
 * says. A process that has just started waits one full duration for a Lease it finds held.
 */
export class LeaseObserver {
  private readonly seen = new Map<string, { version: string; at: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  /** Records the Lease as seen now; returns when its current state was first seen. */
  observe(lease: Lease): number {
    const version = `${lease.metadata.resourceVersion ?? ''}|${JSON.stringify(lease.spec ?? {})}`;
    const prev = this.seen.get(lease.metadata.name);
    if (prev && prev.version === version) return prev.at;
    const at = this.now();
    this.seen.set(lease.metadata.name, { version, at });
    return at;
  }

  /** Held by someone and changed within its duration, as seen from here. */
  live(lease: Lease): boolean {
    const holder = lease.spec?.holderIdentity;
    if (!holder) return false;
    const since = this.observe(lease);
    return this.now() < since + (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
  }
}

/**
 * The per-organization apply lock in a cluster: one Lease per organization (`orgctl-org-NAME`) in the
 * controller's namespace. The holder identity is the lock's id; who holds it is said in an annotation. Taking
 * and renewing are updates with the resourceVersion read, so two takers collide with 409 and one wins.
 */
export class KubernetesLeaseLocks implements Locks {
  readonly kind = 'Kubernetes Lease';
  readonly enforced = true;
  private readonly observer: LeaseObserver;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly now: () => number = Date.now,
  ) {
    this.observer = new LeaseObserver(now);
  }

  /** The Lease's name for an organization: a DNS subdomain, hashed when the name would be too long. */
  static leaseName(org: string): string {
    const name = `orgctl-org-${org}`;
    if (name.length <= 253) return name;
    return `orgctl-org-${org.slice(0, 200)}-${createHash('sha256').update(org).digest('hex').slice(0, 16)}`;
  }

  private async read(org: string): Promise<Lease | undefined> {
    try {
      return await this.client.get<Lease>(leasePath(this.namespace, KubernetesLeaseLocks.leaseName(org)));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private heldError(org: string, lease: Lease): LeaseHeldError {
    const spec = lease.spec ?? {};
    const renewed = Date.parse(spec.renewTime ?? '') || this.now();
    return new LeaseHeldError(
      org,
      lease.metadata.annotations?.[HOLDER_ANNOTATION] ?? spec.holderIdentity ?? 'someone',
      spec.acquireTime ?? new Date(renewed).toISOString(),
      new Date(renewed + (spec.leaseDurationSeconds ?? 0) * 1000).toISOString(),
    );
  }

  async acquire(org: string, lease: { id: string; holder: string; ttlMs: number }): Promise<void> {
    const name = KubernetesLeaseLocks.leaseName(org);
    const now = microTime(this.now());
    const seconds = Math.max(1, Math.ceil(lease.ttlMs / 1000));
    const annotations = { [HOLDER_ANNOTATION]: lease.holder, [ORG_ANNOTATION]: org };
    const current = await this.read(org);
    if (!current) {
      try {
        await this.client.request<Lease>('POST', leasePath(this.namespace), {
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace: this.namespace, labels: { 'app.kubernetes.io/managed-by': 'orgctl' }, annotations },
            spec: { holderIdentity: lease.id, leaseDurationSeconds: seconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          },
        });
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
        const other = await this.read(org);
        throw other ? this.heldError(org, other) : err;
      }
    }
    const mine = current.spec?.holderIdentity === lease.id;
    if (!mine && this.observer.live(current)) throw this.heldError(org, current);
    try {
      await this.client.request<Lease>('PUT', leasePath(this.namespace, name), {
        body: {
          ...current,
          metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, ...annotations } },
          spec: {
            holderIdentity: lease.id,
            leaseDurationSeconds: seconds,
            acquireTime: mine ? current.spec?.acquireTime : now,
            renewTime: now,
            leaseTransitions: (current.spec?.leaseTransitions ?? 0) + (mine || !current.spec?.holderIdentity ? 0 : 1),
          },
        },
      });
    } catch (err) {
      if (!isConflict(err)) throw err;
      const other = await this.read(org);
      throw other ? this.heldError(org, other) : err;
    }
  }

  async renew(org: string, id: string, ttlMs: number): Promise<void> {
    const current = await this.read(org);
    if (!current || current.spec?.holderIdentity !== id) {
      throw new LockLostError(current ? `the Lease ${this.namespace}/${current.metadata.name} is held by ${current.metadata.annotations?.[HOLDER_ANNOTATION] ?? current.spec?.holderIdentity ?? 'nobody'} now` : `the Lease was deleted`);
    }
    try {
      await this.client.request('PUT', leasePath(this.namespace, current.metadata.name), {
        body: { ...current, spec: { ...current.spec, leaseDurationSeconds: Math.max(1, Math.ceil(ttlMs / 1000)), renewTime: microTime(this.now()) } },
      });
    } catch (err) {
      // Someone wrote it since it was read: the next renewal reads it again and tells whose it is.
      if (!isConflict(err)) throw err;
    }
  }

  async release(org: string, id: string): Promise<void> {
    const current = await this.read(org);
    if (!current || current.spec?.holderIdentity !== id) return;
    await this.clear(current).catch((err: unknown) => {
      if (!isConflict(err) && !isNotFound(err)) throw err;
    });
  }

  private async clear(current: Lease): Promise<void> {
    await this.client.request('PUT', leasePath(this.namespace, current.metadata.name), {
      body: { ...current, spec: { ...current.spec, holderIdentity: null, acquireTime: null, renewTime: microTime(this.now()), leaseDurationSeconds: 1 } },
    });
  }

  async break(org: string): Promise<{ holder: string; since: string } | undefined> {
    const current = await this.read(org);
    if (!current?.spec?.holderIdentity) return undefined;
    const was = this.heldError(org, current);
    await this.clear(current);
    return { holder: was.holder, since: was.since };
  }

  async holder(org: string): Promise<{ holder: string; since: string; expiresAt: string } | undefined> {
    const current = await this.read(org);
    if (!current?.spec?.holderIdentity) return undefined;
    const h = this.heldError(org, current);
    return { holder: h.holder, since: h.since, expiresAt: h.expiresAt };
  }
}

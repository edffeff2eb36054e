import { randomBytes } from 'node:crypto';
import { isNotFound, type KubeClient } from './client.js';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

export interface EventRecorderOptions {
  client: KubeClient;
  /** source.component and reportingComponent: `orgctl-controller`. */
  component: string;
  /** reportingInstance and source.host: this process. */
  instance: string;
  /** False while this process may not write (a standby, or a leader that lost its Lease). */
  canWrite: () => boolean;
  now?: () => number;
  onError?: (err: unknown) => void;
  /** Per object: events allowed at once, and one more every refillMs (client-go: 25, 5 min). */
  burst?: number;
  refillMs?: number;
  /** Events of one object, type and reason with different messages within this window... (client-go: 10 min) */
  similarWindowMs?: number;
  /** ...beyond this many are combined into one event (client-go: 10). */
  similarLimit?: number;
}

interface Recorded {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

const MAX_CACHED = 4096;

/**
 * Records core/v1 Events on objects, correlated as client-go's EventCorrelator does, so a resync every few
 * minutes or a flapping platform never makes an event storm: the same event again raises the existing
 * Event's count (one PATCH) instead of creating another; more than `similarLimit` events of one object, type
 * and reason with different messages within the window are combined into one ("(combined from similar
 * events): ..."); and each object has a token bucket (a burst of 25, then one per 5 minutes) beyond which
 * events are dropped. Writes go out one at a time in the background and never hold up a reconcile.
 */
export class EventRecorder {
  private readonly recorded = new Map<string, Recorded>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly similar = new Map<string, { messages: Set<string>; since: number }>();
  private queue: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly opts: EventRecorderOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Records an event (in the background). Messages never hold secret values. */
  event(obj: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (!this.opts.canWrite()) return;
    const now = this.now();
    const objectId = `${obj.kind}/${obj.namespace}/${obj.name}/${obj.uid ?? ''}`;
    // Similar events (same object, type and reason) with many messages: combined into one event.
    const similarKey = `${objectId}|${type}|${reason}`;
    let similar = this.similar.get(similarKey);
    if (!similar || now - similar.since > (this.opts.similarWindowMs ?? 600_000)) this.similar.set(similarKey, (similar = { messages: new Set(), since: now }));
    similar.messages.add(message);
    let text = message;
    let key = `${similarKey}|${message}`;
    if (similar.messages.size > (this.opts.similarLimit ?? 10)) {
      text = `(combined from similar events): ${message}`;
      key = `${similarKey}|*combined*`;
    }
    // The spam filter applies to new events and count updates alike.
    if (!this.take(objectId, now)) return;
    const at = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    // Looked up when written (one at a time): a burst of one event makes one Event and raises its count.
    this.queue = this.queue
      .then(() => {
        const existing = this.recorded.get(key);
        return existing ? this.bump(existing, text, at) : this.create(key, obj, type, reason, text, at);
      })
      .catch((err: unknown) => this.opts.onError?.(err));
  }

  /** Resolves once every event recorded so far has been written (or has failed). */
  flush(): Promise<void> {
    return this.queue;
  }

  private take(objectId: string, now: number): boolean {
    const burst = this.opts.burst ?? 25;
    const refill = this.opts.refillMs ?? 300_000;
    const b = this.buckets.get(objectId) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + (now - b.at) / refill);
    b.at = now;
    this.buckets.set(objectId, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private async create(key: string, obj: InvolvedObject, type: string, reason: string, message: string, at: string): Promise<void> {
    if (!this.opts.canWrite()) return;
    const name = `${obj.name.slice(0, 200)}.${randomBytes(8).toString('hex')}`;
    await this.opts.client.request('POST', `/api/v1/namespaces/${encodeURIComponent(obj.namespace)}/events`, {
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: obj.namespace },
        involvedObject: obj,
        type,
        reason: reason.slice(0, 128),
        message: message.slice(0, 1024),
        source: { component: this.opts.component, host: this.opts.instance },
        reportingComponent: this.opts.component,
        reportingInstance: this.opts.instance,
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
      },
    });
    if (this.recorded.size >= MAX_CACHED) this.recorded.delete(this.recorded.keys().next().value!);
    this.recorded.set(key, { name, namespace: obj.namespace, count: 1, firstTimestamp: at });
  }

  private async bump(r: Recorded, message: string, at: string): Promise<void> {
    if (!this.opts.canWrite()) return;
    try {
      await this.opts.client.mergePatch(`/api/v1/namespaces/${encodeURIComponent(r.namespace)}/events/${encodeURIComponent(r.name)}`, { count: r.count + 1, lastTimestamp: at, message: message.slice(0, 1024) });
      r.count++;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // The Event expired (the API server keeps them an hour): forget it; the next occurrence makes a new one.
      for (const [k, v] of this.recorded) if (v === r) this.recorded.delete(k);
    }
  }
}

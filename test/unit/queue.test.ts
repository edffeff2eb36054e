import { describe, expect, it } from 'vitest';
import { WorkQueue, type Timers } from '../../src/controller/queue.js';

/** A clock moved by hand: timers fire when the test advances time past them, in order. */
class ManualTimers implements Timers {
  private t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
  pending(): number {
    return this.timers.length;
  }
}

const policy = { baseMs: 1000, maxMs: 300_000 };

describe('WorkQueue', () => {
  it('coalesces events for a key already waiting', async () => {
    const q = new WorkQueue<string>(policy, new ManualTimers());
    q.add('acme');
    q.add('acme');
    q.add('beta');
    q.add('acme');
    expect(q.depth).toBe(2);
    expect(await q.get()).toBe('acme');
    expect(await q.get()).toBe('beta');
  });

  it('never hands out a key twice at once; one added while processing runs again after done', async () => {
    const q = new WorkQueue<string>(policy, new ManualTimers());
    q.add('acme');
    expect(await q.get()).toBe('acme');
    q.add('acme'); // an event while the reconcile runs
    q.add('acme'); // and another: still once
    expect(q.depth).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await Promise.resolve();
    expect(second).toBeUndefined(); // not handed out while acme is processing
    q.done('acme');
    await Promise.resolve();
    expect(second).toBe('acme');
    expect(q.isProcessing('acme')).toBe(true);
    q.done('acme');
    expect(q.depth).toBe(0);
  });

  it('backs off per key exponentially, capped, and resets on forget', async () => {
    const timers = new ManualTimers();
    const q = new WorkQueue<string>(policy, timers);
    const delays = Array.from({ length: 12 }, () => q.addRateLimited('acme'));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000, 300000]);
    expect(q.nextBackoff('beta')).toBe(1000); // other keys are not affected
    q.forget('acme');
    expect(q.nextBackoff('acme')).toBe(1000);
  });

  it('delays keys, the earliest of several delays winning, and resyncs', async () => {
    const timers = new ManualTimers();
    const q = new WorkQueue<string>(policy, timers);
    q.addAfter('acme', 600_000); // the resync
    q.addAfter('acme', 5_000); // an expiry sooner
    q.addAfter('acme', 900_000); // later: ignored
    expect(timers.pending()).toBe(1);
    timers.advance(4_999);
    expect(q.depth).toBe(0);
    timers.advance(1);
    expect(q.depth).toBe(1);
    expect(await q.get()).toBe('acme');
    q.done('acme');
    q.addAfter('acme', 600_000);
    timers.advance(600_000);
    expect(await q.get()).toBe('acme');
  });

  it('ends waiting workers and drops delays on shut down', async () => {
    const timers = new ManualTimers();
    const q = new WorkQueue<string>(policy, timers);
    const waiting = q.get();
    q.addAfter('acme', 1000);
    q.shutDown();
    expect(await waiting).toBeUndefined();
    expect(timers.pending()).toBe(0);
    q.add('acme');
    expect(q.depth).toBe(0);
    expect(await q.get()).toBeUndefined();
  });
});

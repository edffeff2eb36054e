/**
 * Progress of long work, as people watching it expect. On a terminal: one line redrawn in place once the
 * work has taken more than a second (count, rate, time left, elapsed), cleared when done. Elsewhere (CI logs):
 * a line every 10% or every 10 s, for work of 200 items or more or that takes longer than 10 s.
 */
export class Progress {
  private readonly start: number;
  private lastLine = 0;
  private lastFraction = 0;
  private drawn = false;
  private done = 0;
  private total = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (text: string) => void,
    private readonly terminal: boolean,
    private readonly verb: string,
    private readonly now: () => number = Date.now,
  ) {
    this.start = now();
    // On a terminal, say something even while nothing is counted yet (reads over a rate limit).
    if (terminal) {
      this.timer = setInterval(() => this.draw(), 1000);
      this.timer.unref();
    }
  }

  private elapsed(): number {
    return this.now() - this.start;
  }

  /** `done` of `total` items are finished. */
  update(done: number, total: number): void {
    this.done = done;
    this.total = total;
    if (this.terminal) return this.draw();
    const fraction = total ? done / total : 0;
    const t = this.now();
    const big = total >= 200 || this.elapsed() > 10_000;
    if (big && (fraction - this.lastFraction >= 0.1 || t - this.lastLine >= 10_000 || done === total)) {
      this.lastFraction = fraction;
      this.lastLine = t;
      this.write(`${this.verb} ${done}/${total} (${seconds(this.elapsed())} elapsed)\n`);
    }
  }

  private draw(): void {
    const elapsed = this.elapsed();
    if (elapsed < 1000) return;
    const rate = this.done / (elapsed / 1000);
    const left = this.total && rate > 0 ? ` about ${seconds(((this.total - this.done) / rate) * 1000)} left,` : '';
    const count = this.total ? ` ${this.done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')} (${rate.toFixed(rate < 10 ? 1 : 0)}/s,${left}` : ' (';
    this.write(`\r\u001b[2K${this.verb}${count} ${seconds(elapsed)} elapsed)`);
    this.drawn = true;
  }

  /** Stops the ticker and clears the terminal line, so what is printed next starts clean. */
  finish(): void {
    clearInterval(this.timer);
    if (this.drawn) this.write('\r\u001b[2K');
    this.drawn = false;
  }
}

function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

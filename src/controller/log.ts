/** One event of the controller: a line a person reads on a terminal, or a JSON object a log pipeline reads. */
export interface LogEvent {
  level: 'info' | 'warn' | 'error';
  /** What happened, in a word or two: `reconciled`, `guard-tripped`, `manifests-invalid`, ... */
  action: string;
  organization?: string;
  message: string;
  counts?: Record<string, number>;
  durationMs?: number;
  error?: string;
}

export type LogFormat = 'text' | 'json';

/**
 * Writes one line per event. Never given secrets: messages come from plans (names, never values) and
 * errors that never quote credentials or tokens.
 */
export class Logger {
  constructor(
    private readonly write: (line: string) => void,
    private readonly format: LogFormat,
    private readonly now: () => Date = () => new Date(),
  ) {}

  log(event: LogEvent): void {
    const time = this.now().toISOString();
    if (this.format === 'json') {
      const { message, level, ...rest } = event;
      this.write(`${JSON.stringify({ time, level, msg: message, ...rest, ...(event.durationMs !== undefined ? { durationMs: Math.round(event.durationMs) } : {}) })}\n`);
      return;
    }
    const who = event.organization ? `${event.organization}: ` : '';
    const took = event.durationMs !== undefined ? ` (${(event.durationMs / 1000).toFixed(2)} s)` : '';
    this.write(`${time} ${event.level.padEnd(5)} ${who}${event.message}${took}${event.error ? `: ${event.error}` : ''}\n`);
  }

  info(action: string, message: string, extra: Partial<LogEvent> = {}): void {
    this.log({ level: 'info', action, message, ...extra });
  }

  warn(action: string, message: string, extra: Partial<LogEvent> = {}): void {
    this.log({ level: 'warn', action, message, ...extra });
  }

  error(action: string, message: string, extra: Partial<LogEvent> = {}): void {
    this.log({ level: 'error', action, message, ...extra });
  }
}

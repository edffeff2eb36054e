/** The process's stop signals, as the long-running commands take them (tests pass an EventEmitter). */
export type Signals = { on(event: 'SIGINT' | 'SIGTERM', fn: () => void): void; off(event: 'SIGINT' | 'SIGTERM', fn: () => void): void };

/** Resolves at the first SIGINT or SIGTERM, and stops listening for either. */
export function untilStopSignal(signals: Signals): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      signals.off('SIGINT', stop);
      signals.off('SIGTERM', stop);
      resolve();
    };
    signals.on('SIGINT', stop);
    signals.on('SIGTERM', stop);
  });
}

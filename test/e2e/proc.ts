import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, type Run } from './cli.js';
import { scaled } from '../support/timing.js';

export interface Running {
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  done: Promise<Run & { signal: NodeJS.Signals | null }>;
}

/** Starts the built CLI as a child process without waiting for it: for killing and racing it. */
export function startOrgctl(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH, HOME: opts.cwd, ORGCTL_USER: 'operator@ops.example', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Run & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Polls `check` every 20 ms until it is true; fails after `timeoutMs` (generous: machines are loaded). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  timeoutMs = scaled(timeoutMs);
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

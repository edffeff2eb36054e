import { spawn } from 'node:child_process';
import { BIN } from './cli.js';
import { until } from './proc.js';
import { scaled } from '../support/timing.js';

/**
 * Runs the built CLI on a real pseudo-terminal (util-linux `script`), so standard input, output and error are
 * terminals as a person's would be; `keys` types into it when its output shows `prompt`.
 */
export async function onTerminal(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; prompt?: RegExp; keys?: string; redirect?: string },
): Promise<{ code: number | null; output: string }> {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const command = opts.redirect ? `${quoted} > '${opts.redirect}'` : quoted;
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH, HOME: opts.cwd, ORGCTL_USER: 'operator@ops.example', TERM: 'xterm', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  if (opts.prompt) {
    await until(() => opts.prompt!.test(output) || child.exitCode !== null, `the prompt ${opts.prompt}`);
    child.stdin.write(opts.keys ?? '');
  }
  // A hang must fail the test with what was on the terminal, not time it out in silence.
  const timer = setTimeout(() => child.kill('SIGKILL'), scaled(45_000));
  const code = await done;
  clearTimeout(timer);
  child.stdin.destroy();
  if (code === null) throw new Error(`the terminal session was killed after 45 s; it showed:\n${output}`);
  return { code, output };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { BIN, orgctl } from './cli.js';

export interface Served {
  url: string;
  token: string;
  child: ChildProcess;
  stop: () => Promise<void>;
}

/** Initialises a database and runs the real `orgctl platform serve` on an ephemeral 127.0.0.1 port. */
export async function serve(dir: string, opts: { db?: string; extraArgs?: string[]; init?: boolean } = {}): Promise<Served> {
  const db = join(dir, opts.db ?? 'server.db');
  let token = '';
  if (opts.init !== false) {
    const init = await orgctl(['platform', 'init', '--db', db, '--org', 'bootstrap', '--owner', 'ops@platform.example'], { cwd: dir });
    if (init.code !== 0) throw new Error(`platform init failed: ${init.stderr}`);
    token = init.stdout.trim();
  }
  const child = spawn(process.execPath, [BIN, 'platform', 'serve', '--db', db, '--port', '0', ...(opts.extraArgs ?? [])], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`platform serve exited with ${code} before listening`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { url, token, child, stop };
}

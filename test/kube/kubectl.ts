/** Runs the real kubectl against a KubeApiServer: the fidelity check of the test server by a client nobody here wrote. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeApiServer } from './server.js';
import { scaled } from '../support/timing.js';

export interface KubectlBinary {
  path: string;
  /** Client minor version (32 for v1.32.x): older ones validate on the client and show managedFields. */
  minor: number;
}

/** $ORGCTL_TEST_KUBECTL (to try another version), else kubectl on PATH (CI installs it), else undefined. */
export function findKubectl(): KubectlBinary | undefined {
  let path = process.env.ORGCTL_TEST_KUBECTL;
  if (!path) {
    const r = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' });
    path = r.stdout.trim();
    if (r.status !== 0 || !path) return undefined;
  }
  const v = spawnSync(path, ['version', '--client'], { encoding: 'utf8', timeout: 30_000 });
  if (v.status !== 0) return undefined;
  const m = /Minor:"(\d+)|v1\.(\d+)\./.exec(v.stdout);
  return { path, minor: Number(m?.[1] ?? m?.[2] ?? 0) };
}

export interface KubectlRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Kubectl {
  (args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<KubectlRun>;
  minor: number;
  /** Starts kubectl without waiting: for `delete` or `wait` that block on the server. */
  start(args: string[]): { done: Promise<KubectlRun>; stdout: () => string; stderr: () => string };
  dir: string;
  cleanup(): void;
}

/** A kubectl bound to a server: its own kubeconfig (namespace `namespace`), discovery cache and HOME. */
export function kubectlFor(binary: KubectlBinary, server: KubeApiServer, namespace: string): Kubectl {
  const bin = binary.path;
  const dir = mkdtempSync(join(tmpdir(), 'orgctl-kubectl-'));
  const kubeconfig = server.writeKubeconfig(join(dir, 'kubeconfig'), { namespace });
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, 'cache') };
  const launch = (args: string[], input?: string) => {
    const child = spawn(bin, [...args, `--cache-dir=${join(dir, 'cache')}`], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(input ?? '');
    const done = new Promise<KubectlRun>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    return { child, done, stdout: () => stdout, stderr: () => stderr };
  };
  const run = (async (args: string[], opts: { input?: string; timeoutMs?: number } = {}) => {
    const l = launch(args, opts.input);
    const timer = setTimeout(() => l.child.kill('SIGKILL'), scaled(opts.timeoutMs ?? 60_000));
    try {
      return await l.done;
    } finally {
      clearTimeout(timer);
    }
  }) as Kubectl;
  run.start = (args) => {
    const l = launch(args);
    return { done: l.done, stdout: l.stdout, stderr: l.stderr };
  };
  run.dir = dir;
  run.minor = binary.minor;
  run.cleanup = () => rmSync(dir, { recursive: true, force: true });
  return run;
}

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin/orgctl.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a real child process. */
export function orgctl(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH, HOME: opts.cwd, ORGCTL_USER: 'operator@ops.example', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

const made: string[] = [];
// Registered while the importing test file is collected: its temp dirs go when its tests are done.
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'orgctl-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export interface OrgSpec {
  name: string;
  displayName?: string;
  plan?: 'freemium' | 'premium';
  policy?: 'additive' | 'authoritative';
  integrationsPolicy?: 'additive' | 'authoritative';
  ignore?: string[];
  cache?: { enabled: boolean; podType?: string };
  members: [string, string, Record<string, string>?][];
  integrations?: { name: string; type: string; options?: Record<string, string>; env?: Record<string, string> }[];
}

/** Writes one organization's manifests (Organization, Membership, Integrations) into dir/<org>.yaml. */
export function writeOrg(dir: string, o: OrgSpec): string {
  const lines = [
    'apiVersion: orgctl.dev/v1alpha1',
    'kind: Organization',
    'metadata:',
    `  name: ${o.name}`,
    'spec:',
    ...(o.displayName ? [`  displayName: ${JSON.stringify(o.displayName)}`] : []),
    ...(o.plan ? [`  plan: ${o.plan}`] : []),
    ...(o.cache ? ['  cache:', `    enabled: ${o.cache.enabled}`, ...(o.cache.podType ? [`    podType: ${o.cache.podType}`] : [])] : []),
    '  members:',
    `    policy: ${o.policy ?? 'additive'}`,
    ...(o.ignore ? ['    ignore:', ...o.ignore.map((g) => `      - ${JSON.stringify(g)}`)] : []),
    '  integrations:',
    `    policy: ${o.integrationsPolicy ?? 'additive'}`,
    '---',
    'apiVersion: orgctl.dev/v1alpha1',
    'kind: Membership',
    'metadata:',
    `  name: ${o.name}-people`,
    'spec:',
    `  organization: ${o.name}`,
    `  members:${o.members.length ? '' : ' []'}`,
    ...o.members.flatMap(([email, role, profile]) => [
      `    - email: ${email}`,
      `      role: ${role}`,
      ...Object.entries(profile ?? {}).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`),
    ]),
  ];
  for (const i of o.integrations ?? []) {
    lines.push(
      '---',
      'apiVersion: orgctl.dev/v1alpha1',
      'kind: Integration',
      'metadata:',
      `  name: ${o.name}-${i.name}`,
      'spec:',
      `  organization: ${o.name}`,
      `  name: ${i.name}`,
      `  type: ${i.type}`,
      ...(i.options ? ['  options:', ...Object.entries(i.options).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)] : []),
      ...(i.env ? ['  credentialsRef:', '    env:', ...Object.entries(i.env).map(([k, v]) => `      ${k}: ${v}`)] : []),
    );
  }
  const file = join(dir, `${o.name}.yaml`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/**
 * Each command loads only what it uses (issue 22): checked on the built CLI, as a real process, by recording
 * every module it loads. The CRD validators come compiled from the build (ajv standalone): ajv's compiler is
 * not loaded, nor `yaml` (loaded to place problems only), nor the HTTP server or client for the embedded
 * platform.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, tempDir } from './cli.js';

const TRACE = join(ROOT, 'test/helpers/trace-loads.mjs');

const MANIFESTS = `apiVersion: orgctl.dev/v1alpha1
kind: Organization
metadata:
  name: tiny
spec:
  plan: freemium
---
apiVersion: orgctl.dev/v1alpha1
kind: Membership
metadata:
  name: tiny-people
spec:
  organization: tiny
  members:
    - email: a@tiny.example
      role: owner
`;

/** The packages (and orgctl's own modules) a run of the CLI loaded. */
function loads(args: string[], dir: string): { packages: Set<string>; modules: string[]; status: number | null } {
  const out = join(dir, 'loads.json');
  const r = spawnSync(process.execPath, ['--import', TRACE, BIN, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir, ORGCTL_USER: 'a@tiny.example', ORGCTL_TRACE_LOADS: out },
    encoding: 'utf8',
  });
  const { esm, cjs } = JSON.parse(readFileSync(out, 'utf8')) as { esm: string[]; cjs: string[] };
  const all = [...esm.map((u) => (u.startsWith('file://') ? decodeURIComponent(new URL(u).pathname) : u)), ...cjs];
  const packages = new Set<string>();
  for (const path of all) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(path);
    if (m) packages.add(m[1] === 'ajv' && m[2]!.startsWith('dist/runtime/') ? 'ajv/dist/runtime' : m[1]!);
  }
  return { packages, modules: all.filter((p) => p.includes('/dist/')).map((p) => p.slice(p.indexOf('/dist/') + 1)), status: r.status };
}

describe('start-up loads only what the command uses', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'tiny.yaml'), MANIFESTS);
  writeFileSync(join(dir, 'bad.yaml'), MANIFESTS.replace('plan: freemium', 'plan: gold'));

  it('validate of valid manifests: the compiled validators, no ajv compiler, no yaml, no server, no SQLite', () => {
    const r = loads(['validate', '-f', 'tiny.yaml'], dir);
    expect(r.status).toBe(0);
    expect(r.modules).toContain('dist/manifest/compiled-validators.js');
    for (const p of ['ajv', 'yaml', 'fastify', 'undici', 'better-sqlite3', 'better-sqlite3-napi']) expect(r.packages, p).not.toContain(p);
    expect(r.modules.filter((m) => m.startsWith('dist/server/'))).toEqual([]);
  });

  it('validate with a problem loads yaml, to place it', () => {
    const r = loads(['validate', '-f', 'bad.yaml'], dir);
    expect(r.status).toBe(1);
    expect(r.packages).toContain('yaml');
    expect(r.packages).not.toContain('ajv');
  });

  it('plan with no embedded database yet: neither SQLite nor the store, no HTTP client, no ajv compiler, no yaml', () => {
    const r = loads(['plan', '-f', 'tiny.yaml'], dir);
    expect(r.status).toBe(0);
    expect(r.packages).toContain('js-yaml');
    for (const p of ['ajv', 'yaml', 'fastify', 'undici', 'better-sqlite3', 'better-sqlite3-napi']) expect(r.packages, p).not.toContain(p);
    expect(r.modules.filter((m) => m.startsWith('dist/server/'))).toEqual([]);
  });

  it('plan on an embedded database: SQLite and the store, no HTTP server or client, no ajv compiler, no yaml', () => {
    const applied = spawnSync(process.execPath, [BIN, 'apply', '-f', 'tiny.yaml', '--yes'], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir, ORGCTL_USER: 'a@tiny.example' } });
    expect(applied.status, String(applied.stderr)).toBe(0);
    const r = loads(['plan', '-f', 'tiny.yaml'], dir);
    expect(r.status).toBe(0);
    // The binding is better-sqlite3 on Node 20 and its Node-API build (aliased better-sqlite3-napi) from 22 on.
    expect([...r.packages].filter((p) => p.startsWith('better-sqlite3')).length).toBe(1);
    for (const p of ['ajv', 'yaml', 'fastify', 'undici']) expect(r.packages, p).not.toContain(p);
    expect(r.modules.filter((m) => m.startsWith('dist/server/http/'))).toEqual([]);
    expect(r.modules).not.toContain('dist/platform/builtin/http.js');
  });
});

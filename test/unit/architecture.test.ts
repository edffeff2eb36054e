import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layering, checked on the sources: every import points down, and nothing imports in a circle.
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

interface Imports {
  /** Modules of this package imported at load time (`import ... from`), as paths relative to src/. */
  local: string[];
  /** Packages imported at load time (`fastify`, `undici`, ...). */
  packages: string[];
  /** Modules imported only when needed (`await import(...)`). */
  lazy: string[];
}

const graph = new Map<string, Imports>();
for (const file of sources(SRC)) {
  const text = readFileSync(file, 'utf8');
  const from = (spec: string) => relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts');
  const imports: Imports = { local: [], packages: [], lazy: [] };
  // `import type` disappears from the compiled code but is still an arrow in the design, so it counts.
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gms)) {
    const spec = m[1]!;
    if (spec.startsWith('.')) imports.local.push(from(spec));
    else if (!spec.startsWith('node:') && !/^import\s+type\s/.test(m[0])) imports.packages.push(spec.split('/')[0]!.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
  }
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) if (m[1]!.startsWith('.')) imports.lazy.push(from(m[1]!));
  graph.set(relative(SRC, file), imports);
}

const layer = (path: string) => path.split('/')[0]!;

/** Which layers each layer may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  util: [],
  model: [],
  manifest: ['model', 'util'],
  server: ['model', 'util'],
  platform: ['model', 'server', 'util'],
  plan: ['model', 'platform', 'manifest', 'util'],
  controller: ['model', 'manifest', 'platform', 'plan', 'util'],
  cli: ['model', 'manifest', 'platform', 'plan', 'controller', 'server', 'util'],
};

describe('architecture', () => {
  it('reads every source file', () => {
    expect(graph.size).toBeGreaterThan(50);
    for (const { local, lazy } of graph.values()) for (const target of [...local, ...lazy]) expect(graph.has(target), target).toBe(true);
  });

  it('every import points down the layers', () => {
    const wrong: string[] = [];
    for (const [file, { local, lazy }] of graph) {
      const own = layer(file);
      for (const target of [...local, ...lazy]) {
        const to = layer(target);
        if (to !== own && !ALLOWED[own]?.includes(to)) wrong.push(`${file} -> ${target}`);
        // The platform adapters may use the built-in platform's store and service, never its HTTP server.
        if (own === 'platform' && target.startsWith('server/http/')) wrong.push(`${file} -> ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('no module imports itself in a circle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...stack.slice(stack.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      stack.push(file);
      for (const next of graph.get(file)?.local ?? []) visit(next);
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file);
    expect(cycles).toEqual([]);
  });

  it('validate loads neither the HTTP server, the HTTP client nor SQLite at start-up', () => {
    const loaded = new Set<string>();
    const packages = new Set<string>();
    const walk = (file: string) => {
      if (loaded.has(file)) return;
      loaded.add(file);
      for (const p of graph.get(file)?.packages ?? []) packages.add(p);
      for (const next of graph.get(file)?.local ?? []) walk(next);
    };
    for (const entry of ['cli/main.ts', 'cli/commands/validate.ts']) walk(entry);
    expect([...packages].filter((p) => ['fastify', 'undici', 'better-sqlite3'].includes(p))).toEqual([]);
    expect([...loaded].filter((f) => f.startsWith('server/'))).toEqual([]);
  });
});

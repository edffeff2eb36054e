/**
 * Property-based tests of the manifest loader against hostile input (issue 5): random and mutated manifests,
 * YAML and JSON bombs, huge documents and bytes that are not UTF-8. Whatever it is fed, the loader must return
 * diagnostics (never throw, never crash the process), every diagnostic must say where (file, line, column) and
 * what, and valid input must yield none.
 *
 * Seeds are fixed so that a failure replays; fast-check prints the seed and the shrunk counterexample.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Diagnostic } from '../../src/manifest/diagnostics.js';
import { loadManifests, type LoadResult } from '../../src/manifest/load.js';
import { readSources, type Source } from '../../src/manifest/sources.js';

/** Fixed, so that a failure replays; ORGCTL_FC_SEED explores others. */
const SEED = Number(process.env.ORGCTL_FC_SEED ?? 20_240_505);
const ROOT = join(import.meta.dirname, '..', '..');
/** A case slower than this is a hang in the making (generous: a loaded 2-core machine must never reach it). */
const CASE_CAP_MS = 20_000;

const enc = (s: string) => new TextEncoder().encode(s);
const src = (name: string, text: string | Uint8Array): Source => ({ name, bytes: typeof text === 'string' ? enc(text) : text, dir: ROOT });

/** Loads, and checks what must hold for any input: no throw, bounded time, and well-formed diagnostics. */
function load(sources: Source[], opts: { strict?: boolean } = {}): LoadResult {
  const started = Date.now();
  const result = loadManifests(sources, opts);
  const took = Date.now() - started;
  expect(took, `loading took ${took} ms`).toBeLessThan(CASE_CAP_MS);
  expectWellFormed(result.diagnostics, sources);
  for (const n of result.notes) expect(typeof n.message === 'string' && n.message.length > 0).toBe(true);
  return result;
}

/** Every diagnostic names one of the files, a real place in it (1-based line and column) and a message. */
function expectWellFormed(diagnostics: Diagnostic[], sources: Source[]): void {
  const byName = new Map(sources.map((s) => [s.name, s]));
  const shape = new Map<string, { lines: number; longest: number }>();
  for (const d of diagnostics) {
    const shown = JSON.stringify(d).slice(0, 500);
    const source = byName.get(d.file);
    expect(source, `diagnostic for an unknown file: ${shown}`).toBeDefined();
    expect(Number.isInteger(d.line) && d.line >= 1, `line: ${shown}`).toBe(true);
    expect(Number.isInteger(d.column) && d.column >= 1, `column: ${shown}`).toBe(true);
    expect(typeof d.path, shown).toBe('string');
    expect(typeof d.message === 'string' && d.message.trim().length > 0, `message: ${shown}`).toBe(true);
    // The place exists in the file. Generous bounds: parsers disagree on whether a lone CR ends a line.
    let s = shape.get(d.file);
    if (!s) {
      const text = new TextDecoder('utf-8').decode(source!.bytes);
      let longest = 0;
      for (const l of text.split('\n')) longest = Math.max(longest, l.length);
      shape.set(d.file, (s = { lines: text.split(/\r\n|\r|\n/).length, longest }));
    }
    expect(d.line, `line beyond the end of the file: ${shown}`).toBeLessThanOrEqual(s.lines);
    expect(d.column, `column beyond the longest line: ${shown}`).toBeLessThanOrEqual(s.longest + 1);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Valid manifests

type Doc = Record<string, unknown>;
const API = 'orgctl.dev/v1alpha1';
const ROLES = ['owner', 'admin', 'member', 'worker'] as const;
const TYPES = ['s3', 'gcs', 'azureblob', 'minio', 'key_value', 'aws-sts', 'aws-cross', 'gcp-cross', 'private-registry'] as const;

const dnsName = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
const envVar = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,20}$/);
const emailArb = fc
  .tuple(fc.stringMatching(/^[a-z0-9_+-]{1,12}(\.[a-z0-9_+-]{1,8})?$/), fc.stringMatching(/^[a-z0-9]{1,10}$/), fc.stringMatching(/^[a-z]{2,6}$/))
  .map(([local, host, tld]) => `${local}@${host}.${tld}`);
const textArb = fc.string({ unit: 'grapheme', maxLength: 40 });

/** A consistent set of manifests: organizations, memberships of declared ones, integrations with credentials. */
const validWorld: fc.Arbitrary<Doc[]> = fc
  .record({
    orgs: fc.uniqueArray(dnsName, { minLength: 1, maxLength: 3 }),
    people: fc.uniqueArray(fc.tuple(emailArb, fc.constantFrom(...ROLES), textArb), { minLength: 0, maxLength: 12, selector: ([e]) => e }),
    integrations: fc.array(fc.tuple(dnsName, fc.constantFrom(...TYPES), envVar, fc.nat()), { maxLength: 4 }),
    displayName: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
    plan: fc.constantFrom('freemium', 'premium'),
    authoritative: fc.boolean(),
  })
  .map(({ orgs, people, integrations, displayName, plan, authoritative }) => {
    const docs: Doc[] = [];
    orgs.forEach((org, i) => {
      // Only the first organization gets members; it is authoritative only when one of them is an owner.
      const owner = i === 0 && people.some(([, role]) => role === 'owner');
      docs.push({
        apiVersion: API,
        kind: 'Organization',
        metadata: { name: org },
        spec: { displayName, plan, members: { policy: authoritative && owner ? 'authoritative' : 'additive' }, cache: { enabled: true, podType: 'medium' } },
      });
    });
    if (people.length) {
      docs.push({
        apiVersion: API,
        kind: 'Membership',
        metadata: { name: `${orgs[0]}-team` },
        spec: {
          organization: orgs[0],
          role: 'member',
          members: people.map(([email, role, description]) => ({ email, role, firstName: 'F', description, projects: [{ project: 'p', role: 'annotator' }] })),
        },
      });
    }
    const seen = new Set<string>();
    integrations.forEach(([name, type, variable, pick]) => {
      const org = orgs[pick % orgs.length]!;
      if (seen.has(`${org}/${name}`)) return;
      seen.add(`${org}/${name}`);
      const credentialFree = type === 'aws-cross' || type === 'gcp-cross';
      docs.push({
        apiVersion: API,
        kind: 'Integration',
        metadata: { name: `${org}-${name}-${seen.size}` },
        spec: {
          organization: org,
          name,
          type,
          options: { bucket: name, region: 'eu-west-1' },
          ...(credentialFree ? {} : { credentialsRef: { env: { accessKeyId: variable } } }),
        },
      });
    });
    return docs;
  });

/** How documents are laid out in files: one YAML stream, a `kind: List`, one file each (YAML or JSON). */
type Layout = 'stream' | 'list' | 'files-yaml' | 'files-json';
const layoutArb = fc.constantFrom<Layout>('stream', 'list', 'files-yaml', 'files-json');

function serialize(docs: unknown[], layout: Layout): Source[] {
  switch (layout) {
    case 'stream':
      return [src('all.yaml', docs.map((d) => stringify(d)).join('---\n'))];
    case 'list':
      return [src('list.yaml', stringify({ apiVersion: 'v1', kind: 'List', items: docs }))];
    case 'files-yaml':
      return docs.map((d, i) => src(`d${i}.yaml`, `# document ${i}\n${stringify(d)}`));
    case 'files-json':
      return docs.map((d, i) => src(`d${i}.json`, JSON.stringify(d, null, i % 2 ? 2 : undefined) ?? 'null'));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Mutations

/** Values of every type, including unicode, control characters, huge and odd numbers, and nesting. */
const hostileScalar = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: fc.constantFrom(...'[]{}:-#&*!|>\'"%@`,?\t\n\r\u0000\u0085\u2028\ufeff ä€😀'.split('')), maxLength: 20 }),
  fc.constantFrom('', '~', 'null', 'true', 'no', '0x1F', '1e400', '.inf', '-.nan', '2024-01-01', '<<', '__proto__', 'constructor', 'toString'),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileScalar },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(hostileScalar, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), hostileScalar, { maxKeys: 4 }) },
);
const hostileKey = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('apiVersion', 'kind', 'metadata', 'spec', 'name', 'members', 'email', 'role', 'credentialsRef', 'secretName', 'env', 'file', 'keys', 'options', 'secret', 'token', 'items', '__proto__', 'constructor'),
);

interface Mutation {
  op: 'delete' | 'replace' | 'add' | 'rename' | 'duplicate';
  steps: number[];
  value: unknown;
  key: string;
}
const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom<Mutation['op']>('delete', 'replace', 'add', 'rename', 'duplicate'),
  steps: fc.array(fc.nat(), { maxLength: 7 }),
  value: hostileValue,
  key: hostileKey,
});

const isContainer = (v: unknown): v is Record<string, unknown> | unknown[] => v !== null && typeof v === 'object';

/** Sets an own property, even `__proto__` (as JSON.parse and js-yaml do), never the prototype. */
function setOwn(target: object, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (!isContainer(v)) return v;
  const out = {};
  for (const k of Object.keys(v)) setOwn(out, k, clone((v as Record<string, unknown>)[k]));
  return out;
}

/** Applies a mutation somewhere in the tree: `steps` choose a child at each level (modulo the child count). */
function mutate(root: unknown, m: Mutation): unknown {
  const path: (string | number)[] = [];
  let node = root;
  for (const step of m.steps) {
    if (!isContainer(node)) break;
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) break;
    const k = keys[step % keys.length]!;
    path.push(k);
    node = (node as Record<string | number, unknown>)[k];
  }
  if (path.length === 0) {
    if (m.op === 'replace') return m.value;
    if (m.op === 'add' && isContainer(root)) {
      if (Array.isArray(root)) root.push(m.value);
      else setOwn(root, m.key, m.value);
    }
    return root;
  }
  let parent = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const key = path[path.length - 1]!;
  switch (m.op) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 'replace':
      setOwn(parent, key, m.value);
      break;
    case 'add':
      if (Array.isArray(parent)) parent.push(m.value);
      else setOwn(parent, m.key, m.value);
      break;
    case 'rename':
      if (!Array.isArray(parent)) {
        const v = parent[key];
        delete parent[key];
        setOwn(parent, m.key, v);
      }
      break;
    case 'duplicate':
      if (Array.isArray(parent)) parent.push(clone(parent[key]));
      else setOwn(parent, `${String(key)}${m.key}`, clone(parent[key]));
      break;
  }
  return root;
}

/** The example organizations, as documents: the realistic starting point of mutations. */
function exampleSources(): Source[] {
  const { sources, diagnostics } = readSources(['examples'], { cwd: ROOT });
  expect(diagnostics).toEqual([]);
  return sources;
}

/** Character-level edits of a text: what a careless editor (or an attacker) does to a YAML file. */
const textEditArb = fc.record({
  at: fc.nat(),
  remove: fc.nat({ max: 12 }),
  insert: fc.oneof(
    fc.string({ unit: fc.constantFrom(...'[]{}:-#&*!|>\'"%@`,? \t\n\r'.split('')), maxLength: 8 }),
    fc.string({ unit: 'binary', maxLength: 8 }),
    fc.constantFrom('\n---\n', '\n- ', ': ', '&a ', '*a', '!!binary ', '<<: *a', '\ufeff', '\u0000', '"', "'", '\t'),
  ),
});
function applyEdits(text: string, edits: { at: number; remove: number; insert: string }[]): string {
  let t = text;
  for (const e of edits) {
    const at = t.length ? e.at % (t.length + 1) : 0;
    t = t.slice(0, at) + e.insert + t.slice(at + e.remove);
  }
  return t;
}

// ---------------------------------------------------------------------------------------------------------

beforeAll(() => {
  fc.configureGlobal({ seed: SEED, endOnFailure: false });
  loadManifests([]); // compile the schemas once, outside any timed case
});

describe('loader: valid input', () => {
  it('the examples load with no diagnostics', () => {
    const result = load(exampleSources());
    expect(result.diagnostics).toEqual([]);
    expect(result.objects.length).toBeGreaterThan(5);
  });

  it('any consistent set of valid manifests, in any layout, loads with no diagnostics', () => {
    fc.assert(
      fc.property(validWorld, layoutArb, (docs, layout) => {
        const result = load(serialize(docs, layout));
        expect(result.diagnostics, JSON.stringify(result.diagnostics).slice(0, 1000)).toEqual([]);
        expect(result.objects).toHaveLength(docs.length);
      }),
      { numRuns: 150 },
    );
  });
});

describe('loader: hostile input never throws and every diagnostic says where and what', () => {
  it('mutated valid manifests (deleted, replaced, renamed, added, duplicated fields)', () => {
    fc.assert(
      fc.property(validWorld, fc.array(mutationArb, { minLength: 1, maxLength: 6 }), layoutArb, (docs, mutations, layout) => {
        let mutated: unknown = clone(docs);
        for (const m of mutations) mutated = mutate(mutated, m);
        const list = Array.isArray(mutated) ? mutated : [mutated];
        const sources = serialize(list, layout);
        load(sources);
        load(sources, { strict: true });
      }),
      { numRuns: 300 },
    );
  });

  it('mutated example manifests, as YAML and as JSON', () => {
    const examples = exampleSources();
    const parsed = examples.map((s) => ({ name: s.name, docs: loadManifests([s]).objects.map((o) => o.object as unknown) }));
    fc.assert(
      fc.property(fc.nat(), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), fc.boolean(), (pick, mutations, asJson) => {
        const file = parsed[pick % parsed.length]!;
        let docs: unknown = clone(file.docs);
        for (const m of mutations) docs = mutate(docs, m);
        const list = Array.isArray(docs) ? docs : [docs];
        load(asJson ? list.map((d, i) => src(`${file.name}.${i}.json`, JSON.stringify(d) ?? 'null')) : [src(file.name, list.map((d) => stringify(d)).join('---\n'))]);
      }),
      { numRuns: 150 },
    );
  });

  it('character-level edits of the example files (syntax errors, unclosed quotes and brackets, tabs, aliases)', () => {
    const examples = exampleSources().map((s) => ({ name: s.name, text: new TextDecoder().decode(s.bytes) }));
    fc.assert(
      fc.property(fc.nat(), fc.array(textEditArb, { minLength: 1, maxLength: 6 }), fc.boolean(), (pick, edits, asJson) => {
        const file = examples[pick % examples.length]!;
        const text = asJson ? JSON.stringify(loadManifests([src(file.name, file.text)]).objects.map((o) => o.object)[0] ?? {}, null, 1) : file.text;
        load([src(asJson ? 'edited.json' : file.name, applyEdits(text, edits))]);
      }),
      { numRuns: 300 },
    );
  });

  it('random text in YAML and JSON files', () => {
    const yamlish = fc.string({ unit: fc.constantFrom(...'ab:-[]{}#&*!|>\'",?% \t\n\r0.~@`\u00e4\u2028'.split('')), maxLength: 300 });
    fc.assert(
      fc.property(fc.oneof(yamlish, fc.string({ unit: 'binary', maxLength: 200 })), fc.constantFrom('r.yaml', 'r.yml', 'r.json', 'noext'), (text, name) => {
        load([src(name, text)]);
      }),
      { numRuns: 400 },
    );
  });

  it('random bytes (mostly not UTF-8), also through standard input', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      // Valid text with a few bytes broken: the first bad byte must be placed right.
      fc.tuple(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0x80, max: 0xff })), { minLength: 1, maxLength: 3 })).map(([t, bad]) => {
        const b = enc(t);
        const out = new Uint8Array(b.length + bad.length);
        out.set(b);
        bad.forEach(([at, v], i) => out.set([v], b.length ? at % (b.length + i) : i));
        return out;
      }),
    );
    fc.assert(
      fc.property(bytes, fc.constantFrom('b.yaml', 'b.json'), (b, name) => {
        const result = load([src(name, b)]);
        let valid = true;
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(b);
        } catch {
          valid = false;
        }
        if (!valid) expect(result.diagnostics.map((d) => d.message).join('\n')).toMatch(/not valid UTF-8/);
        const read = readSources(['-'], { stdin: () => b });
        expect(read.diagnostics).toEqual([]);
        load(read.sources);
      }),
      { numRuns: 400 },
    );
  });
});

describe('loader: bombs and huge input are refused or read, in bounded time', () => {
  const org = (spec: string) => `apiVersion: ${API}\nkind: Organization\nmetadata:\n  name: bomb\nspec:\n${spec}`;
  const jsonOrg = (x: string) => `{"apiVersion":"${API}","kind":"Integration","metadata":{"name":"bomb"},"spec":{"organization":"bomb","name":"b","type":"aws-cross","options":{"x":${x}}}}`;

  /** Nesting `depth` levels deep in every syntax YAML and JSON have (block styles capped: their indentation grows as depth squared). */
  const nestings = (depth: number): [string, string][] => {
    const block = Math.min(depth, 2000);
    return [
      ['flow-seq.yaml', '['.repeat(depth) + ']'.repeat(depth)],
      ['flow-map.yaml', '{a: '.repeat(depth) + '1' + '}'.repeat(depth)],
      ['unclosed.yaml', '['.repeat(depth)],
      ['unclosed-map.yaml', '{'.repeat(depth)],
      ['block-seq.yaml', Array.from({ length: block }, (_, i) => `${'  '.repeat(i)}-`).join('\n')],
      ['compact-seq.yaml', '- '.repeat(depth) + 'x'],
      ['block-map.yaml', Array.from({ length: block }, (_, i) => `${' '.repeat(i)}a:`).join('\n')],
      ['in-spec.yaml', org(`  x: ${'['.repeat(depth)}${']'.repeat(depth)}\n`)],
      ['array.json', '['.repeat(depth) + ']'.repeat(depth)],
      ['object.json', '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)],
      ['in-options.json', jsonOrg('['.repeat(depth) + ']'.repeat(depth))],
      ['list.json', `{"apiVersion":"v1","kind":"List","items":[`.repeat(depth) + ']}'.repeat(depth)],
    ];
  };

  it.each([100, 1_000, 10_000, 100_000])('nesting %i levels deep is refused, whatever the syntax', (depth) => {
    // Twice each: a second deeply nested document once aborted the process (V8 ran out of room compiling a
    // regular expression deep in the stack of the parser that locates diagnostics).
    for (let round = 0; round < 2; round++) {
      for (const [name, text] of nestings(depth)) {
        const result = load([src(name, text)]);
        const messages = result.diagnostics.map((d) => d.message).join('\n');
        expect(result.diagnostics.length, `${name}: ${messages.slice(0, 300)}`).toBeGreaterThan(0);
        if (!name.startsWith('unclosed')) expect(messages, name).toMatch(/nesting exceeded maxDepth \(64\)/);
      }
    }
  });

  it('random nesting (brackets, braces, dashes and keys in any order) never throws', () => {
    const piece = fc.constantFrom('[', '{', '- ', 'a: ', '{"a":', '[[', '\n  ', ']', '}', ', ', '? ');
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 400 }), fc.nat({ max: 3000 }), fc.constantFrom('n.yaml', 'n.json'), (pieces, repeat, name) => {
        const text = pieces.join('').repeat(1 + Math.floor(repeat / pieces.length));
        load([src(name, text)]);
      }),
      { numRuns: 100 },
    );
  });

  /** "Billion laughs" under spec: each level is `width` aliases of the one before; the last is used once. */
  function laughs(levels: number, width: number, style: 'seq' | 'map'): string {
    const lines = ['    a0: &a0 [lol]'];
    for (let i = 1; i <= levels; i++) {
      const refs = Array.from({ length: width }, () => `*a${i - 1}`);
      lines.push(`    a${i}: &a${i} ${style === 'seq' ? `[${refs.join(', ')}]` : `{${refs.map((r, k) => `k${k}: ${r}`).join(', ')}}`}`);
    }
    return org(`  bomb:\n${lines.join('\n')}\n  top: *a${levels}\n`);
  }

  it.each([
    [9, 10, 'seq'],
    [30, 2, 'seq'],
    [12, 10, 'map'],
    [60, 2, 'map'],
  ] as const)('an alias bomb of %i levels x %i is refused (%s)', (levels, width, style) => {
    const result = load([src('laughs.yaml', laughs(levels, width, style))]);
    expect(result.diagnostics.map((d) => d.message).join('\n')).toMatch(/alias bomb/);
  });

  it('random alias graphs never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 40 }), fc.boolean(), (levels, asMap) => {
        const lines = ['    a0: &a0 [x]'];
        levels.forEach((refs, i) => {
          const items = refs.map((r) => `*a${r % (i + 1)}`);
          lines.push(`    a${i + 1}: &a${i + 1} ${asMap ? `{${items.map((x, k) => `k${k}: ${x}`).join(', ')}}` : `[${items.join(', ')}]`}`);
        });
        load([src('aliases.yaml', org(`  z:\n${lines.join('\n')}\n`))]);
      }),
      { numRuns: 100 },
    );
  });

  it('a 4 MiB scalar, key, line and comment', () => {
    const big = 'x'.repeat(4 * 1024 * 1024);
    const cases: [string, string, boolean][] = [
      ['scalar.yaml', org(`  displayName: ${big}\n`), false],
      ['quoted.yaml', org(`  plan: "${big}"\n`), false],
      ['key.yaml', org(`  ${big}: 1\n`), false],
      ['line.yaml', `{apiVersion: ${API}, kind: Organization, metadata: {name: n}, spec: {members: {ignore: [${'"a@b.c", '.repeat(400_000)}"z"]}}}`, true],
      ['comment.yaml', `# ${big}\n${org('  plan: premium\n')}`, true],
      ['name.json', JSON.stringify({ apiVersion: API, kind: 'Organization', metadata: { name: big }, spec: {} }), false],
    ];
    for (const [name, text, valid] of cases) {
      const result = load([src(name, text)]);
      if (valid) expect(result.diagnostics, name).toEqual([]);
      else expect(result.diagnostics.length, name).toBeGreaterThan(0);
      // Messages and paths quote a huge value or key cut short, not in full.
      for (const d of result.diagnostics) expect(d.message.length + d.path.length, `${name}: ${d.message.slice(0, 200)}`).toBeLessThan(600);
    }
  });

  it('20,000 documents in one file, valid and not', () => {
    const docs: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      docs.push(`apiVersion: ${API}\nkind: Organization\nmetadata:\n  name: org-${i}\nspec:\n  plan: ${i % 1000 === 999 ? 'gold' : 'premium'}\n`);
    }
    const result = load([src('many.yaml', docs.join('---\n'))]);
    expect(result.objects).toHaveLength(20_000);
    expect(result.diagnostics).toHaveLength(20);
    // Document i starts at line 7i + 1 (six lines and a `---`); its plan is on its sixth line.
    expect(result.diagnostics[0]).toMatchObject({ line: 7 * 999 + 6, column: 9, path: 'spec.plan' });
    const empty = load([src('empty.yaml', '---\n'.repeat(50_000))]);
    expect(empty.diagnostics).toEqual([]);
  });

  it('a file over the size limit is refused before it is read', () => {
    const read = readSources(['-'], { stdin: () => new Uint8Array(64 * 1024 * 1024 + 1) });
    expect(read.sources).toEqual([]);
    expect(read.diagnostics).toHaveLength(1);
    expect(read.diagnostics[0]!.message).toMatch(/limit/);
  });
});

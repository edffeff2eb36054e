import { CORE_SCHEMA, loadAll, YAMLException, type LoadOptions as LoadOptions_ } from 'js-yaml';
import { sortDiagnostics, type Diagnostic, type Note } from './diagnostics.js';
import { LineIndex, SourceLocator } from './locate.js';
import { GROUP, type Loaded, type Manifest, type SourceRef } from './model.js';
import { formatPath, type FieldPath } from './path.js';
import { findInlineSecrets } from './secrets.js';
import { describeUnclosed, findUnclosed, isUnclosedReason } from './unclosed.js';
import type { Finding } from './finding.js';
import { checkSemantics, expiredEntries } from './semantics.js';
import { decodeSource, type Source } from './sources.js';
import { closest } from './suggest.js';
import { SchemaValidator } from './validate-schema.js';


export interface LoadOptions {
  /** Documents of other kinds are errors instead of skipped with a note. */
  strict?: boolean;
  /** The time expiries are judged at (entries already expired are noted); default: now. */
  now?: number;
  /**
   * Some inputs could not be read (refused, unreadable): what the set as a whole lacks (an Organization
   * referred to, an owner) may be in them, so it is not reported, only what is wrong in what was read.
   */
  incomplete?: boolean;
}

export interface LoadResult {
  objects: Loaded[];
  diagnostics: Diagnostic[];
  notes: Note[];
  /** Number of files read. */
  files: number;
}

/** YAML nesting deeper than this is refused (no manifest needs it; deep nesting is a parser attack). */
const MAX_DEPTH = 64;

let validator: SchemaValidator | undefined;
function schemaValidator(): SchemaValidator {
  validator ??= SchemaValidator.forCrds();
  return validator;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'a mapping' : `a ${typeof v}`;
}

/**
 * Counts nodes as if every alias were expanded, stopping at `limit`. A few aliases can stand for billions of
 * nodes ("billion laughs"); everything after loading walks the expanded tree, so it is bounded here.
 */
function expandedSizeExceeds(root: unknown, limit: number): boolean {
  let count = 0;
  const stack: unknown[] = [root];
  while (stack.length) {
    const v = stack.pop();
    if (++count > limit) return true;
    if (v !== null && typeof v === 'object') {
      for (const child of Array.isArray(v) ? v : Object.values(v as object)) stack.push(child);
    }
  }
  return false;
}

/**
 * Offset of the bracket that opens nesting level `limit + 1` in JSON text that parsed, if any. JSON.parse
 * takes any depth, but everything after it (validation, `kind: List`, locating diagnostics) recurses.
 */
function jsonTooDeep(text: string, limit: number): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: skip to its closing quote, over escapes
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

/** Characters js-yaml refuses anywhere in a stream (its PATTERN_NON_PRINTABLE, plus NUL), globally. */
const NON_PRINTABLE = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:[^\uD800-\uDBFF]|^)[\uDC00-\uDFFF]/g;

/**
 * Where the non-printable character js-yaml refused is: it reports the end of the scalar holding it (past the
 * end of the file when that is the last line), or for NUL a bare offset as the column of line 1.
 */
function nonPrintableAt(text: string, before: number): { offset: number; char: string } | undefined {
  let found: { offset: number; char: string } | undefined;
  for (const m of text.matchAll(NON_PRINTABLE)) {
    // The lone-surrogate alternative matches the character before it too.
    const offset = m[0].length === 2 ? m.index + 1 : m.index;
    if (found && offset > before) break;
    found = { offset, char: text[offset]! };
  }
  return found;
}

function parseDocuments(source: Source, text: string): { docs: unknown[] } | { line: number; column: number; message: string } {
  if (source.name.endsWith('.json')) {
    try {
      const doc: unknown = JSON.parse(text);
      const deep = jsonTooDeep(text, MAX_DEPTH);
      if (deep !== undefined) return { ...new LineIndex(text).position(deep), message: `JSON nesting exceeded maxDepth (${MAX_DEPTH})` };
      return { docs: [doc] };
    } catch (err) {
      // A .json file is JSON: the YAML parser would accept what JSON does not (trailing commas, comments).
      const message = (err as Error).message;
      const at = /at position (\d+)/.exec(message);
      const { line, column } = new LineIndex(text).position(at ? Number(at[1]) : text.length);
      return { line, column, message: `JSON syntax error: ${message.replace(/ in JSON at position \d+.*$/, '').replace(/ \(line \d+ column \d+\)$/, '')}` };
    }
  }
  try {
    // The YAML 1.2 core schema, as Kubernetes reads manifests: `2024-01-01` stays a string, not a Date.
    // maxDepth exists in js-yaml 4.1.1+ but is missing from its type definitions.
    return { docs: loadAll(text, undefined, { filename: source.name, schema: CORE_SCHEMA, maxDepth: MAX_DEPTH } as LoadOptions_) };
  } catch (err) {
    if (err instanceof YAMLException) {
      const mark = err.mark;
      const unclosed = isUnclosedReason(err.reason) ? findUnclosed(text, mark ? mark.position : text.length) : undefined;
      if (unclosed) {
        return {
          ...new LineIndex(text).position(unclosed.offset),
          message: `YAML syntax error: ${describeUnclosed(unclosed)}`,
        };
      }
      if (/non-printable characters|null byte/.test(err.reason)) {
        const bad = nonPrintableAt(text, mark ? mark.position : text.length);
        if (bad) {
          const code = `U+${bad.char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
          return { ...new LineIndex(text).position(bad.offset), message: `YAML syntax error: ${err.reason} (${code})` };
        }
      }
      if (!mark) return { line: 1, column: 1, message: `YAML syntax error: ${err.reason}` };
      if (mark.position >= text.length) {
        // At the end of the stream js-yaml points after the newline it appends: a line the file does not have.
        return { ...new LineIndex(text).position(text.length), message: `YAML syntax error: ${err.reason}` };
      }
      return { line: mark.line + 1, column: mark.column + 1, message: `YAML syntax error: ${err.reason}` };
    }
    return { line: 1, column: 1, message: `cannot parse: ${(err as Error).message}` };
  }
}

/**
 * Reads manifests: parses every document, checks apiVersion/kind, validates each object against its CRD's
 * schema, then checks the set as a whole (references, duplicates, owners). Reports every problem it finds, each
 * at its file, line and column; never throws on bad input.
 */
export function loadManifests(sources: Source[], opts: LoadOptions = {}): LoadResult {
  const schemas = schemaValidator();
  const defs = schemas.definitions;
  const byKind = new Map(defs.map((d) => [d.kind, d]));
  const kindNames = defs.map((d) => d.kind);
  const versions = [...new Set(defs.map((d) => `${d.group}/${d.version}`))];

  const diagnostics: Diagnostic[] = [];
  const notes: Note[] = [];
  const findings: Finding[] = [];
  const objects: Loaded[] = [];
  const texts = new Map<string, string>();
  const skipped: { source: SourceRef; message: string }[] = [];

  const handle = (value: unknown, src: SourceRef) => {
    const p = src.prefix;
    const find = (path: FieldPath, at: 'key' | 'value', message: string) =>
      findings.push({ source: src, path: [...p, ...path], at, message });
    if (value === null || value === undefined) return; // empty document (e.g. a trailing `---`)
    if (typeof value !== 'object' || Array.isArray(value)) {
      find([], 'value', `expected an object with apiVersion and kind, found ${describe(value)}`);
      return;
    }
    const obj = value as Record<string, unknown>;
    const { apiVersion, kind } = obj;
    const supported = `supported: ${versions.join(', ')} with kind ${kindNames.join(', ')}`;
    if (apiVersion === undefined || kind === undefined) {
      const missing = apiVersion === undefined ? 'apiVersion' : 'kind';
      find([missing], 'value', `required field is missing; ${supported}`);
      return;
    }
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
      find([typeof apiVersion !== 'string' ? 'apiVersion' : 'kind'], 'value', `must be a string; ${supported}`);
      return;
    }
    if (apiVersion === 'v1' && kind === 'List') {
      if (!Array.isArray(obj.items)) {
        find(['items'], 'value', 'a List must have items: a list of objects');
        return;
      }
      obj.items.forEach((item, i) => handle(item, { ...src, prefix: [...p, 'items', i] }));
      return;
    }
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
    if (group !== GROUP && kindNames.includes(kind) && closest(group, [GROUP]) !== undefined) {
      // `orgtcl.dev` with kind Organization is a typo, not someone else's object: never skip it silently.
      find(['apiVersion'], 'value', `unknown apiVersion "${apiVersion}" for kind ${kind}; did you mean "${versions[0]}"?`);
      return;
    }
    if (group !== GROUP) {
      const meta = obj.metadata as Record<string, unknown> | undefined;
      const name = typeof meta?.name === 'string' ? ` "${meta.name}"` : '';
      if (opts.strict) find(['apiVersion'], 'value', `${apiVersion} ${kind}${name} is not an orgctl object (--strict); ${supported}`);
      else skipped.push({ source: src, message: `skipped ${apiVersion} ${kind}${name}: not an orgctl kind` });
      return;
    }
    if (!versions.includes(apiVersion)) {
      find(['apiVersion'], 'value', `unsupported apiVersion "${apiVersion}"; supported: ${versions.join(', ')}`);
      return;
    }
    const def = byKind.get(kind);
    if (!def) {
      const guess = closest(kind, kindNames);
      find(['kind'], 'value', `unknown kind "${kind}" for ${apiVersion}; supported kinds: ${kindNames.join(', ')}${guess ? `; did you mean "${guess}"?` : ''}`);
      return;
    }
    const secrets = findInlineSecrets(kind, obj);
    const secretPaths = new Set(secrets.map((s) => formatPath(s.path)));
    for (const s of secrets) find(s.path, 'key', s.message);
    for (const problem of schemas.validate(kind, obj)) {
      if (secretPaths.has(formatPath(problem.path))) continue; // already reported, better, as an inline secret
      find(problem.path, problem.at, problem.message);
    }
    objects.push({ object: obj as unknown as Manifest, source: src });
  };

  let complete = !opts.incomplete;
  sources.forEach((source) => {
    const decoded = decodeSource(source.bytes);
    if ('error' in decoded) {
      complete = false;
      diagnostics.push({ file: source.name, line: decoded.line, column: decoded.column, path: '', message: decoded.error });
      return;
    }
    const text = decoded.text.charCodeAt(0) === 0xfeff ? decoded.text.slice(1) : decoded.text;
    texts.set(source.name, text);
    const parsed = parseDocuments(source, text);
    if (!('docs' in parsed)) {
      complete = false;
      diagnostics.push({ file: source.name, line: parsed.line, column: parsed.column, path: '', message: parsed.message });
      return;
    }
    if (text.includes('*') && expandedSizeExceeds(parsed.docs, 2 * text.length + 1000)) {
      complete = false;
      diagnostics.push({
        file: source.name,
        line: 1,
        column: 1,
        path: '',
        message: 'YAML aliases expand to far more data than the file holds (an alias bomb?); refusing to read it',
      });
      return;
    }
    parsed.docs.forEach((doc, i) => handle(doc, { file: source.name, doc: i, prefix: [] }));
  });

  for (const f of checkSemantics(objects, { complete })) findings.push(f); // no spread: a million members may make as many findings
  for (const e of expiredEntries(objects, opts.now ?? Date.now())) skipped.push({ source: { ...e.source, prefix: [...e.path] }, message: e.message });

  placeFindings(findings, skipped, texts, diagnostics, notes);
  return { objects, diagnostics: sortDiagnostics(diagnostics), notes, files: sources.length };
}

/** Turns findings (object + field path) into diagnostics (file:line:column), walking each file's events once. */
function placeFindings(
  findings: Finding[],
  skipped: { source: SourceRef; message: string }[],
  texts: Map<string, string>,
  diagnostics: Diagnostic[],
  notes: Note[],
): void {
  interface Request {
    doc: number;
    path: FieldPath;
    at: 'key' | 'value';
    position?: { line: number; column: number };
  }
  const perFile = new Map<string, Request[]>();
  const request = (source: SourceRef, path: FieldPath, at: 'key' | 'value'): Request => {
    const r: Request = { doc: source.doc, path, at };
    let list = perFile.get(source.file);
    if (!list) perFile.set(source.file, (list = []));
    list.push(r);
    return r;
  };
  const placed = findings.map((f) => ({
    f,
    main: request(f.source, f.path, f.at),
    related: f.related ? request(f.related.source, f.related.path, f.related.at) : undefined,
  }));
  const skippedPlaced = skipped.map((s) => ({ s, r: request(s.source, s.source.prefix, 'value') }));
  for (const [file, list] of perFile) {
    const positions = new SourceLocator(texts.get(file) ?? '').locate(list);
    list.forEach((r, i) => (r.position = positions[i]));
  }
  for (const { f, main, related } of placed) {
    const pos = main.position ?? { line: 1, column: 1 };
    let message = f.message;
    if (related && f.related) {
      const rp = related.position ?? { line: 1, column: 1 };
      message = message.replace('{related}', `${f.related.source.file}:${rp.line}:${rp.column}`);
    }
    // The path shown is relative to the object, even inside a `kind: List`.
    const rel = f.path.slice(f.source.prefix.length);
    diagnostics.push({ file: f.source.file, line: pos.line, column: pos.column, path: formatPath(rel), message });
  }
  for (const { s, r } of skippedPlaced) {
    const pos = r.position ?? { line: 1, column: 1 };
    notes.push({ file: s.source.file, line: pos.line, column: pos.column, message: s.message });
  }
}

import { createRequire } from 'node:module';
import type { Document, Node } from 'yaml';
import type { FieldPath } from './path.js';

export interface Position {
  line: number;
  column: number;
}

/** Maps character offsets to 1-based line/column. */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  position(offset: number): Position {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo]! + 1 };
  }
}

export interface LocateRequest {
  doc: number;
  path: FieldPath;
  /** 'key' points at the mapping key of the last path element (for unknown fields); 'value' at the node. */
  at: 'key' | 'value';
}

/**
 * `yaml`, loaded the first time a position is asked for: a run with no problems never loads it (about 50 ms of
 * start-up).
 */
let yamlModule: typeof import('yaml') | undefined;
function yaml(): typeof import('yaml') {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlModule;
}

/**
 * Finds source positions of field paths. Loading builds plain values with no positions (js-yaml: fast and
 * lean on 100k-member files); only a file that has problems is parsed again, by `yaml`, into a document with
 * source ranges (the same parser editors use through yaml-language-server, so positions match theirs).
 */
export class SourceLocator {
  private docs: Document.Parsed[] | undefined;
  private lines: LineIndex | undefined;

  constructor(private readonly text: string) {}

  offsetToPosition(offset: number): Position {
    this.lines ??= new LineIndex(this.text);
    return this.lines.position(offset);
  }

  /** Positions for each request; a path that cannot be followed resolves to its deepest located ancestor. */
  locate(requests: readonly LocateRequest[]): Position[] {
    if (requests.length === 0) return [];
    this.docs ??= yaml().parseAllDocuments(this.text, { uniqueKeys: false }) as Document.Parsed[];
    return requests.map((r) => this.offsetToPosition(this.offsetOf(r)));
  }

  private offsetOf(r: LocateRequest): number {
    const { isMap, isPair, isScalar, isSeq } = yaml();
    const doc = Array.isArray(this.docs) ? this.docs[r.doc] : undefined;
    if (!doc) return 0;
    let node: unknown = doc.contents;
    let offset = rangeStart(node) ?? doc.range[0];
    for (let i = 0; i < r.path.length; i++) {
      const part = r.path[i]!;
      const last = i === r.path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(part));
        if (!pair) return offset;
        const keyStart = rangeStart(pair.key);
        if (last && r.at === 'key' && keyStart !== undefined) return keyStart;
        node = pair.value;
        // `key:` with no value has no value node, or an empty one placed after the colon: point at the key.
        const empty = isScalar(node) && node.value === null && node.range !== undefined && node.range !== null && node.range[0] === node.range[1];
        offset = (empty ? undefined : rangeStart(node)) ?? keyStart ?? offset;
      } else if (isSeq(node) && typeof part === 'number') {
        node = node.items[part];
        const start = rangeStart(node);
        if (start === undefined) return offset;
        offset = start;
      } else {
        return offset; // a scalar, or an alias: nothing further to descend into
      }
    }
    return offset;
  }
}

function rangeStart(node: unknown): number | undefined {
  const { isAlias, isMap, isScalar, isSeq } = yaml();
  if (isAlias(node) || isScalar(node) || isMap(node) || isSeq(node)) {
    const range = (node as Node).range;
    return range ? range[0] : undefined;
  }
  return undefined;
}

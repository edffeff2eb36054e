import { EVENT_ID, getScalarValue, parseEvents, type Event } from 'js-yaml';
import { pathKey, type FieldPath } from './path.js';

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

function nodeStart(e: Event): number {
  let start: number;
  switch (e.type) {
    case EVENT_ID.SCALAR:
      // Point at the opening quote of quoted scalars, not inside them.
      start = e.style === 2 || e.style === 3 ? e.valueStart - 1 : e.valueStart;
      break;
    case EVENT_ID.MAPPING:
    case EVENT_ID.SEQUENCE:
      start = e.start;
      break;
    case EVENT_ID.ALIAS:
      return e.anchorStart - 1;
    default:
      return 0;
  }
  for (const s of [e.anchorStart - 1, e.tagStart]) if (s >= 0 && s < start) start = s;
  return start;
}

/**
 * Finds source positions of field paths, lazily: the loader builds plain values with no positions (fast), and
 * only a file that has problems is walked again as an event stream, visiting just the branches asked about.
 */
export class SourceLocator {
  private events: Event[] | undefined;
  private docStarts: number[] | undefined;
  private lines: LineIndex | undefined;

  constructor(private readonly text: string) {}

  offsetToPosition(offset: number): Position {
    this.lines ??= new LineIndex(this.text);
    return this.lines.position(offset);
  }

  /** Positions for each request; a path that cannot be followed resolves to its deepest located ancestor. */
  locate(requests: readonly LocateRequest[]): Position[] {
    const byDoc = new Map<number, LocateRequest[]>();
    for (const r of requests) {
      const list = byDoc.get(r.doc) ?? [];
      list.push(r);
      byDoc.set(r.doc, list);
    }
    const found = new Map<string, number>(); // `${doc}|${at}|${pathKey}` -> offset
    for (const [doc, list] of byDoc) this.walkDocument(doc, list, found);
    return requests.map((r) => {
      for (let n = r.path.length; n >= 0; n--) {
        const sub = r.path.slice(0, n);
        const at = n === r.path.length ? r.at : 'value';
        const offset = found.get(`${r.doc}|${at}|${pathKey(sub)}`);
        if (offset !== undefined) return this.offsetToPosition(offset);
      }
      return this.offsetToPosition(0);
    });
  }

  private load(): { events: Event[]; docStarts: number[] } {
    if (!this.events || !this.docStarts) {
      this.events = parseEvents(this.text, {});
      this.docStarts = [];
      this.events.forEach((e, i) => {
        if (e.type === EVENT_ID.DOCUMENT) this.docStarts!.push(i);
      });
    }
    return { events: this.events, docStarts: this.docStarts };
  }

  private walkDocument(doc: number, requests: LocateRequest[], found: Map<string, number>): void {
    const { events, docStarts } = this.load();
    const docEvent = docStarts[doc];
    if (docEvent === undefined) return;
    // Every prefix of a requested path must be descended into.
    const prefixes = new Set<string>();
    for (const r of requests) for (let n = 0; n <= r.path.length; n++) prefixes.add(pathKey(r.path.slice(0, n)));
    const text = this.text;

    const skip = (i: number): number => {
      const t = events[i]!.type;
      if (t !== EVENT_ID.MAPPING && t !== EVENT_ID.SEQUENCE) return i + 1;
      let depth = 1;
      let j = i + 1;
      while (depth > 0) {
        const tt = events[j]!.type;
        if (tt === EVENT_ID.MAPPING || tt === EVENT_ID.SEQUENCE) depth++;
        else if (tt === EVENT_ID.POP) depth--;
        j++;
      }
      return j;
    };

    const walk = (i: number, path: (string | number)[]): number => {
      const e = events[i]!;
      const key = pathKey(path);
      if (!prefixes.has(key)) return skip(i);
      found.set(`${doc}|value|${key}`, nodeStart(e));
      if (e.type === EVENT_ID.MAPPING) {
        let j = i + 1;
        while (events[j]!.type !== EVENT_ID.POP) {
          const k = events[j]!;
          if (k.type !== EVENT_ID.SCALAR) {
            j = skip(skip(j)); // complex keys are never part of a manifest path
            continue;
          }
          const child = [...path, getScalarValue(text, k)];
          const childKey = pathKey(child);
          if (prefixes.has(childKey)) found.set(`${doc}|key|${childKey}`, nodeStart(k));
          j = walk(j + 1, child);
        }
        return j + 1;
      }
      if (e.type === EVENT_ID.SEQUENCE) {
        let j = i + 1;
        let index = 0;
        while (events[j]!.type !== EVENT_ID.POP) j = walk(j, [...path, index++]);
        return j + 1;
      }
      return skip(i);
    };

    const first = events[docEvent + 1];
    if (first && first.type !== EVENT_ID.POP) walk(docEvent + 1, []);
  }
}

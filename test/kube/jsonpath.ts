/**
 * The JSONPath subset of additionalPrinterColumns (`.spec.plan`, `.status.conditions[?(@.type=="Ready")].status`,
 * `.items[0]`, `.a[*].b`, `['dotted.key']`), evaluated like client-go's jsonpath, and the printing the
 * API server's table convertor does with the results.
 */
import { isObject } from './schema.js';
import type { Json } from './status.js';

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'all' }
  | { kind: 'filter'; path: string[]; op: '==' | '!=' | 'exists'; value?: Json };

/** Parses a printer-column JSONPath; throws on anything outside the supported subset. */
export function parseJsonPath(expr: string): Step[] {
  let s = expr.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  if (!s.startsWith('.') && !s.startsWith('[')) throw new Error(`unrecognized JSONPath ${JSON.stringify(expr)}: must start with . or [`);
  const steps: Step[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '.') {
      const m = /^\.([A-Za-z0-9_$-]+)/.exec(s.slice(i));
      if (!m) {
        if (s[i + 1] === '[' || i + 1 === s.length) {
          i++;
          continue;
        }
        throw new Error(`unrecognized JSONPath ${JSON.stringify(expr)} at ${i}`);
      }
      steps.push({ kind: 'field', name: m[1]! });
      i += m[0].length;
    } else if (c === '[') {
      const end = matchBracket(s, i);
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'[^']*'$/.test(inner) || /^"[^"]*"$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else if (inner.startsWith('?(') && inner.endsWith(')')) steps.push(parseFilter(inner.slice(2, -1), expr));
      else throw new Error(`unrecognized JSONPath ${JSON.stringify(expr)}: [${inner}]`);
    } else {
      throw new Error(`unrecognized JSONPath ${JSON.stringify(expr)} at ${i}`);
    }
  }
  return steps;
}

function matchBracket(s: string, start: number): number {
  let depth = 0;
  let quote = '';
  for (let i = start; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  throw new Error(`unclosed [ in JSONPath ${JSON.stringify(s)}`);
}

function parseFilter(f: string, expr: string): Step {
  const m = /^@((?:\.[A-Za-z0-9_$-]+)+)\s*(?:(==|!=)\s*(.+))?$/.exec(f.trim());
  if (!m) throw new Error(`unrecognized filter in JSONPath ${JSON.stringify(expr)}: ${f}`);
  const path = m[1]!.split('.').slice(1);
  if (!m[2]) return { kind: 'filter', path, op: 'exists' };
  const raw = m[3]!.trim();
  let value: Json;
  if (/^"[^"]*"$/.test(raw) || /^'[^']*'$/.test(raw)) value = raw.slice(1, -1);
  else if (raw === 'true' || raw === 'false') value = raw === 'true';
  else if (/^-?\d+(\.\d+)?$/.test(raw)) value = Number(raw);
  else throw new Error(`unrecognized filter value in JSONPath ${JSON.stringify(expr)}: ${raw}`);
  return { kind: 'filter', path, op: m[2] as '==' | '!=', value };
}

/** Every result of the path in data (missing keys give no result, as with AllowMissingKeys). */
export function findResults(steps: Step[], data: Json): Json[] {
  let cur: Json[] = [data];
  for (const st of steps) {
    const next: Json[] = [];
    for (const v of cur) {
      if (st.kind === 'field') {
        if (isObject(v) && v[st.name] !== undefined) next.push(v[st.name]!);
      } else if (st.kind === 'index') {
        if (Array.isArray(v)) {
          const i = st.index < 0 ? v.length + st.index : st.index;
          if (i >= 0 && i < v.length) next.push(v[i]!);
        }
      } else if (st.kind === 'all') {
        if (Array.isArray(v)) next.push(...v);
        else if (isObject(v)) next.push(...Object.values(v));
      } else {
        const items = Array.isArray(v) ? v : isObject(v) ? Object.values(v) : [];
        for (const item of items) {
          let got: Json | undefined = item;
          for (const p of st.path) got = isObject(got) ? got[p] : undefined;
          if (st.op === 'exists' ? got !== undefined : st.op === '==' ? got === st.value : got !== undefined && got !== st.value) next.push(item);
        }
      }
    }
    cur = next;
  }
  return cur;
}

/** fmt.Fprint of a decoded JSON value, as client-go's jsonpath prints a result. */
export function goPrint(v: Json): string {
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goPrint).join(' ')}]`;
  if (isObject(v)) {
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goPrint(v[k]!)}`)
      .join(' ')}]`;
  }
  return String(v);
}

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** One printer-column cell from its JSONPath results, like the CRD table convertor's cellForJSONValue. */
export function cell(type: string, results: Json[], now: number): Json {
  if (results.length === 0) return null;
  const v = results[0]!;
  if (type === 'string') return goPrint(v);
  if (v === null) return null;
  switch (type) {
    case 'integer':
      return typeof v === 'number' ? Math.trunc(v) : null;
    case 'number':
      return typeof v === 'number' ? v : null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    case 'date': {
      if (typeof v !== 'string') return null;
      const t = Date.parse(v);
      return Number.isNaN(t) ? '<invalid>' : humanDuration(now - t);
    }
    default:
      return null;
  }
}

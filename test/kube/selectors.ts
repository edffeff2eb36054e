/** Label and field selectors of list and watch requests, parsed and matched like apimachinery's. */
import { errors } from './status.js';

type LabelReq =
  | { op: '=' | '!='; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | '!'; key: string };

export type LabelSelector = (labels: Record<string, string>) => boolean;

/** `a=b,c!=d,e in (x,y),f notin (z),g,!h`; an empty selector matches everything. */
export function parseLabelSelector(s: string | null): LabelSelector {
  if (!s || !s.trim()) return () => true;
  const reqs: LabelReq[] = [];
  for (const part of splitTopLevel(s)) {
    const t = part.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([^\s!=,()]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t))) {
      reqs.push({ op: m[2] as 'in' | 'notin', key: m[1]!, values: m[3]!.split(',').map((v) => v.trim()).filter((v, _i, a) => v !== '' || a.length === 1) });
    } else if ((m = /^([^\s!=,()]+)\s*(==|=|!=)\s*([^\s!=,()]*)$/.exec(t))) {
      reqs.push({ op: m[2] === '!=' ? '!=' : '=', key: m[1]!, value: m[3]! });
    } else if ((m = /^!\s*([^\s!=,()]+)$/.exec(t))) {
      reqs.push({ op: '!', key: m[1]! });
    } else if ((m = /^([^\s!=,()]+)$/.exec(t))) {
      reqs.push({ op: 'exists', key: m[1]! });
    } else {
      throw errors.badRequest(`unable to parse requirement: found '${t}', expected: identifier`);
    }
  }
  return (labels) =>
    reqs.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(labels, r.key);
      const v = labels[r.key];
      switch (r.op) {
        case '=':
          return has && v === r.value;
        case '!=':
          return !has || v !== r.value;
        case 'in':
          return has && r.values.includes(v!);
        case 'notin':
          return !has || !r.values.includes(v!);
        case 'exists':
          return has;
        case '!':
          return !has;
      }
    });
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.filter((p) => p.trim() !== '');
}

export interface FieldReq {
  key: string;
  op: '=' | '!=';
  value: string;
}

/** `metadata.name=x,metadata.namespace!=y`; the keys are checked against the resource's field labels. */
export function parseFieldSelector(s: string | null, supported: string[]): FieldReq[] {
  if (!s || !s.trim()) return [];
  const out: FieldReq[] = [];
  for (const part of s.split(',')) {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
    if (!m) throw errors.badRequest(`invalid selector: '${s}'; can't understand '${part}'`);
    const key = m[1]!;
    if (!supported.includes(key)) {
      throw errors.badRequest(`"${key}" is not a known field selector: only ${supported.map((f) => `"${f}"`).join(', ')}`);
    }
    out.push({ key, op: m[2] === '!=' ? '!=' : '=', value: m[3]!.replace(/\\(.)/g, '$1') });
  }
  return out;
}

export function matchFields(reqs: FieldReq[], fields: Record<string, string>): boolean {
  return reqs.every((r) => (r.op === '=' ? fields[r.key] === r.value : fields[r.key] !== r.value));
}

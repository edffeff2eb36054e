import { normalizeEmail } from '../model/email.js';
import { decodeSource, type Source } from './sources.js';
import { SourceLocator } from './locate.js';
import type { Loaded } from './model.js';

/** Where a person is declared: `file:line:column` of their email in a Membership. */
export interface Declaration {
  file: string;
  line: number;
  column: number;
}

/**
 * Where each person of `organization` is declared in the manifests (the first place, in file order). Positions
 * are found only for the files that declare people of that organization (a second parse with source ranges).
 */
export function memberDeclarations(objects: Loaded[], sources: Source[], organization: string): Map<string, Declaration> {
  const requests = new Map<string, { email: string; doc: number; path: (string | number)[] }[]>();
  for (const { object, source } of objects) {
    if (object.kind !== 'Membership' || object.spec.organization !== organization) continue;
    let list = requests.get(source.file);
    if (!list) requests.set(source.file, (list = []));
    object.spec.members.forEach((m, i) => list.push({ email: normalizeEmail(m.email), doc: source.doc, path: [...source.prefix, 'spec', 'members', i, 'email'] }));
  }
  const out = new Map<string, Declaration>();
  for (const source of sources) {
    const list = requests.get(source.name);
    if (!list) continue;
    const decoded = decodeSource(source.bytes);
    if ('error' in decoded) continue;
    const text = decoded.text.charCodeAt(0) === 0xfeff ? decoded.text.slice(1) : decoded.text;
    const positions = new SourceLocator(text).locate(list.map((r) => ({ doc: r.doc, path: r.path, at: 'value' as const })));
    list.forEach((r, i) => {
      if (!out.has(r.email)) out.set(r.email, { file: source.name, line: positions[i]!.line, column: positions[i]!.column });
    });
  }
  return out;
}

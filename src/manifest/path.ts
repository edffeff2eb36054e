import { quote } from '../util/quote.js';

/** A field path inside one document: object keys and array indexes. */
export type FieldPath = ReadonlyArray<string | number>;

/** Renders a path the way kubectl does: `spec.members[3].email`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (part.length <= 80 && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${quote(part)}]`;
  }
  return out;
}

/** Parses an ajv instancePath (JSON pointer) into a path, given the value it points into (to tell indexes from keys). */
export function pointerToPath(pointer: string, root: unknown): (string | number)[] {
  if (pointer === '') return [];
  const out: (string | number)[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(key);
      out.push(index);
      node = node[index];
    } else {
      out.push(key);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return out;
}

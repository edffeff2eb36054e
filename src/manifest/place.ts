import type { DeclaredIn } from '../model/desired.js';
import { sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { SourceLocator } from './locate.js';
import { formatPath } from './path.js';
import { decodeSource } from './sources.js';

/** A problem found after loading (by a plan) at a field of an object: placed on demand. */
export interface Declared {
  in: DeclaredIn;
  /** Inside the object. */
  path: readonly (string | number)[];
  message: string;
}

/**
 * Places problems found after the manifests were loaded at file:line:column, reading each file's text once
 * through `bytes` (undefined: the file cannot be read again; the problem is placed at the file). Only runs
 * when a plan has something to report, so loading never pays for it.
 */
export function placeDeclared(problems: readonly Declared[], bytes: (file: string) => Uint8Array | undefined): Diagnostic[] {
  const byFile = new Map<string, Declared[]>();
  for (const p of problems) {
    let list = byFile.get(p.in.file);
    if (!list) byFile.set(p.in.file, (list = []));
    list.push(p);
  }
  const out: Diagnostic[] = [];
  for (const [file, list] of byFile) {
    let raw: Uint8Array | undefined;
    try {
      raw = bytes(file);
    } catch {
      raw = undefined;
    }
    const decoded = raw && decodeSource(raw);
    const text = decoded && 'text' in decoded ? (decoded.text.charCodeAt(0) === 0xfeff ? decoded.text.slice(1) : decoded.text) : undefined;
    const positions = text === undefined ? [] : new SourceLocator(text).locate(list.map((p) => ({ doc: p.in.doc, path: [...p.in.object, ...p.path], at: 'value' as const })));
    list.forEach((p, i) => {
      const pos = positions[i] ?? { line: 0, column: 0 };
      out.push({ file, line: pos.line, column: pos.column, path: formatPath(p.path), message: p.message });
    });
  }
  return sortDiagnostics(out);
}

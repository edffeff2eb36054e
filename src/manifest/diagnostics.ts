/** A problem found in the manifests, pointing at the exact place in the source. */
export interface Diagnostic {
  file: string;
  /** 1-based; 0 when the problem is about the file as a whole (unreadable, not UTF-8). */
  line: number;
  /** 1-based; 0 when the problem is about the file as a whole. */
  column: number;
  /** Field path inside the object, kubectl style (`spec.members[3].role`); empty for document-level problems. */
  path: string;
  message: string;
}

/** Something worth saying that is not an error (a skipped document, for instance). */
export interface Note {
  file: string;
  line: number;
  column: number;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file;
  return d.path ? `${where}: ${d.path}: ${d.message}` : `${where}: ${d.message}`;
}

export function formatNote(n: Note): string {
  const where = n.line > 0 ? `${n.file}:${n.line}:${n.column}` : n.file;
  return `${where}: ${n.message}`;
}

/** Orders diagnostics by file, then position, so output is stable and easy to read. */
export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return list.sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
}

import type { SourceRef } from './model.js';
import type { FieldPath } from './path.js';

/** A problem tied to a field of an object; placed in the source (line, column) at the end, in one pass per file. */
export interface Finding {
  source: SourceRef;
  path: FieldPath;
  at: 'key' | 'value';
  /** `{related}` in the message is replaced by the related place's `file:line:column`. */
  message: string;
  related?: { source: SourceRef; path: FieldPath; at: 'key' | 'value' };
}

import type { Diagnostic, Note } from '../manifest/diagnostics.js';
import { loadManifests, type LoadResult } from '../manifest/load.js';
import { readSources, type Source } from '../manifest/sources.js';
import type { Io } from './io.js';

export interface ManifestSet {
  sources: Source[];
  result: LoadResult;
  /** Every problem: unreadable inputs, invalid manifests, and input that holds no objects at all. */
  problems: Diagnostic[];
  notes: Note[];
}

/**
 * Reads `-f` inputs and validates them, as every command that takes manifests does. Input that holds no
 * orgctl objects (empty standard input, a comment-only file, only other kinds) is a problem like an empty
 * directory, as kubectl's "no objects passed to apply": a pipeline that lost its manifests must not pass.
 */
export function readManifests(filenames: string[], io: Io, opts: { strict?: boolean } = {}): ManifestSet {
  const read = readSources(filenames, { cwd: io.cwd, stdin: io.stdin });
  const result = loadManifests(read.sources, { strict: opts.strict });
  const problems = [...read.diagnostics, ...result.diagnostics];
  if (problems.length === 0 && result.objects.length === 0) {
    const skipped = result.notes.length;
    problems.push({
      file: read.sources.map((s) => s.name).join(', ') || filenames.join(', '),
      line: 0,
      column: 0,
      path: '',
      message: `no objects passed: no Organization, Membership or Integration found${skipped ? ` (${skipped} document${skipped === 1 ? '' : 's'} of other kinds skipped)` : ''}`,
    });
  }
  return { sources: read.sources, result, problems, notes: result.notes };
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

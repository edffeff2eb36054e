import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Diagnostic, Note } from './diagnostics.js';
import { loadManifests, type LoadResult } from './load.js';
import { sizeNotes } from './size.js';
import { placeDeclared, type Declared } from './place.js';
import { readSources, type Source } from './sources.js';

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
export function readManifestSet(
  paths: string[],
  opts: { cwd: string; stdin?: () => Uint8Array; strict?: boolean; maxFileBytes?: number; now?: number },
): ManifestSet {
  const read = readSources(paths, { cwd: opts.cwd, stdin: opts.stdin, maxFileBytes: opts.maxFileBytes });
  // An input that could not be read may hold what the others refer to: no follow-on errors about the set.
  const result = loadManifests(read.sources, { strict: opts.strict, incomplete: read.diagnostics.length > 0, now: opts.now });
  const problems = [...read.diagnostics, ...result.diagnostics];
  if (problems.length === 0 && result.objects.length === 0) {
    const skipped = result.notes.length;
    problems.push({
      file: read.sources.map((s) => s.name).join(', ') || paths.join(', '),
      line: 0,
      column: 0,
      path: '',
      message: `no objects passed: no Organization, Membership or Integration found${skipped ? ` (${skipped} document${skipped === 1 ? '' : 's'} of other kinds skipped)` : ''}`,
    });
  }
  // A Membership too large for a cluster is said even though files may hold it (the command line reads it).
  if (problems.length === 0) for (const n of sizeNotes(result.objects, read.sources)) result.notes.push(n);
  return { sources: read.sources, result, problems, notes: result.notes };
}

/**
 * Places problems a plan finds in these manifests (a project that does not exist) at file:line:column. Files
 * are read again when that happens, so their bytes need not be kept (a million members are 100 MiB);
 * standard input, which cannot be read again, is kept.
 */
export function manifestPlacer(sources: Source[], cwd: string): (problems: readonly Declared[]) => Diagnostic[] {
  const stdin = sources.find((s) => s.name === '<stdin>')?.bytes;
  return (problems) => placeDeclared(problems, (file) => (file === '<stdin>' ? stdin : readFileSync(isAbsolute(file) ? file : join(cwd, file))));
}

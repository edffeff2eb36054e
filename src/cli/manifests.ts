import { readManifestSet, type ManifestSet } from '../manifest/read-set.js';
import { clock } from './clock.js';
import type { Io } from './io.js';

export type { ManifestSet };

/** Reads and validates `-f` inputs (see readManifestSet), from the command's working directory and stdin. */
export function readManifests(filenames: string[], io: Io, opts: { strict?: boolean } = {}): ManifestSet {
  return readManifestSet(filenames, { cwd: io.cwd, stdin: io.stdin, strict: opts.strict, now: clock(io.env)() });
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

import { readManifestSet, type ManifestSet } from '../manifest/read-set.js';
import { MAX_FILE_BYTES_CEILING, MAX_SOURCE_BYTES, parseSize } from '../manifest/sources.js';
import { clock } from './clock.js';
import { ExitCode, UserError, type Io } from './io.js';

export type { ManifestSet };

/**
 * The most a regular manifest file may hold: `--max-manifest-size`, else $ORGCTL_MAX_MANIFEST_SIZE, else 64 MiB;
 * at most what Node can hold as one string (about 512 MiB).
 */
export function maxManifestBytes(flag: string | undefined, io: Io): number {
  const text = flag ?? io.env.ORGCTL_MAX_MANIFEST_SIZE;
  if (text === undefined || text === '') return MAX_SOURCE_BYTES;
  const bytes = parseSize(text);
  const name = flag !== undefined ? '--max-manifest-size' : 'ORGCTL_MAX_MANIFEST_SIZE';
  if (bytes === undefined) throw new UserError(`${name} must be a size such as 256MiB or 1GiB, not "${text}"`, ExitCode.usage);
  // Up to 512 MiB is taken, as the longest text Node can hold (a few bytes less).
  if (bytes > 512 * 1024 * 1024) {
    throw new UserError(`${name} may be at most 512MiB (about the longest text Node can hold), not "${text}"; split larger manifests over several files`, ExitCode.usage);
  }
  return Math.min(bytes, MAX_FILE_BYTES_CEILING);
}

/** Reads and validates `-f` inputs (see readManifestSet), from the command's working directory and stdin. */
export function readManifests(filenames: string[], io: Io, opts: { strict?: boolean; maxFileBytes?: number } = {}): ManifestSet {
  return readManifestSet(filenames, { cwd: io.cwd, stdin: io.stdin, strict: opts.strict, maxFileBytes: opts.maxFileBytes, now: clock(io.env)() });
}
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

import { constants } from 'node:buffer';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import { readBounded, TooLargeError } from '../util/read-bounded.js';
import type { Diagnostic } from './diagnostics.js';

/** One input file's raw bytes, named as the user will recognise it. */
export interface Source {
  name: string;
  bytes: Uint8Array;
  /** Directory relative paths inside the manifest (credentialsRef.file) resolve against. */
  dir: string;
}

export const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];
/**
 * Larger inputs are refused before parsing: nobody writes a 64 MiB manifest by hand, and a device or a pipe
 * may never end. Regular files, whose size is known before reading, may be allowed more (--max-manifest-size):
 * a generated Membership of a million people is about 107 MiB.
 */
export const MAX_SOURCE_BYTES = 64 * 1024 * 1024;
/** The most a regular file may be allowed: the longest string Node can hold (about 512 MiB), which the text becomes. */
export const MAX_FILE_BYTES_CEILING = constants.MAX_STRING_LENGTH;

/** `107 MiB`, for messages about sizes. */
export function mib(bytes: number): string {
  return `${Math.ceil(bytes / (1024 * 1024))} MiB`;
}

/**
 * A size as `--max-manifest-size` takes it: bytes, or a number with KiB, MiB or GiB (KB, MB, GB are taken as
 * the same binary units); undefined if it is not one.
 */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const bytes = Math.floor(Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1));
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

function displayName(path: string, cwd: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') ? rel : path;
}

function walkDirectory(dir: string, out: string[]): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue; // .git, editor swap folders, ...
    const full = join(dir, e.name);
    if (e.isDirectory()) walkDirectory(full, out);
    else if (e.isFile() && MANIFEST_EXTENSIONS.some((ext) => e.name.endsWith(ext))) out.push(full);
  }
}

/**
 * Expands `-f` arguments: files as given (any extension), directories recursively (.yaml/.yml/.json, hidden
 * entries skipped, sorted), and `-` for standard input. Problems become diagnostics; nothing throws.
 */
export function readSources(
  paths: string[],
  opts: { cwd?: string; stdin?: () => Uint8Array; maxFileBytes?: number } = {},
): { sources: Source[]; diagnostics: Diagnostic[] } {
  const cwd = opts.cwd ?? process.cwd();
  const sources: Source[] = [];
  const diagnostics: Diagnostic[] = [];
  const fail = (file: string, message: string) => diagnostics.push({ file, line: 0, column: 0, path: '', message });
  const seen = new Set<string>();
  let stdinUsed = false;

  const fileLimit = Math.min(Math.max(opts.maxFileBytes ?? MAX_SOURCE_BYTES, MAX_SOURCE_BYTES), MAX_FILE_BYTES_CEILING);
  const addFile = (full: string, name: string) => {
    if (seen.has(full)) return;
    seen.add(full);
    let limit = MAX_SOURCE_BYTES;
    try {
      const stat = statSync(full);
      // Only a regular file may be allowed more than the default: its size is known before it is read.
      if (stat.isFile()) limit = fileLimit;
      if (stat.size > limit) return fail(name, `file is ${stat.size} bytes (${mib(stat.size)}); the limit is ${limit} (${mib(limit)})${raiseHint(stat.size, limit)}`);
      // Read with the limit, not the size reported: a device or a pipe reports 0 and may never end.
      sources.push({ name, bytes: readBounded(full, limit, stat.isFile() ? stat.size : 0), dir: join(full, '..') });
    } catch (err) {
      if (err instanceof TooLargeError) return fail(name, `more than ${limit} bytes; the limit is ${limit}${limit === MAX_SOURCE_BYTES ? ' (what is not a regular file is read up to 64 MiB)' : ''}`);
      fail(name, `cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };

  for (const arg of paths) {
    if (arg === '-') {
      if (stdinUsed) {
        fail('<stdin>', 'standard input given more than once');
        continue;
      }
      stdinUsed = true;
      let bytes: Uint8Array;
      try {
        bytes = (opts.stdin ?? (() => readBounded(0, MAX_SOURCE_BYTES)))();
      } catch (err) {
        if (err instanceof TooLargeError) fail('<stdin>', `input is more than ${MAX_SOURCE_BYTES} bytes; the limit is ${MAX_SOURCE_BYTES} for standard input (save it to a file: a file may be allowed more with --max-manifest-size)`);
        else fail('<stdin>', `cannot read standard input: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        continue;
      }
      if (bytes.length > MAX_SOURCE_BYTES) fail('<stdin>', `input is ${bytes.length} bytes; the limit is ${MAX_SOURCE_BYTES} for standard input (save it to a file: a file may be allowed more with --max-manifest-size)`);
      else sources.push({ name: '<stdin>', bytes, dir: cwd });
      continue;
    }
    const full = isAbsolute(arg) ? arg : join(cwd, arg);
    let stat;
    try {
      stat = statSync(full);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      fail(arg, code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${code ?? (err as Error).message}`);
      continue;
    }
    if (stat.isDirectory()) {
      const files: string[] = [];
      try {
        walkDirectory(full, files);
      } catch (err) {
        fail(arg, `cannot read directory: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        continue;
      }
      if (files.length === 0) fail(arg, `directory has no ${MANIFEST_EXTENSIONS.join('/')} files`);
      for (const f of files) addFile(f, displayName(isAbsolute(arg) ? f : relative(cwd, f), cwd));
    } else {
      addFile(full, displayName(arg, cwd));
    }
  }
  return { sources, diagnostics };
}

/** How to read a regular file over the limit, if it can be. */
function raiseHint(size: number, limit: number): string {
  if (size > MAX_FILE_BYTES_CEILING) return `; files over ${mib(MAX_FILE_BYTES_CEILING)} cannot be read whole: split the Membership over several files`;
  if (limit >= size) return '';
  return `; to read it, raise the limit: --max-manifest-size ${mib(size).replace(' ', '')}`;
}

/** Offset of the first byte that breaks UTF-8 (structure only; the decoder catches the rest). */
function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return 0;
}

/**
 * Decodes UTF-8 strictly (a manifest with invalid bytes is refused, never silently mangled) and drops a BOM.
 * On failure, says where the first bad byte is.
 */
export function decodeSource(bytes: Uint8Array): { text: string } | { error: string; line: number; column: number } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    const offset = firstInvalidUtf8(bytes);
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) (line++, (lineStart = i + 1));
    const hex = (bytes[offset] ?? 0).toString(16).padStart(2, '0');
    // Columns count characters, as everywhere else: decode the (valid) start of the line.
    const column = new TextDecoder('utf-8').decode(bytes.subarray(lineStart, offset)).length + 1;
    return { error: `not valid UTF-8: byte 0x${hex} at offset ${offset}; save the file as UTF-8`, line, column };
  }
}

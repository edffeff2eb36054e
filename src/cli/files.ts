import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError, type Io } from './io.js';

/** An errno as a person reads it. */
export function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'the directory does not exist';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a directory';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EEXIST':
      return 'a file is in the way';
    case 'ENOSPC':
      return 'the disk is full';
    case 'EROFS':
      return 'the file system is read-only';
    default:
      return code ?? (err as Error).message;
  }
}

/** Writes a file the user named; a mistake in the path is a user error naming the file, never a stack trace. */
export function writeUserFile(io: Io, path: string, content: string, what: string, opts: { mode?: number } = {}): string {
  const full = resolve(io.cwd, path);
  try {
    writeFileSync(full, content, opts.mode === undefined ? undefined : { mode: opts.mode });
  } catch (err) {
    throw new UserError(`cannot write ${what} to ${path}: ${errnoText(err)}`);
  }
  return full;
}

/** Makes a directory the user named for output (with its parents); a file in the way is a user error. */
export function makeUserDir(io: Io, path: string, what: string): string {
  const full = resolve(io.cwd, path);
  try {
    mkdirSync(full, { recursive: true });
  } catch (err) {
    throw new UserError(`cannot write ${what} into ${path}: ${errnoText(err)}`);
  }
  if (!statSync(full).isDirectory()) throw new UserError(`cannot write ${what} into ${path}: it is a file, not a directory`);
  return full;
}


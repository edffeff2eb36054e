import { closeSync, openSync, readSync } from 'node:fs';

/** A file or stream holds more than the reader takes. */
export class TooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`larger than ${limit} bytes`);
  }
}

/**
 * Reads a file (or an open descriptor: 0 for standard input) up to `limit` bytes, failing past it. The size
 * is found by reading, never by trusting what the file system reports: a device (`/dev/zero`) or a pipe
 * reports 0 and never ends.
 */
export function readBounded(path: string | number, limit: number): Buffer {
  const fd = typeof path === 'number' ? path : openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, limit + 1 - size));
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue; // a non-blocking pipe with nothing yet
        if ((err as NodeJS.ErrnoException).code === 'EOF') break;
        throw err;
      }
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      size += n;
      if (size > limit) throw new TooLargeError(limit);
    }
    return Buffer.concat(chunks, size);
  } finally {
    if (typeof path !== 'number') closeSync(fd);
  }
}

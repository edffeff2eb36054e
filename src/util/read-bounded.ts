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
 * reports 0 and never ends. `expected`, the size a regular file reports, only sizes the first read, so a
 * large file is read into one buffer rather than copied together from pieces.
 */
export function readBounded(path: string | number, limit: number, expected = 0): Buffer {
  const fd = typeof path === 'number' ? path : openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(1 << 20, size === 0 ? expected + 1 : 0), limit + 1 - size));
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
    // A buffer sized for the file is kept as it is; pieces (and a small file's 1 MiB read buffer) are copied out.
    return chunks.length === 1 && expected > 1 << 20 && size === expected ? chunks[0]! : Buffer.concat(chunks, size);
  } finally {
    if (typeof path !== 'number') closeSync(fd);
  }
}

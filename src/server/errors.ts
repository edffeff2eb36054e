/** An error the API reports to its client: `{"error": {"code", "message", "details"}}` with an HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
  toJSON(): { error: { code: string; message: string; details: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export const badRequest = (message: string, field?: string, details: Record<string, unknown> = {}) =>
  new ApiError(400, 'invalid_request', message, field ? { field, ...details } : details);
export const unauthorized = (message = 'missing or invalid bearer token') => new ApiError(401, 'unauthorized', message);
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const conflict = (code: string, message: string, details: Record<string, unknown> = {}) => new ApiError(409, code, message, details);

/**
 * What a SQLite failure means to a client, for the failures that are about the database's state rather than
 * a bug: another process holds the write lock (503, retry), the file cannot be written (503), the disk is
 * full (507). Undefined for anything else. Whatever failed, its transaction was rolled back: nothing was written.
 */
export function databaseError(err: unknown): ApiError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new ApiError(503, 'database_busy', 'the platform database is locked by another process (an orgctl command writing to it?); nothing was written, retry shortly', {
      retryAfterSeconds: 1,
    });
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new ApiError(503, 'database_read_only', 'the platform database cannot be written (a read-only file, directory or file system); nothing was written, reads still work');
  }
  if (code === 'SQLITE_FULL') {
    return new ApiError(507, 'disk_full', 'the platform database is out of space (disk full); nothing was written');
  }
  return undefined;
}

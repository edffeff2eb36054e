import type { ErrorAnswer } from '../http/client.js';
import { PlatformError, type ItemResult } from '../types.js';

/**
 * Wraps an adapter's error reader so no secret it holds ever reaches a message, even if a platform echoes the
 * credentials it was sent (a proxy's error page, a debug answer).
 */
export function redacting(read: (status: number, body: string) => ErrorAnswer, secrets: () => readonly string[]): (status: number, body: string) => ErrorAnswer {
  return (status, body) => {
    const answer = read(status, body);
    let message = answer.message;
    for (const s of secrets()) if (s) message = message.split(s).join('[redacted]');
    return { ...answer, message };
  };
}

/** The first part of a non-JSON error body, on one line: enough to recognise a proxy's page. */
export function snippet(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line || 'no message';
}

/** Every item failed with one error (a whole call refused). */
export function allFailed(emails: readonly string[], error: string): ItemResult[] {
  return emails.map((email) => ({ email, ok: false, error }));
}

/** Every item done. */
export function allOk(emails: readonly string[]): ItemResult[] {
  return emails.map((email) => ({ email, ok: true }));
}

/** An item's error from a failed call; a lost answer says the write may have been done. */
export function itemError(err: unknown): string {
  const message = (err as Error).message;
  if (err instanceof PlatformError && err.ambiguous) return `${message} (the answer was lost: it may have been done; the next plan reads it again)`;
  return message;
}

/** Longest value echoed into a message: enough to recognise it, not a 4 MiB scalar repeated in an error. */
const MAX_SHOWN = 80;

/** A value as JSON for a message, cut to MAX_SHOWN characters with the full length said. */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= MAX_SHOWN ? text : `${text.slice(0, MAX_SHOWN - 1)}… (${text.length} characters)`;
}

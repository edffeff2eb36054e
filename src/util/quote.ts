/** Longest value echoed into a message: enough to recognise it, not a 4 MiB scalar repeated in an error. */
const MAX_SHOWN = 80;

/** What JSON.stringify leaves as is but a reader cannot see: controls past ASCII, invisible and unassigned characters. */
const UNSEEN = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\p{Co}\p{Cn}\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/gu;

/**
 * A value as JSON for a message, cut to MAX_SHOWN characters with the full length said. Characters one
 * cannot see (a zero-width space, a bidirectional control) are written as \uXXXX escapes, so the message
 * shows what is there.
 */
export function quote(value: unknown): string {
  const text = (JSON.stringify(value) ?? String(value)).replace(UNSEEN, (c) =>
    [...c].map((u) => (u.codePointAt(0)! > 0xffff ? `\\u{${u.codePointAt(0)!.toString(16)}}` : `\\u${u.codePointAt(0)!.toString(16).padStart(4, '0')}`)).join(''),
  );
  return text.length <= MAX_SHOWN ? text : `${text.slice(0, MAX_SHOWN - 1)}… (${text.length} characters)`;
}

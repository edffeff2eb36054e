/** How deep a request body may nest: real bodies nest 4 levels; the manifest loader takes 64, and so does the API. */
export const MAX_BODY_DEPTH = 64;

/**
 * Whether JSON text nests arrays and objects deeper than `max`, read from the text before it is parsed: a
 * body 20,000 levels deep is refused before anything recursive (parsing, schema validation, the canonical
 * JSON an Idempotency-Key is checked against) can overflow the stack on it. Brackets inside strings do not
 * count. The text need not be valid JSON; the parser judges that afterwards.
 */
export function nestedDeeperThan(text: string, max: number = MAX_BODY_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return false;
}

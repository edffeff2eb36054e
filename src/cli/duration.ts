/**
 * Parses `500ms`, `30s`, `2m`, `1h`, `90d`, or `0`; undefined for anything else. A bare number other than 0
 * is refused: `--lock-timeout 5` could mean seconds or minutes, and guessing wrong waits far too long or not
 * at all.
 */
export function parseDuration(text: string): number | undefined {
  if (/^\s*0+\s*$/.test(text)) return 0;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
  return Math.round(Number(m[1]) * unit);
}

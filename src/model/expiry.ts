/**
 * Time-bound access: `expiresAt` on a Membership or one of its people, an RFC 3339 date (access ends at 00:00
 * UTC that day, as GitLab's membership expiry) or date-time with an offset.
 */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The instant access ends, in milliseconds since the epoch; undefined when `text` is not an RFC 3339 date or time. */
export function parseExpiry(text: string): number | undefined {
  const d = DATE.exec(text);
  if (d) {
    const ms = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]));
    // Date.UTC rolls 2026-02-31 over into March: a date that does not exist is refused instead.
    return new Date(ms).toISOString().slice(0, 10) === text ? ms : undefined;
  }
  const t = DATE_TIME.exec(text);
  if (!t) return undefined;
  const [, y, mo, da, h, mi, s = '00'] = t;
  if (Number(mo) < 1 || Number(mo) > 12 || Number(da) < 1 || Number(da) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  const day = Date.UTC(Number(y), Number(mo) - 1, Number(da));
  if (new Date(day).getUTCDate() !== Number(da)) return undefined;
  const ms = Date.parse(text.replace(' ', 'T'));
  return Number.isNaN(ms) ? undefined : ms;
}

/** Of two expiries of one person (declared twice), the later wins; no expiry at all wins over any. */
export function laterExpiry(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || b === undefined) return undefined;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

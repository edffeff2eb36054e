/**
 * Email addresses as the platforms accept them (a practical subset of RFC 5321: no quoted local parts,
 * no IP literals). Returns what is wrong, or undefined when the address is fine.
 */
// The common case in one regex; only an address that fails it is taken apart to say what is wrong.
const PLAIN_EMAIL = /^[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,63}$/i;

export function emailProblem(email: string): string | undefined {
  if (email.length <= 254 && PLAIN_EMAIL.test(email) && email.indexOf('@') <= 64 && !/[a-z0-9-]{64}/i.test(email)) return undefined;
  if (email.trim() !== email) return 'has leading or trailing spaces';
  const at = email.lastIndexOf('@');
  if (at === -1) return 'has no "@"';
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local.length === 0) return 'has nothing before "@"';
  if (local.length > 64) return 'has more than 64 characters before "@"';
  if (local.includes('@')) return 'has more than one "@"';
  if (!/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$/.test(local)) return 'has characters not allowed before "@"';
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return 'has a misplaced "." before "@"';
  if (domain.length === 0) return 'has no domain after "@"';
  if (!domain.includes('.')) return `domain "${domain}" has no "."`;
  const labels = domain.split('.');
  for (const label of labels) {
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label)) return `domain "${domain}" is not a valid host name`;
  }
  if (!/^[A-Za-z]{2,63}$/.test(labels[labels.length - 1]!)) return `domain "${domain}" does not end in a top-level domain`;
  return undefined;
}

/** The form platforms compare emails in: trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

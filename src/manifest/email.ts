/**
 * Email addresses as the platforms accept them (a practical subset of RFC 5321: no quoted local parts,
 * no IP literals). Returns what is wrong, or undefined when the address is fine.
 */
export function emailProblem(email: string): string | undefined {
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

/** Email globs of `spec.members.ignore`: `*` matches any run of characters, `?` one; case-insensitive. */
export function globMatcher(globs: string[]): (email: string) => boolean {
  if (globs.length === 0) return () => false;
  const res = globs.map(
    (g) => new RegExp(`^${g.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`),
  );
  return (email) => res.some((r) => r.test(email.toLowerCase()));
}

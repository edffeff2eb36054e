/** The most items one batch call carries (the built-in platform's limit, and the ceiling of --batch-size). */
export const MAX_BATCH = 1000;

/** The list cut into batches of at most `size` items, in order. */
export function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

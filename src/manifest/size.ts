import type { Note } from './diagnostics.js';
import type { Loaded } from './model.js';
import type { Source } from './sources.js';

/** The Kubernetes API server (etcd) refuses objects larger than about this, encoded. */
export const OBJECT_LIMIT_BYTES = 1.5 * 1024 * 1024;
/** A Membership this large is warned about: it is near the limit, or over it. */
export const WARN_AT_BYTES = 0.8 * OBJECT_LIMIT_BYTES;

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MiB`;

/**
 * A custom resource is stored whole, so one Membership cannot hold 100,000 people in a cluster. Warns about
 * each Membership whose JSON encoding nears the limit, and says to split it. Only objects from files large
 * enough to hold one are encoded (a YAML file is not much smaller than the JSON of what it holds).
 */
export function sizeNotes(objects: readonly Loaded[], sources: readonly Source[]): Note[] {
  const large = new Set(sources.filter((s) => s.bytes.length * 2 >= WARN_AT_BYTES).map((s) => s.name));
  const notes: Note[] = [];
  for (const { object, source } of objects) {
    if (object.kind !== 'Membership' || !large.has(source.file)) continue;
    const bytes = Buffer.byteLength(JSON.stringify(object));
    if (bytes < WARN_AT_BYTES) continue;
    const people = Array.isArray(object.spec?.members) ? object.spec.members.length : 0;
    notes.push({
      file: source.file,
      line: 0,
      column: 0,
      message:
        `warning: Membership "${object.metadata?.name}" is ${mib(bytes)} as JSON (${people} people); a Kubernetes API server refuses objects over about ${mib(OBJECT_LIMIT_BYTES)}, ` +
        `so it ${bytes > OBJECT_LIMIT_BYTES ? 'cannot' : 'may soon not'} be applied to a cluster: split it into several Memberships naming the same organization`,
    });
  }
  return notes;
}

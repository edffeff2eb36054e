import { createHash } from 'node:crypto';
import type { Diagnostic } from '../manifest/diagnostics.js';
import { canonicalJson } from '../model/canonical-json.js';
import type { DesiredOrg } from '../model/desired.js';

/**
 * The desired state the controller works from, as a source (a directory, Kubernetes custom resources)
 * last read it: only ever a set that validated. While the source's current input does not validate,
 * `problems` says why and `orgs` stays the last valid set, so half-saved files never act.
 */
export interface DesiredSnapshot {
  orgs: ReadonlyMap<string, DesiredOrg>;
  /**
   * Organizations whose declaration is being deleted, with what it last declared (a custom resource with a
   * deletionTimestamp, held by a finalizer): their deletionPolicy acts even if this process never saw them
   * alive. A directory source has none: a file that is gone is simply gone.
   */
  deleting?: ReadonlyMap<string, DesiredOrg>;
  problems: readonly Diagnostic[];
  /** A valid set has been read at least once. */
  loaded: boolean;
}

/** Where desired state comes from. `onChange` names the organizations whose desired state changed. */
export interface DesiredSource {
  /** Reads the first time and starts watching. */
  start(onChange: (changed: ReadonlySet<string>) => void): Promise<void>;
  snapshot(): DesiredSnapshot;
  stop(): Promise<void>;
}

/**
 * A digest of one organization's desired state, to tell which organizations a change of files touched
 * (a moved file changes no digest). Fed entry by entry: a 100,000-member organization is never one string.
 */
export function desiredDigest(org: DesiredOrg): string {
  const hash = createHash('sha256');
  const { members, integrations, ...rest } = org;
  hash.update(canonicalJson(rest));
  hash.update('\n#');
  for (const email of [...members.keys()].sort()) {
    // Where a person is declared (file, entry) is not what they are: moving them changes nothing to apply.
    const { source: _where, ...member } = members.get(email)!;
    hash.update(`\n${canonicalJson(member)}`);
  }
  hash.update('\n#');
  for (const name of [...integrations.keys()].sort()) hash.update(`\n${canonicalJson(integrations.get(name))}`);
  return hash.digest('hex');
}

/** Which organizations differ between two sets of digests: added, changed and removed. */
export function changedOrganizations(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): Set<string> {
  const out = new Set<string>();
  for (const [name, digest] of after) if (before.get(name) !== digest) out.add(name);
  for (const name of before.keys()) if (!after.has(name)) out.add(name);
  return out;
}

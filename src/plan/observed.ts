import { createHash } from 'node:crypto';
import type { ActualOrg } from '../model/actual.js';
import type { Capabilities } from '../model/capabilities.js';
import { canonicalJson } from '../model/canonical-json.js';
import type { Observed } from '../model/plan.js';

/**
 * What a plan records of an organization to tell later whether it changed: the platform's state version
 * where it keeps one, else a digest of everything the diff read (the same state gives the same digest).
 */
export function observedState(actual: ActualOrg | undefined, capabilities: Pick<Capabilities, 'stateVersion'>): Observed {
  if (!actual) return null;
  if (capabilities.stateVersion && actual.stateVersion !== undefined) return actual.stateVersion;
  const hash = createHash('sha256');
  const { members, invites, integrations, stateVersion: _ignored, ...org } = actual;
  hash.update(canonicalJson(org));
  // Sorted by key, one entry at a time: a million members never become one string.
  for (const map of [members, invites, integrations] as ReadonlyMap<string, unknown>[]) {
    hash.update('\n#');
    for (const key of [...map.keys()].sort()) hash.update(`\n${canonicalJson(map.get(key))}`);
  }
  return `sha256:${hash.digest('hex')}`;
}

import type { Capabilities } from '../model/capabilities.js';
import type { DesiredOrg } from '../model/desired.js';
import { ROLE_RANK } from '../model/roles.js';

/**
 * What the manifests ask of a platform that it cannot do, one message per request (naming the organization,
 * the field and the platform). A plan is never made around such a request: leaving it out in silence would
 * make the plan lie about what apply does.
 */
export function capabilityProblems(org: DesiredOrg, caps: Capabilities, platform: string): string[] {
  const out: string[] = [];
  const at = (field: string, what: string) => out.push(`organization "${org.name}": ${field}: ${what} on ${platform}`);
  const missing = (field: string, what: string) => at(field, caps.why?.[field] ? `${what}: ${caps.why[field]}` : what);
  if (org.plan !== undefined && !caps.organizations.plan) missing('spec.plan', 'the billing plan cannot be managed');
  if (org.cache !== undefined && !caps.organizations.cache) missing('spec.cache', 'the dataset cache cannot be managed');
  if (org.displayName !== undefined && !caps.organizations.rename) missing('spec.displayName', 'the display name cannot be changed');
  const roles = new Set(caps.roles);
  const badRoles = new Map<string, number>();
  let profiles = 0;
  let projects = 0;
  for (const m of org.members.values()) {
    if (!roles.has(m.role)) badRoles.set(m.role, (badRoles.get(m.role) ?? 0) + 1);
    if (m.firstName !== undefined || m.lastName !== undefined || m.description !== undefined) profiles++;
    if (m.projects.length) projects++;
  }
  for (const [role, count] of badRoles) {
    at('spec.members[].role', `role "${role}" (${count} ${count === 1 ? 'person' : 'people'}) does not exist; roles there: ${caps.roles.join(', ')}`);
  }
  if (profiles && !caps.profiles) at('spec.members[].firstName/lastName/description', `profiles of ${profiles} ${profiles === 1 ? 'person' : 'people'} cannot be set`);
  if (projects && !caps.invites.projects) at('spec.members[].projects', `project pre-assignments of ${projects} ${projects === 1 ? 'person' : 'people'} cannot be made`);
  const types = new Set(caps.integrationTypes);
  for (const i of org.integrations.values()) {
    if (!types.has(i.type)) {
      at(`Integration "${i.name}" spec.type`, types.size ? `integration type "${i.type}" is not supported (supported: ${caps.integrationTypes.join(', ')})` : 'integrations cannot be managed');
      continue;
    }
    const fields = caps.integrationFields?.[i.type];
    if (!fields) continue;
    const takes = (list: readonly string[]) => (list.length ? list.join(', ') : 'none');
    for (const option of Object.keys(i.options)) {
      if (!fields.options.includes(option)) at(`Integration "${i.name}" spec.options.${option}`, `${i.type} integrations take no such option (they take: ${takes(fields.options)})`);
    }
    // Only variable-backed credentials can be checked before they are read: a file's or Secret's fields are known at apply.
    for (const field of Object.keys(i.credentialsRef?.env ?? {})) {
      if (!fields.credentials.includes(field)) at(`Integration "${i.name}" spec.credentialsRef.env.${field}`, `${i.type} integrations take no such credential (they take: ${takes(fields.credentials)})`);
    }
  }
  if (org.integrationsPolicy === 'authoritative' && !types.size) at('spec.integrations.policy', 'integrations cannot be managed');
  // Validation accepts an admin at the top (platforms without owners); a platform with owners needs one declared.
  const top = [...caps.roles].sort((a, b) => ROLE_RANK[b] - ROLE_RANK[a])[0];
  if (org.membersPolicy === 'authoritative' && top && ![...org.members.values()].some((m) => m.role === top)) {
    at('spec.members.policy', `authoritative, but no member is declared "${top}": it would remove every ${top}; declare at least one`);
  }
  return out;
}

/**
 * What a plan cannot show or do on this platform, said once per organization (not errors: the plan is still
 * right about everything else). `invites` counts the people the plan invites.
 */
export function capabilityNotes(org: DesiredOrg, caps: Capabilities, platform: string, invites: number): string[] {
  const out: string[] = [];
  const at = (what: string) => out.push(`organization "${org.name}": ${what}`);
  if (!caps.invites.list) {
    at(
      `${platform} cannot list pending invites, so people invited earlier who have not accepted yet look uninvited: ` +
        `they are invited again on every apply until they accept (${invites} in this plan)` +
        (org.membersPolicy === 'authoritative' && !caps.invites.cancel ? '; pending invites of people no longer declared cannot be seen or cancelled' : ''),
    );
  }
  if (org.cache !== undefined && caps.organizations.cache === 'write-only') {
    at(`${platform} cannot report whether the dataset cache is on, so spec.cache is applied on every run${caps.why?.['spec.cache'] ? ` (${caps.why['spec.cache']})` : ''}`);
  }
  if (caps.optionDrift === 'none' && [...org.integrations.values()].some((i) => Object.keys(i.options).length)) {
    at(`${platform} does not return integration options, so options changed after an integration was created are not seen (recreate it under a new name to change them)`);
  }
  return out;
}

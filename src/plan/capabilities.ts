import type { Capabilities } from '../model/capabilities.js';
import type { DesiredOrg } from '../model/desired.js';

/**
 * What the manifests ask of a platform that it cannot do, one message per request (naming the organization,
 * the field and the platform). A plan is never made around such a request: leaving it out in silence would
 * make the plan lie about what apply does.
 */
export function capabilityProblems(org: DesiredOrg, caps: Capabilities, platform: string): string[] {
  const out: string[] = [];
  const at = (field: string, what: string) => out.push(`organization "${org.name}": ${field}: ${what} on ${platform}`);
  if (org.plan !== undefined && !caps.organizations.plan) at('spec.plan', 'the billing plan cannot be managed');
  if (org.cache !== undefined && !caps.organizations.cache) at('spec.cache', 'the dataset cache cannot be managed');
  if (org.displayName !== undefined && !caps.organizations.rename) at('spec.displayName', 'the display name cannot be changed');
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
    }
  }
  if (org.integrationsPolicy === 'authoritative' && !types.size) at('spec.integrations.policy', 'integrations cannot be managed');
  return out;
}

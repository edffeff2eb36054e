import { dirname } from 'node:path';
import type { DeclaredIn, DesiredMember, DesiredOrg, MemberSource } from '../model/desired.js';
import { normalizeEmail } from '../model/email.js';
import { laterExpiry, parseExpiry } from '../model/expiry.js';
import type { Integration, Loaded, Membership, Organization } from './model.js';
import { effectiveRole } from './semantics.js';

/** Annotation naming the platform's own id of an Organization (Crossplane's external-name, for id-addressed platforms). */
export const EXTERNAL_ID = 'orgctl.dev/external-id';

/**
 * Folds validated manifests into one desired state per organization. Validation has already refused
 * conflicting roles, unknown organizations and duplicates, so this only merges.
 */
export function desiredState(objects: Loaded[], sourceDirs: Map<string, string> = new Map()): Map<string, DesiredOrg> {
  const orgs = new Map<string, DesiredOrg>();
  for (const { object } of objects) {
    if (object.kind !== 'Organization') continue;
    const o = object as Organization;
    orgs.set(o.metadata.name, {
      name: o.metadata.name,
      ...(o.metadata.annotations?.[EXTERNAL_ID] ? { externalId: o.metadata.annotations[EXTERNAL_ID] } : {}),
      displayName: o.spec.displayName,
      plan: o.spec.plan,
      cache: o.spec.cache ? { enabled: o.spec.cache.enabled, podType: o.spec.cache.podType ?? 'small' } : undefined,
      membersPolicy: o.spec.members?.policy ?? 'additive',
      ignore: (o.spec.members?.ignore ?? []).map((g) => g.toLowerCase()),
      integrationsPolicy: o.spec.integrations?.policy ?? 'additive',
      deletionPolicy: o.spec.deletionPolicy ?? 'Orphan',
      members: new Map(),
      integrations: new Map(),
    });
  }
  for (const { object, source } of objects) {
    if (object.kind === 'Membership') {
      const m = object as Membership;
      const org = orgs.get(m.spec.organization);
      if (!org) continue;
      // Shared by the Membership's people; each keeps its index (placed in the file only if a plan finds a problem).
      const declaredIn: DeclaredIn = { file: source.file, doc: source.doc, object: source.prefix };
      m.spec.members.forEach((p, index) => {
        const email = normalizeEmail(p.email);
        const expiry = p.expiresAt ?? m.spec.expiresAt;
        const expiresAt = expiry === undefined ? undefined : new Date(parseExpiry(expiry)!).toISOString();
        const projects = p.projects ?? [];
        const member: DesiredMember = {
          email,
          role: effectiveRole(p, m.spec),
          firstName: p.firstName,
          lastName: p.lastName,
          description: p.description,
          projects,
          source: { in: declaredIn, index, projects: projects.length },
          ...(expiresAt ? { expiresAt } : {}),
        };
        const existing = org.members.get(email);
        // The same person in two Memberships (same role, or validation would have failed): merge what is said;
        // they keep access until the later of the two ends (or for good, if one has no end).
        if (!existing) {
          org.members.set(email, member);
          return;
        }
        const merged: DesiredMember = { ...existing, ...defined(member), projects: [...existing.projects, ...member.projects], source: alsoDeclared(existing.source, member.source!) };
        const later = laterExpiry(existing.expiresAt, member.expiresAt);
        if (later) merged.expiresAt = later;
        else delete merged.expiresAt;
        org.members.set(email, merged);
      });
    } else if (object.kind === 'Integration') {
      const i = object as Integration;
      const org = orgs.get(i.spec.organization);
      if (!org) continue;
      org.integrations.set(i.spec.name, {
        name: i.spec.name,
        type: i.spec.type,
        options: i.spec.options ?? {},
        credentialsRef: i.spec.credentialsRef && { ...i.spec.credentialsRef, baseDir: sourceDirs.get(source.file) ?? dirname(source.file) },
      });
    }
  }
  return orgs;
}

/** `first` with `then` appended to the end of its chain (copied: sources are shared by merged members). */
function alsoDeclared(first: MemberSource | undefined, then: MemberSource): MemberSource {
  return first ? { ...first, also: alsoDeclared(first.also, then) } : then;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

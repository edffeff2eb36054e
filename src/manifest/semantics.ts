import { DEFAULT_ROLE, type Role } from '../model/roles.js';
import { normalizeEmail } from '../model/email.js';
import { parseExpiry } from '../model/expiry.js';
import type { Finding } from './finding.js';
import { CREDENTIAL_FREE_TYPES, type IntegrationType, type Loaded, type Manifest, type SourceRef } from './model.js';
import type { FieldPath } from './path.js';
import { closest } from './suggest.js';

/** The role a listed person gets: their own, else the Membership's default, else the CRD default. */
export function effectiveRole(member: { role?: unknown }, spec: { role?: unknown }): Role {
  if (typeof member.role === 'string') return member.role as Role;
  if (typeof spec.role === 'string') return spec.role as Role;
  return DEFAULT_ROLE;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function record(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

interface Place {
  source: SourceRef;
  path: FieldPath;
}

/**
 * Checks what no single object's schema can: names unique per kind, references to declared organizations,
 * one role per person per organization, an owner for every authoritative organization, and credentialsRef
 * naming exactly one source. Objects may be partly invalid (their schema errors are reported elsewhere), so
 * every field is type-checked before use.
 */
export function checkSemantics(objects: Loaded[], opts: { complete?: boolean } = {}): Finding[] {
  // Without every input (one was refused or did not parse), what is missing from the set may be in it: an
  // undeclared Organization or a missing owner would be a misleading follow-on error.
  const complete = opts.complete ?? true;
  const findings: Finding[] = [];
  const at = (source: SourceRef, path: FieldPath) => [...source.prefix, ...path];
  const add = (place: Place, message: string, related?: Place, at_: 'key' | 'value' = 'value') =>
    findings.push({
      source: place.source,
      path: at(place.source, place.path),
      at: at_,
      message,
      related: related && { source: related.source, path: at(related.source, related.path), at: 'value' },
    });

  // 1. One object per kind, namespace and name.
  const names = new Map<string, Place>();
  for (const { object, source } of objects) {
    const meta = record(object.metadata);
    const name = str(meta.name);
    if (!name) continue;
    // An Organization's name is its name on the platform: one per name, whatever the namespace.
    const key = `${object.kind}/${object.kind === 'Organization' ? '' : (str(meta.namespace) ?? '')}/${name}`;
    const first = names.get(key);
    if (first) add({ source, path: ['metadata', 'name'] }, `duplicate ${object.kind} "${name}": also declared at {related}`, first);
    else names.set(key, { source, path: ['metadata', 'name'] });
  }

  // 2. Organizations and what refers to them.
  const orgs = new Map<string, Loaded<Extract<Manifest, { kind: 'Organization' }>>>();
  for (const l of objects) {
    const name = str(record(l.object.metadata).name);
    if (l.object.kind === 'Organization' && name && !orgs.has(name)) orgs.set(name, l as Loaded<Extract<Manifest, { kind: 'Organization' }>>);
  }
  const orgNames = [...orgs.keys()];
  const checkReference = ({ object, source }: Loaded): string | undefined => {
    const org = str(record(object.spec).organization);
    if (!org) return undefined;
    if (!orgs.has(org) && complete) {
      const guess = closest(org, orgNames);
      const declared = orgNames.length ? `declared organizations: ${orgNames.join(', ')}` : 'no Organization is declared in these manifests';
      add(
        { source, path: ['spec', 'organization'] },
        `organization "${org}" is not declared; ${declared}${guess ? `; did you mean "${guess}"?` : ''} (add its Organization manifest to the -f paths)`,
      );
    }
    return org;
  };

  // 3. One role per person per organization; collect owners. This loop runs once per declared person
  //    (100k in the benchmark), so it keeps per-person allocations to one small record.
  interface FirstDeclaration {
    source: SourceRef;
    index: number;
    ownRole: boolean;
    role: string;
  }
  const memberPath = (d: { index: number; ownRole: boolean }): FieldPath => ['spec', 'members', d.index, d.ownRole ? 'role' : 'email'];
  const people = new Map<string, Map<string, FirstDeclaration>>(); // org -> email -> first declaration
  const owners = new Map<string, number>();
  const integrationNames = new Map<string, Place>();
  for (const l of objects) {
    if (l.object.kind === 'Membership') {
      const org = checkReference(l);
      const spec = record(l.object.spec);
      if (!org || !Array.isArray(spec.members)) continue;
      let seen = people.get(org);
      if (!seen) people.set(org, (seen = new Map()));
      const expiry = (value: unknown, path: FieldPath) => {
        if (typeof value === 'string' && parseExpiry(value) === undefined) {
          add({ source: l.source, path }, `${JSON.stringify(value.slice(0, 80))} is not an RFC 3339 date or time; write e.g. 2026-12-31 (access ends at 00:00 UTC that day) or 2026-12-31T18:00:00Z`);
        }
      };
      expiry(spec.expiresAt, ['spec', 'expiresAt']);
      const members = spec.members as unknown[];
      for (let index = 0; index < members.length; index++) {
        const member = record(members[index]);
        if (member.expiresAt !== undefined) expiry(member.expiresAt, ['spec', 'members', index, 'expiresAt']);
        const email = str(member.email);
        if (!email) continue;
        const role = effectiveRole(member, spec);
        // Owners, or admins on platforms without owners (Ango Hub): plan checks the platform's top role.
        if (role === 'owner' || role === 'admin') owners.set(org, (owners.get(org) ?? 0) + 1);
        const key = normalizeEmail(email);
        const first = seen.get(key);
        const here = { source: l.source, index, ownRole: member.role !== undefined, role };
        if (!first) seen.set(key, here);
        else if (first.role !== role) {
          add(
            { source: l.source, path: memberPath(here) },
            `${key} is declared in organization "${org}" with role "${role}" here and with role "${first.role}" at {related}; declare each person once, or with one role`,
            { source: first.source, path: memberPath(first) },
          );
        }
      }
    } else if (l.object.kind === 'Integration') {
      const org = checkReference(l);
      const spec = record(l.object.spec);
      const name = str(spec.name);
      if (org && name) {
        const key = `${org}\u0000${name}`;
        const first = integrationNames.get(key);
        if (first) add({ source: l.source, path: ['spec', 'name'] }, `integration "${name}" of organization "${org}" is also declared at {related}`, first);
        else integrationNames.set(key, { source: l.source, path: ['spec', 'name'] });
      }
      checkCredentialsRef(l, add);
    }
  }

  // 4. An authoritative organization removes whoever is not declared: without a declared owner it would
  //    remove every owner. Platforms without owners (Ango Hub) have admins at the top, so here an admin is
  //    enough; plan checks the role the target platform has at the top (plan/capabilities.ts).
  for (const [name, l] of orgs) {
    const members = record(record(l.object.spec).members);
    if (complete && members.policy === 'authoritative' && !owners.get(name)) {
      add(
        { source: l.source, path: ['spec', 'members', 'policy'] },
        `organization "${name}" is authoritative but no Membership declares an owner or admin of it; declare at least one member with role "owner" (or "admin" on a platform without owners, such as Ango Hub)`,
      );
    }
  }
  return findings;
}

function checkCredentialsRef(l: Loaded, add: (place: Place, message: string) => void): void {
  const spec = record(l.object.spec);
  const type = str(spec.type) as IntegrationType | undefined;
  const ref = spec.credentialsRef;
  const place = (path: FieldPath): Place => ({ source: l.source, path });
  if (ref === undefined) {
    if (type && !CREDENTIAL_FREE_TYPES.has(type)) {
      add(
        place(['spec', 'credentialsRef']),
        `required field is missing: a "${type}" integration needs credentials; set credentialsRef.secretName (in a cluster), credentialsRef.env or credentialsRef.file`,
      );
    }
    return;
  }
  if (ref === null || typeof ref !== 'object' || Array.isArray(ref)) return; // the schema reports the type
  const r = ref as Record<string, unknown>;
  if (type && CREDENTIAL_FREE_TYPES.has(type)) {
    add(place(['spec', 'credentialsRef']), `a "${type}" integration authenticates by trust relationship and takes no credentials; remove credentialsRef`);
    return;
  }
  const sources = ['secretName', 'env', 'file'].filter((k) => r[k] !== undefined);
  if (sources.length !== 1) {
    add(
      place(['spec', 'credentialsRef']),
      sources.length === 0
        ? 'set exactly one of secretName, env, file'
        : `set exactly one of secretName, env, file (found ${sources.join(' and ')})`,
    );
  }
  if (r.keys !== undefined && r.secretName === undefined) {
    add(place(['spec', 'credentialsRef', 'keys']), 'keys maps credential fields to keys of a Kubernetes Secret; it needs secretName');
  }
}

/**
 * Entries whose access has already ended at `now` (a note, not an error: from now on a plan removes them),
 * each at the field that set its expiry.
 */
export function expiredEntries(objects: Loaded[], now: number): { source: SourceRef; path: FieldPath; message: string }[] {
  const out: { source: SourceRef; path: FieldPath; message: string }[] = [];
  for (const { object, source } of objects) {
    if (object.kind !== 'Membership') continue;
    const spec = record(object.spec);
    const members = Array.isArray(spec.members) ? (spec.members as unknown[]) : [];
    const whole = typeof spec.expiresAt === 'string' ? parseExpiry(spec.expiresAt) : undefined;
    let fromWhole = 0;
    members.forEach((m, index) => {
      const member = record(m);
      if (typeof member.expiresAt === 'string') {
        const at = parseExpiry(member.expiresAt);
        if (at !== undefined && at <= now) {
          out.push({ source, path: [...source.prefix, 'spec', 'members', index, 'expiresAt'], message: `access of ${str(member.email) ?? 'this person'} expired on ${new Date(at).toISOString()}; a plan removes them` });
        }
      } else if (whole !== undefined && whole <= now) fromWhole++;
    });
    if (fromWhole) {
      out.push({
        source,
        path: [...source.prefix, 'spec', 'expiresAt'],
        message: `access of ${fromWhole} ${fromWhole === 1 ? 'person' : 'people'} listed here expired on ${new Date(whole!).toISOString()}; a plan removes them`,
      });
    }
  }
  return out;
}

import type { ActualOrg } from '../model/actual.js';
import { canonicalJson } from '../model/canonical-json.js';
import type { CredentialsSource, DesiredOrg } from '../model/desired.js';
import { change, type Action, type Change, type IntegrationSpec, type InviteSpec } from '../model/plan.js';
import { PROFILE_FIELDS, ROLE_RANK, type Profile } from '../model/roles.js';
import { globMatcher } from './glob.js';

/** Changes are applied in this order, so an organization never has zero owners at any step. */
const PHASE: Record<Action, number> = {
  'create-organization': 0,
  rename: 1,
  'update-plan': 1,
  'cache-apply': 1,
  'cache-destroy': 1,
  'create-integration': 2,
  'update-integration': 2,
  invite: 3,
  'resend-invite': 3,
  reinvite: 3,
  'update-profile': 3,
  'update-role': 3, // promotions; demotions are moved to phase 4 below
  'remove-member': 5,
  'cancel-invite': 5,
  'delete-integration': 6,
};

function phase(c: Change): number {
  if (c.action === 'update-role') return ROLE_RANK[c.after.role] > ROLE_RANK[c.before.role] ? 3 : 4;
  return PHASE[c.action];
}

/**
 * Whether an existing integration's stored credentials are the desired ones, as the platform told the
 * planner: `match`, `differ`, or `unknown` (the platform cannot tell, or the values could not be read).
 * Integrations absent from the map are not compared.
 */
export type CredentialsComparison = ReadonlyMap<string, 'match' | 'differ' | 'unknown'>;

export interface DiffOptions {
  /** The time expiries are judged at, in ms since the epoch (the planner passes the clock's). Default: now. */
  now?: number;
  /** The acting identity: creates new organizations unless it acts for others. */
  actor?: string;
  /** The actor may create an organization for its first declared owner (a platform operator). */
  actsForOthers?: boolean;
  /** Credentials of existing integrations, as compared by the platform. */
  credentials?: CredentialsComparison;
  /** The platform returns integration options (Capabilities.optionDrift); default true. */
  compareOptions?: boolean;
  /** The platform cannot report the cache state (Capabilities.organizations.cache `write-only`): a declared cache is applied every time. */
  cacheUnknown?: boolean;
}

/**
 * What must change for `actual` to become `desired`. Pure and deterministic: no I/O, changes sorted by
 * phase, then action, then target. `actual` undefined means the organization does not exist yet.
 */
export function diffOrganization(desired: DesiredOrg, actual: ActualOrg | undefined, opts: DiffOptions = {}): Change[] {
  const org = desired.name;
  const out: Change[] = [];
  const ignored = globMatcher(desired.ignore);
  // Whoever creates a new organization is its first member (an owner): they need no invite.
  let creator: string | undefined;

  if (!actual) {
    creator = opts.actsForOthers ? ([...desired.members.values()].find((m) => m.role === 'owner')?.email ?? opts.actor) : opts.actor;
    out.push(
      change(
        'create-organization',
        org,
        org,
        null,
        { displayName: desired.displayName ?? org, plan: desired.plan ?? 'freemium', ...(creator ? { creator } : {}) },
        'organization does not exist on the platform',
      ),
    );
  } else {
    if (desired.displayName !== undefined && desired.displayName !== actual.displayName) {
      out.push(change('rename', org, org, { displayName: actual.displayName }, { displayName: desired.displayName }, 'display name differs'));
    }
    if (desired.plan !== undefined && desired.plan !== actual.plan) {
      out.push(change('update-plan', org, org, { plan: actual.plan }, { plan: desired.plan }, 'plan differs'));
    }
  }
  const cacheNow = actual?.cache ?? { enabled: false, podType: null };
  if (desired.cache && opts.cacheUnknown) {
    const why = 'the platform cannot report the cache state; applied on every run';
    if (desired.cache.enabled) out.push(change('cache-apply', org, org, null, { podType: desired.cache.podType }, why));
    else out.push(change('cache-destroy', org, org, { podType: null }, null, why));
  } else if (desired.cache?.enabled && (!cacheNow.enabled || cacheNow.podType !== desired.cache.podType)) {
    out.push(
      change(
        'cache-apply',
        org,
        org,
        cacheNow.enabled ? { podType: cacheNow.podType } : null,
        { podType: desired.cache.podType },
        cacheNow.enabled ? 'cache pod type differs' : 'cache is not enabled',
      ),
    );
  } else if (desired.cache && !desired.cache.enabled && cacheNow.enabled) {
    out.push(change('cache-destroy', org, org, { podType: cacheNow.podType }, null, 'cache is enabled but declared disabled'));
  }

  // People.
  const members = actual?.members ?? new Map();
  const invites = actual?.invites ?? new Map();
  const creatorProfile = creator ? profileOf(desired.members.get(creator) ?? {}) : {};
  if (creator && Object.keys(creatorProfile).length) {
    out.push(change('update-profile', org, creator, null, creatorProfile, "profile of the new organization's creator"));
  }
  // Time-bound access: from its end on, a person is treated as not declared, and removed whatever the policy.
  const now = opts.now ?? Date.now();
  const expired: { email: string; expiresAt: string }[] = [];
  for (const [email, want] of desired.members) {
    if (ignored(email) || email === creator) continue;
    if (want.expiresAt !== undefined && Date.parse(want.expiresAt) <= now) {
      expired.push({ email, expiresAt: want.expiresAt });
      continue;
    }
    const member = members.get(email);
    if (member) {
      if (member.role !== want.role) {
        out.push(change('update-role', org, email, { role: member.role }, { role: want.role }, `role is ${member.role}, declared ${want.role}`));
      }
      const profileBefore: Profile = {};
      const profileAfter: Profile = {};
      for (const field of PROFILE_FIELDS) {
        const w = want[field];
        if (w !== undefined && w !== member[field]) {
          profileBefore[field] = member[field];
          profileAfter[field] = w;
        }
      }
      if (Object.keys(profileAfter).length) {
        out.push(change('update-profile', org, email, profileBefore, profileAfter, `${Object.keys(profileAfter).join(', ')} differ`));
      }
      continue;
    }
    // Made only for a change: most pending invites need none, and a bulk onboarding has 100,000 of them.
    const after = (): InviteSpec => ({ role: want.role, ...profileOf(want), ...(want.projects.length ? { projects: want.projects } : {}) });
    const invite = invites.get(email);
    if (!invite) {
      out.push(change('invite', org, email, null, after(), 'not a member and not invited'));
    } else if (invite.status === 'expired') {
      out.push(change('resend-invite', org, email, { role: invite.role, status: 'expired' }, after(), 'invite expired'));
    } else if (invite.role !== want.role) {
      out.push(change('reinvite', org, email, { role: invite.role, status: 'pending' }, after(), `pending invite has role ${invite.role}, declared ${want.role}`));
    }
  }
  for (const { email, expiresAt } of expired) {
    const reason = `access expired on ${expiresAt}`;
    const member = members.get(email);
    if (member) out.push(change('remove-member', org, email, { role: member.role }, null, reason));
    const invite = invites.get(email);
    if (invite) out.push(change('cancel-invite', org, email, { role: invite.role, status: invite.status }, null, reason));
  }
  if (desired.membersPolicy === 'authoritative') {
    for (const [email, member] of members) {
      if (desired.members.has(email) || ignored(email)) continue;
      out.push(change('remove-member', org, email, { role: member.role }, null, 'not declared (authoritative policy)'));
    }
    for (const [email, invite] of invites) {
      if (desired.members.has(email) || ignored(email)) continue;
      out.push(change('cancel-invite', org, email, { role: invite.role, status: invite.status }, null, 'not declared (authoritative policy)'));
    }
  }

  // Integrations.
  const integrations = actual?.integrations ?? new Map();
  for (const [name, want] of desired.integrations) {
    const have = integrations.get(name);
    // Saved plans keep where credentials come from (names, never values), so `apply plan.json` can read them.
    const after: IntegrationSpec = {
      type: want.type,
      options: want.options,
      ...(want.credentialsRef ? { credentials: describeCredentials(want.credentialsRef), credentialsRef: want.credentialsRef } : {}),
    };
    if (!have) {
      out.push(change('create-integration', org, name, null, after, 'integration does not exist'));
      continue;
    }
    const reasons: string[] = [];
    if (have.type !== want.type) reasons.push(`type is ${have.type}, declared ${want.type}`);
    if (opts.compareOptions !== false && canonicalJson(have.options) !== canonicalJson(want.options)) reasons.push('options differ');
    // Only a platform that says the values differ makes an update; one that cannot tell never does.
    if (want.credentialsRef && opts.credentials?.get(name) === 'differ') reasons.push("credentials differ from the platform's");
    if (reasons.length) {
      out.push(change('update-integration', org, name, { type: have.type, options: have.options }, after, reasons.join('; ')));
    }
  }
  if (desired.integrationsPolicy === 'authoritative') {
    for (const [name, have] of integrations) {
      if (!desired.integrations.has(name)) {
        out.push(change('delete-integration', org, name, { type: have.type, options: have.options }, null, 'not declared (authoritative policy)'));
      }
    }
  }

  return sortChanges(out);
}

/** The order changes are applied in: by phase, then action, then target. */
export function sortChanges(changes: Change[]): Change[] {
  return changes.sort((a, b) => phase(a) - phase(b) || (a.action < b.action ? -1 : a.action > b.action ? 1 : 0) || (a.target < b.target ? -1 : 1));
}

/**
 * What removing an organization's manifests with `deletionPolicy: Delete` does: the people and integrations
 * they declared are removed (members), cancelled (open invites) and deleted, and nothing else. The creator,
 * whom no platform lets go, and the acting identity, who would lock itself out, stay; the organization
 * itself cannot be deleted. Pure, as diff is.
 */
export function teardownOrganization(declared: DesiredOrg, actual: ActualOrg | undefined, opts: { actor?: string } = {}): { changes: Change[]; notes: string[] } {
  const org = declared.name;
  const out: Change[] = [];
  const notes: string[] = [];
  if (!actual) return { changes: out, notes };
  const ignored = globMatcher(declared.ignore);
  for (const email of declared.members.keys()) {
    if (ignored(email)) continue;
    const member = actual.members.get(email);
    if (member) {
      if (member.creator) notes.push(`${email} created "${org}" and is kept (no platform removes a creator)`);
      else if (email === opts.actor?.toLowerCase()) notes.push(`${email} is the identity applying this and is kept`);
      else out.push(change('remove-member', org, email, { role: member.role }, null, 'its manifests were deleted (deletionPolicy: Delete)'));
      continue;
    }
    const invite = actual.invites.get(email);
    if (invite) out.push(change('cancel-invite', org, email, { role: invite.role, status: invite.status }, null, 'its manifests were deleted (deletionPolicy: Delete)'));
  }
  for (const name of declared.integrations.keys()) {
    const have = actual.integrations.get(name);
    if (have) out.push(change('delete-integration', org, name, { type: have.type, options: have.options }, null, 'its manifests were deleted (deletionPolicy: Delete)'));
  }
  return { changes: sortChanges(out), notes };
}

function profileOf(p: Profile): Profile {
  const out: Profile = {};
  if (p.firstName !== undefined) out.firstName = p.firstName;
  if (p.lastName !== undefined) out.lastName = p.lastName;
  if (p.description !== undefined) out.description = p.description;
  return out;
}

/** Where credentials come from, for plans and output: names of variables, files and secrets, never values. */
export function describeCredentials(ref: CredentialsSource): string {
  if (ref.env) return `env ${Object.values(ref.env).join(', ')}`;
  if (ref.file) return `file ${ref.file}`;
  if (ref.secretName) return `secret ${ref.secretName}`;
  return 'none';
}

/** When the next declared access of an organization ends after `now`, if any (the controller wakes up then). */
export function nextExpiry(desired: DesiredOrg, now: number): number | undefined {
  let next: number | undefined;
  for (const m of desired.members.values()) {
    if (m.expiresAt === undefined) continue;
    const at = Date.parse(m.expiresAt);
    if (at > now && (next === undefined || at < next)) next = at;
  }
  return next;
}

/** Access that ends within `withinMs` after `now`, soonest first (`plan --expiring-within`). */
export function upcomingExpiries(desired: Iterable<DesiredOrg>, now: number, withinMs: number): { organization: string; email: string; role: string; expiresAt: string }[] {
  const out: { organization: string; email: string; role: string; expiresAt: string }[] = [];
  for (const org of desired) {
    for (const m of org.members.values()) {
      if (m.expiresAt === undefined) continue;
      const at = Date.parse(m.expiresAt);
      if (at > now && at <= now + withinMs) out.push({ organization: org.name, email: m.email, role: m.role, expiresAt: m.expiresAt });
    }
  }
  return out.sort((a, b) => a.expiresAt.localeCompare(b.expiresAt) || a.organization.localeCompare(b.organization) || a.email.localeCompare(b.email));
}

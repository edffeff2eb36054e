import type { Capabilities } from '../../src/model/capabilities.js';
import type { Role } from '../../src/model/roles.js';
import { ANGO_CAPABILITIES } from '../../src/platform/ango/capabilities.js';
import { BUILTIN_CAPABILITIES } from '../../src/platform/builtin/capabilities.js';
import { dataloopCapabilities } from '../../src/platform/dataloop/capabilities.js';
import { EmbeddedConnection, EmbeddedLeases, EmbeddedPlatform } from '../../src/platform/builtin/embedded.js';
import type { CredentialResolver } from '../../src/platform/credentials.js';
import { NoLocks, type Locks } from '../../src/platform/locks.js';
import { openAngo } from '../../src/platform/ango/platform.js';
import { openDataloop } from '../../src/platform/dataloop/platform.js';
import type { Platform } from '../../src/platform/types.js';
import { FakeAngo } from '../fakes/ango.js';
import { FakeDataloop } from '../fakes/dataloop.js';

export const ME = 'ops@acme.example';
export const ORG = 'acme';

/** Fast retries for in-process tests: the behaviour is the same, the waits are not. */
export const QUICK_RETRY = { attempts: 3, baseMs: 1, maxMs: 5 };

/** Resolves `credentialsRef.env` from a fixed map, as a CI job's environment would. */
export const credentials = (values: Record<string, string>): CredentialResolver => ({
  async resolve(ref) {
    return Object.fromEntries(Object.entries(ref.env ?? {}).map(([field, variable]) => [field, values[variable]!]));
  },
});

/** One platform under test, opened on a fresh organization `acme` that has only ME in it, at ME's `top` role. */
export interface Opened {
  platform: Platform;
  locks: Locks;
  /** What the Organization manifest says of its identity (Ango: its id). */
  externalId?: string;
  /** Invitees accept (all pending ones). */
  acceptAll(): void;
  /** Someone joins outside orgctl. */
  addMember(email: string, role: Role): void;
  /** Members and roles, as the platform holds them (emails lower-case). */
  members(): Map<string, string>;
  /** Write requests sent over the wire so far (undefined: in-process platform). */
  wireWrites(): number | undefined;
  close(): Promise<void>;
}

export interface Subject {
  name: string;
  caps: Capabilities;
  /** ME's role; a higher and a lower role for role changes. */
  top: Role;
  high: Role;
  low: Role;
  /** The s3 integration as this platform takes it. */
  s3Options: Record<string, string>;
  open(): Promise<Opened>;
}

export const S3_ENV = { accessKeyId: 'S3_KEY', secretAccessKey: 'S3_SECRET' };
export const S3_VALUES = { S3_KEY: 'AKIAEXAMPLE', S3_SECRET: 'CANARY-scenario-secret' };

const builtin: Subject = {
  name: 'built-in (embedded)',
  caps: BUILTIN_CAPABILITIES,
  top: 'owner',
  high: 'admin',
  low: 'member',
  s3Options: { bucket: 'raw' },
  async open() {
    const conn = new EmbeddedConnection(':memory:', ME);
    const platform = new EmbeddedPlatform(conn);
    await platform.createOrganization(ORG, { displayName: ORG, plan: 'freemium', creator: ME });
    const s = conn.service;
    return {
      platform,
      locks: new EmbeddedLeases(conn),
      acceptAll() {
        for (const i of s.members.listInvites(conn.operator, ORG, { status: 'open', limit: 1000 }).items) s.members.acceptByEmail(conn.operator, ORG, i.email);
      },
      addMember(email, role) {
        s.members.invite(conn.operator, ORG, [{ email, role }] as never);
        s.members.acceptByEmail(conn.operator, ORG, email);
      },
      members: () => new Map(s.members.list(conn.operator, ORG, { limit: 1000 }).items.map((m) => [m.email, m.role])),
      wireWrites: () => undefined,
      close: () => platform.close(),
    };
  },
};

const dataloop: Subject = {
  name: 'Dataloop (fake)',
  caps: dataloopCapabilities(false),
  top: 'owner',
  high: 'admin',
  low: 'member',
  s3Options: {},
  async open() {
    const fake = await new FakeDataloop().start();
    const org = fake.addOrg('Acme Vision', ME);
    // An org owner (not a Dataloop superuser), who names the organization by id.
    const platform = openDataloop(fake.base, fake.token(ME), undefined, { retry: QUICK_RETRY, sleep: async () => undefined });
    return {
      platform,
      locks: new NoLocks(),
      externalId: org.id,
      acceptAll: () => fake.acceptAll(org),
      addMember: (email, role) => fake.addMember(org, email, role),
      members: () => new Map(org.members),
      wireWrites: () => fake.requests.filter((r) => r.method !== 'GET').length,
      async close() {
        await platform.close();
        await fake.stop();
      },
    };
  },
};

const ango: Subject = {
  name: 'Ango Hub (fake)',
  caps: ANGO_CAPABILITIES,
  top: 'admin',
  high: 'admin',
  low: 'member',
  s3Options: { bucket: 'raw', region: 'eu-west-1' },
  async open() {
    const fake = await new FakeAngo().start();
    const org = fake.addOrg(ME);
    // The fake keeps Ango's 100 a minute; a scenario makes far fewer requests, so no client spacing is needed here.
    const platform = openAngo(fake.base, fake.apiKey(ME, org), { user: ME, rateLimitPerMinute: 60_000, retry: QUICK_RETRY });
    return {
      platform,
      locks: new NoLocks(),
      externalId: org.id,
      acceptAll: () => fake.acceptAll(org),
      addMember: (email, role) => fake.addMember(org, email, role === 'admin' ? 'Admin' : 'Member'),
      members: () => new Map([...org.members].map(([e, m]) => [e, m.role.toLowerCase()])),
      wireWrites: () => fake.requests.filter((r) => r.method !== 'GET').length,
      async close() {
        await platform.close();
        await fake.stop();
      },
    };
  },
};

export const SUBJECTS: Subject[] = [builtin, dataloop, ango];

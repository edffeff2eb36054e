import type { Capabilities } from '../../model/capabilities.js';

/** Ango Hub's documented limit on the standard plan (platform-apis.md 2.1). */
export const ANGO_RATE_LIMIT = 100;

/**
 * What Ango Hub's API v2 lets orgctl do (platform-apis.md section 2): members and invites of an organization
 * addressed by id, and storages. Two organization roles; no plan, cache, rename or profiles.
 */
export const ANGO_CAPABILITIES: Capabilities = Object.freeze({
  roles: ['admin', 'member'] as const,
  organizations: { create: false, rename: false, plan: false, cache: false },
  // Pending invites are listed; resend is delete + send (no resend call exists); invites pre-assign projects.
  invites: { list: true, cancel: true, resend: true, projects: true },
  profiles: false,
  // Storages of the AWS kind: the only one whose credentials the docs show ({accessKeyId, secretAccessKey}).
  integrationTypes: ['s3'],
  integrationFields: { s3: { options: ['bucket', 'region'], credentials: ['accessKeyId', 'secretAccessKey'] } },
  credentialDrift: 'none' as const,
  optionDrift: 'compare' as const,
  stateVersion: false,
  idempotentWrites: false,
  rateLimitPerMinute: ANGO_RATE_LIMIT,
  why: {
    'spec.plan': "Ango Hub's API has no billing plan",
    'spec.cache': 'Ango Hub has no dataset cache',
    'spec.displayName': "Ango Hub's API cannot rename an organization",
  },
});

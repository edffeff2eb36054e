import type { Capabilities } from '../../model/capabilities.js';
import { DATALOOP_INTEGRATION_FIELDS, DATALOOP_INTEGRATION_TYPES } from './integrations.js';

/**
 * What Dataloop's API lets orgctl do (platform-apis.md section 1). Changing the billing plan needs a superuser
 * token; whether the token is one is learnt from `GET /orgs`, which Dataloop allows superusers only.
 */
export function dataloopCapabilities(superuser: boolean): Capabilities {
  return Object.freeze({
    roles: ['owner', 'admin', 'member', 'worker'] as const,
    organizations: {
      // dtlpy's organizations.create() raises "removed"; POST /orgs is used by its tests only.
      create: false,
      // The docs say admins rename in the console; no API call does it.
      rename: false,
      plan: superuser,
      // Switched by the documented sequence (services/fs-cache, services/cache); nothing reads its state.
      cache: 'write-only' as const,
    },
    // No endpoint lists, cancels or resends a pending invite; POST members is the invite.
    invites: { list: false, cancel: false, resend: false, projects: false },
    // PATCH members takes {email, role} only.
    profiles: false,
    integrationTypes: DATALOOP_INTEGRATION_TYPES,
    integrationFields: DATALOOP_INTEGRATION_FIELDS,
    // Integrations are listed as {id, name, type, ...}: neither options nor anything derived from the secrets.
    credentialDrift: 'none' as const,
    optionDrift: 'none' as const,
    stateVersion: false,
    idempotentWrites: false,
    why: {
      ...(superuser ? {} : { 'spec.plan': 'changing it needs a Dataloop superuser token (PATCH /orgs/{id}/plan), and this token is not one (GET /orgs answered 403)' }),
      'spec.displayName': "Dataloop's API has no call that renames an organization (rename it in the console)",
      'spec.cache': 'Dataloop can switch it but has no call that reads it',
    },
  });
}

import type { Capabilities } from '../../model/capabilities.js';
import { ROLES } from '../../model/roles.js';

/** The built-in platform (embedded or over HTTP) does everything orgctl can ask. */
export const BUILTIN_CAPABILITIES: Capabilities = Object.freeze({
  roles: ROLES,
  organizations: { create: true, rename: true, plan: true, cache: true },
  invites: { list: true, cancel: true, resend: true, projects: true },
  profiles: true,
  integrationTypes: ['s3', 'gcs', 'azureblob', 'minio', 'key_value', 'aws-sts', 'aws-cross', 'gcp-cross', 'private-registry'],
  credentialDrift: 'compare',
  stateVersion: true,
  idempotentWrites: true,
});

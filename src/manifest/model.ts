/** Typed view of the three orgctl kinds. Their shape is defined by the CRDs in crds/; these types mirror them. */

export const GROUP = 'orgctl.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

import type { OrgPlan, Policy, PodType, ProjectRole, Role } from '../model/roles.js';

export { ROLES, type Role, type PodType, type Policy, type ProjectRole } from '../model/roles.js';
export type IntegrationType =
  | 's3'
  | 'gcs'
  | 'azureblob'
  | 'minio'
  | 'key_value'
  | 'aws-sts'
  | 'aws-cross'
  | 'gcp-cross'
  | 'private-registry';

/** Integration types that authenticate by trust relationship and take no secret values. */
export const CREDENTIAL_FREE_TYPES: ReadonlySet<IntegrationType> = new Set(['aws-cross', 'gcp-cross']);

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generation?: number;
  [field: string]: unknown;
}

/** Where an object was declared: file, document index in that file, and path prefix (for `kind: List` items). */
export interface SourceRef {
  file: string;
  doc: number;
  prefix: (string | number)[];
}

interface Base<K extends string, S> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
  status?: Record<string, unknown>;
}

export interface OrganizationSpec {
  displayName?: string;
  plan?: OrgPlan;
  cache?: { enabled: boolean; podType?: PodType };
  members?: { policy?: Policy; ignore?: string[] };
  integrations?: { policy?: Policy };
  deletionPolicy?: 'Orphan' | 'Delete';
}

export interface MemberSpec {
  email: string;
  role?: Role;
  expiresAt?: string;
  firstName?: string;
  lastName?: string;
  description?: string;
  projects?: { project: string; role: ProjectRole }[];
}

export interface MembershipSpec {
  organization: string;
  role?: Role;
  expiresAt?: string;
  members: MemberSpec[];
}

export interface CredentialsRef {
  secretName?: string;
  keys?: Record<string, string>;
  env?: Record<string, string>;
  file?: string;
}

export interface IntegrationSpec {
  organization: string;
  name: string;
  type: IntegrationType;
  options?: Record<string, unknown>;
  credentialsRef?: CredentialsRef;
}

export type Organization = Base<'Organization', OrganizationSpec>;
export type Membership = Base<'Membership', MembershipSpec>;
export type Integration = Base<'Integration', IntegrationSpec>;
export type Manifest = Organization | Membership | Integration;
export type Kind = Manifest['kind'];

/** A manifest and the place it was declared. */
export interface Loaded<M extends Manifest = Manifest> {
  object: M;
  source: SourceRef;
}

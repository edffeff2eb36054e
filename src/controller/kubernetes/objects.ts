import { API_VERSION, GROUP, VERSION } from '../../manifest/model.js';

/** The finalizer every managed object gets, so its deletionPolicy acts before it goes. */
export const FINALIZER = 'orgctl.dev/finalizer';

export type Kind = 'Organization' | 'Membership' | 'Integration';
export const KINDS: readonly Kind[] = ['Organization', 'Membership', 'Integration'];
export const PLURALS: Record<Kind, string> = { Organization: 'organizations', Membership: 'memberships', Integration: 'integrations' };

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** An orgctl custom resource as the API server returns it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** `Membership/team-a/acme-ml`: one object, as the source indexes it. */
export type ObjectKey = string;

export function objectKey(kind: Kind, obj: { metadata: { namespace?: string; name: string } }): ObjectKey {
  return `${kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export function parseKey(key: ObjectKey): { kind: Kind; namespace: string; name: string } {
  const [kind, namespace, name] = key.split('/') as [Kind, string, string];
  return { kind, namespace, name };
}

/** `Membership team-a/acme-ml`, for messages. */
export function describeKey(key: ObjectKey): string {
  const { kind, namespace, name } = parseKey(key);
  return `${kind} ${namespace ? `${namespace}/` : ''}${name}`;
}

/** The collection path of a kind, in one namespace or all. */
export function collectionPath(kind: Kind, namespace: string | undefined): string {
  return `/apis/${GROUP}/${VERSION}/${namespace ? `namespaces/${namespace}/` : ''}${PLURALS[kind]}`;
}

export function objectPath(kind: Kind, namespace: string, name: string, subresource?: string): string {
  return `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURALS[kind]}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}

export function isDeleting(obj: KubeObject): boolean {
  return !!obj.metadata.deletionTimestamp;
}

export function hasFinalizer(obj: KubeObject): boolean {
  return obj.metadata.finalizers?.includes(FINALIZER) ?? false;
}

/** The organization a Membership or Integration names (an Organization: its own name). */
export function organizationOf(kind: Kind, obj: KubeObject): string | undefined {
  if (kind === 'Organization') return obj.metadata.name;
  const org = obj.spec?.organization;
  return typeof org === 'string' && org ? org : undefined;
}

export { API_VERSION };

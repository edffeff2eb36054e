import { desiredState } from '../../manifest/desired.js';
import type { Finding } from '../../manifest/finding.js';
import { API_VERSION, type Loaded, type Manifest } from '../../manifest/model.js';
import { formatPath } from '../../manifest/path.js';
import { findInlineSecrets } from '../../manifest/secrets.js';
import { checkSemantics } from '../../manifest/semantics.js';
import { SchemaValidator } from '../../manifest/validate-schema.js';
import type { DesiredOrg } from '../../model/desired.js';
import { describeKey, organizationOf, parseKey, type Kind, type KubeObject, type ObjectKey } from './objects.js';

/** Why an object is not acted on. */
export interface Verdict {
  reason: 'InvalidSpec' | 'InvalidReference';
  /** `spec.members[3].role: unsupported value "own"; ...`: field and problem, never a secret value. */
  problems: string[];
}

export interface GroupObject {
  key: ObjectKey;
  kind: Kind;
  obj: KubeObject;
}

let validator: SchemaValidator | undefined;

/**
 * The object as a manifest: apiVersion, kind, name, namespace, labels, annotations and a copy of spec (the
 * schema fills defaults into it). What the API server adds (uid, managedFields, status) is not the author's.
 */
function asManifest(g: GroupObject): Record<string, unknown> {
  const m = g.obj.metadata;
  return {
    apiVersion: API_VERSION,
    kind: g.kind,
    metadata: { name: m.name, ...(m.namespace ? { namespace: m.namespace } : {}), ...(m.labels ? { labels: m.labels } : {}), ...(m.annotations ? { annotations: m.annotations } : {}) },
    spec: structuredClone(g.obj.spec ?? {}),
  };
}

/**
 * Validates the objects of one organization (its Organization and the Memberships and Integrations naming it)
 * as `orgctl validate` validates files: the CRD schema, inline secrets and the checks across objects (one
 * role per person, integration names, an owner for an authoritative organization, credentialsRef). A
 * Membership or Integration refers to the Organization of that name in its own namespace: anything else is an
 * invalid reference. Returns the objects that are not valid, and the manifests of all of them.
 */
export function validateGroup(objects: readonly GroupObject[]): { verdicts: Map<ObjectKey, Verdict>; manifests: Map<ObjectKey, Record<string, unknown>> } {
  const schema = (validator ??= SchemaValidator.forCrds());
  const verdicts = new Map<ObjectKey, Verdict>();
  const manifests = new Map<ObjectKey, Record<string, unknown>>();
  const add = (key: ObjectKey, reason: Verdict['reason'], problem: string) => {
    const v = verdicts.get(key) ?? { reason, problems: [] };
    if (reason === 'InvalidReference') v.reason = reason;
    v.problems.push(problem);
    verdicts.set(key, v);
  };
  const loaded: Loaded[] = [];
  const orgNamespaces = new Map<string, Set<string>>();
  for (const g of objects) {
    if (g.kind !== 'Organization') continue;
    const set = orgNamespaces.get(g.obj.metadata.name) ?? new Set();
    set.add(g.obj.metadata.namespace ?? '');
    orgNamespaces.set(g.obj.metadata.name, set);
  }
  for (const g of objects) {
    const manifest = asManifest(g);
    manifests.set(g.key, manifest);
    const secrets = findInlineSecrets(g.kind, manifest);
    const secretPaths = new Set(secrets.map((s) => formatPath(s.path)));
    for (const s of secrets) add(g.key, 'InvalidSpec', `${formatPath(s.path)}: ${s.message}`);
    for (const p of schema.validate(g.kind, manifest)) {
      if (!secretPaths.has(formatPath(p.path))) add(g.key, 'InvalidSpec', `${formatPath(p.path)}: ${p.message}`);
    }
    if (g.kind !== 'Organization') {
      const org = organizationOf(g.kind, g.obj);
      const ns = g.obj.metadata.namespace ?? '';
      const where = org ? orgNamespaces.get(org) : undefined;
      if (org && !where?.has(ns)) {
        const elsewhere = where?.size ? `; there is one in namespace ${[...where].join(', ')}, but a ${g.kind} refers to the Organization in its own namespace` : '';
        add(g.key, 'InvalidReference', `spec.organization: Organization "${org}" not found in namespace ${ns}${elsewhere}`);
        continue;
      }
    }
    loaded.push({ object: manifest as unknown as Manifest, source: { file: g.key, doc: 0, prefix: [] } });
  }
  for (const f of checkSemantics(loaded)) add(f.source.file, 'InvalidSpec', describeFinding(f));
  return { verdicts, manifests };
}

function describeFinding(f: Finding): string {
  const message = f.related ? f.message.replace('{related}', `${describeKey(f.related.source.file)} ${formatPath(f.related.path)}`) : f.message;
  return `${formatPath(f.path)}: ${message}`;
}

/**
 * One organization's desired state from validated manifests; an Integration's Secret is read from the
 * Integration's namespace.
 */
export function buildDesired(objects: readonly GroupObject[], manifests: ReadonlyMap<ObjectKey, Record<string, unknown>>): DesiredOrg | undefined {
  const loaded: Loaded[] = [];
  const namespaceOf = new Map<string, string>();
  for (const g of objects) {
    const m = manifests.get(g.key);
    if (!m) continue;
    loaded.push({ object: m as unknown as Manifest, source: { file: g.key, doc: 0, prefix: [] } });
    if (g.kind === 'Integration' && typeof g.obj.spec?.name === 'string') namespaceOf.set(g.obj.spec.name, parseKey(g.key).namespace);
  }
  const orgs = desiredState(loaded, new Map(objects.map((g) => [g.key, ''])));
  const org = [...orgs.values()][0];
  if (!org) return undefined;
  for (const [name, integration] of org.integrations) {
    if (!integration.credentialsRef) continue;
    const { baseDir: _baseDir, ...ref } = integration.credentialsRef;
    integration.credentialsRef = { ...ref, namespace: namespaceOf.get(name) };
  }
  return org;
}

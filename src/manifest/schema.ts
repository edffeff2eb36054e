import type { KindDefinition } from './crds.js';

type JsonSchema = Record<string, unknown>;

/** RFC 1123 subdomain, as Kubernetes requires of metadata.name. */
export const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

const stringMap = { type: 'object', additionalProperties: { type: 'string' } };

/**
 * ObjectMeta as written in manifests. CRDs may not constrain metadata (the API server owns it), so it is
 * declared here, once. Fields a live object carries (uid, resourceVersion, ...) are accepted so that
 * `kubectl get -o yaml` output validates.
 */
export const OBJECT_META_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN },
    namespace: { type: 'string', maxLength: 63 },
    labels: stringMap,
    annotations: stringMap,
    generation: { type: 'integer' },
    uid: { type: 'string' },
    resourceVersion: { type: 'string' },
    creationTimestamp: { type: ['string', 'null'] },
    deletionTimestamp: { type: ['string', 'null'] },
    deletionGracePeriodSeconds: { type: 'integer' },
    finalizers: { type: 'array', items: { type: 'string' } },
    ownerReferences: { type: 'array', items: { type: 'object' } },
    managedFields: { type: 'array', items: { type: 'object' } },
    generateName: { type: 'string' },
  },
  additionalProperties: false,
};

/**
 * Turns a CRD's structural openAPIV3Schema into a strict JSON Schema:
 * - drops `x-kubernetes-*` extensions (the API server's business, not JSON Schema's);
 * - closes every object that lists its properties (`additionalProperties: false`), so unknown fields are
 *   errors, as with `kubectl apply --validate=strict`. CRDs may not say this themselves.
 */
export function strictSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictSchema);
  if (node === null || typeof node !== 'object') return node;
  const src = node as JsonSchema;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(src)) {
    if (k.startsWith('x-kubernetes-')) continue;
    if (k === 'properties' || k === 'definitions' || k === 'patternProperties') {
      out[k] = Object.fromEntries(Object.entries(v as JsonSchema).map(([name, s]) => [name, strictSchema(s)]));
    } else {
      out[k] = strictSchema(v);
    }
  }
  if (src.properties && src.additionalProperties === undefined && !src['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  return out;
}

/** The complete JSON Schema of one kind's manifests: apiVersion and kind pinned, metadata as above. */
export function manifestSchema(def: KindDefinition): JsonSchema {
  const strict = strictSchema(def.openAPIV3Schema) as JsonSchema;
  const properties = { ...(strict.properties as JsonSchema) };
  properties.apiVersion = { type: 'string', const: `${def.group}/${def.version}` };
  properties.kind = { type: 'string', const: def.kind };
  properties.metadata = OBJECT_META_SCHEMA;
  const required = new Set(['apiVersion', 'kind', 'metadata', ...((strict.required as string[]) ?? [])]);
  return { ...strict, properties, required: [...required], additionalProperties: false };
}

/** A standalone schema document for editors (yaml-language-server, VS Code): one kind. */
export function editorSchema(def: KindDefinition): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://${def.group}/schemas/${def.version}/${def.kind.toLowerCase()}.json`,
    title: `${def.kind} (${def.group}/${def.version})`,
    ...manifestSchema(def),
  };
}

/** One schema covering every kind, selected by `kind`, for a folder that mixes them. */
export function combinedEditorSchema(defs: KindDefinition[]): JsonSchema {
  const definitions: JsonSchema = {};
  for (const d of defs) definitions[d.kind] = manifestSchema(d);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://${defs[0]?.group ?? 'orgctl.dev'}/schemas/all.json`,
    title: 'orgctl manifests',
    type: 'object',
    required: ['apiVersion', 'kind'],
    properties: {
      apiVersion: { type: 'string', enum: [...new Set(defs.map((d) => `${d.group}/${d.version}`))] },
      kind: { type: 'string', enum: defs.map((d) => d.kind) },
    },
    allOf: defs.map((d) => ({
      if: { properties: { kind: { const: d.kind } }, required: ['kind'] },
      then: { $ref: `#/definitions/${d.kind}` },
    })),
    definitions,
  };
}

/**
 * /openapi/v2: the Swagger 2.0 document kubectl before 1.27 validates with (and later ones still read on patch),
 * as JSON or as the gnostic protobuf (openapi.v2.Document) kubectl asks for. It publishes the custom resources'
 * schemas (with x-kubernetes-group-version-kind, metadata as ObjectMeta) and, for every resource, the PATCH
 * operation's `consumes`, from which kubectl picks its patch type. Built-in kinds' schemas are not published:
 * kubectl then validates them with nothing on its side and patches them from its compiled-in types.
 */
import { stringify as toYaml } from 'yaml';
import { isObject, type Schema } from './schema.js';
import type { Json, Obj } from './status.js';
import { gv, type ResourceType } from './types.js';
import { schemaName } from './openapi.js';

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

const objectMetaV2: Obj = {
  description: 'ObjectMeta is metadata that all persisted resources must have.',
  type: 'object',
  properties: {
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    creationTimestamp: { type: 'string', format: 'date-time' },
    deletionGracePeriodSeconds: { type: 'integer', format: 'int64' },
    deletionTimestamp: { type: 'string', format: 'date-time' },
    finalizers: { type: 'array', items: { type: 'string' }, 'x-kubernetes-patch-strategy': 'merge' },
    generateName: { type: 'string' },
    generation: { type: 'integer', format: 'int64' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    managedFields: { type: 'array', items: { type: 'object' } },
    name: { type: 'string' },
    namespace: { type: 'string' },
    ownerReferences: {
      type: 'array',
      items: {
        type: 'object',
        required: ['apiVersion', 'kind', 'name', 'uid'],
        properties: { apiVersion: { type: 'string' }, blockOwnerDeletion: { type: 'boolean' }, controller: { type: 'boolean' }, kind: { type: 'string' }, name: { type: 'string' }, uid: { type: 'string' } },
      },
      'x-kubernetes-patch-merge-key': 'uid',
      'x-kubernetes-patch-strategy': 'merge',
    },
    resourceVersion: { type: 'string' },
    selfLink: { type: 'string' },
    uid: { type: 'string' },
  },
};

/** A CRD schema as the API server publishes it in v2: no nullable, no CEL, no int-or-string types. */
function toV2(s: Schema): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'nullable' || k === 'x-kubernetes-validations' || k === 'anyOf' || k === 'oneOf' || k === 'not') continue;
    if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([n, p]) => [n, toV2(p)]));
    else if (k === 'items' || (k === 'additionalProperties' && isObject(v as Json))) out[k] = toV2(v as Schema);
    else if (k === 'allOf') out.allOf = (v as Schema[]).map(toV2);
    else out[k] = v as Json;
  }
  return out;
}

/** The Swagger 2.0 document, as JSON. */
export function openApiV2Document(types: ResourceType[]): Obj {
  const definitions: Obj = { [OBJECT_META]: objectMetaV2 };
  const paths: Obj = {};
  for (const t of types) {
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const root = t.group ? `/apis/${gv(t)}` : `/api/${t.version}`;
    const item = `${root}/${t.namespaced ? 'namespaces/{namespace}/' : ''}${t.plural}/{name}`;
    paths[item] = {
      patch: {
        consumes: t.patchTypes.filter((p) => p !== 'application/strategic-merge-patch+json'),
        produces: ['application/json', 'application/yaml'],
        operationId: `patch${t.kind}`,
        responses: { '200': { description: 'OK' } },
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
      },
    };
    if (!t.custom) continue;
    const s = toV2(t.schema);
    const props = (s.properties ?? {}) as Obj;
    props.apiVersion = { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' };
    props.kind = { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' };
    props.metadata = { $ref: `#/definitions/${OBJECT_META}` };
    s.properties = props;
    s['x-kubernetes-group-version-kind'] = [gvk];
    definitions[schemaName(t)] = s;
  }
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0-orgctl-test' }, paths, definitions };
}

// ---------------------------------------------------------------------------------------------- protobuf

class Writer {
  private readonly parts: Buffer[] = [];

  private varint(n: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(n));
    const bytes: number[] = [];
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v) b |= 0x80;
      bytes.push(b);
    } while (v);
    this.parts.push(Buffer.from(bytes));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  string(field: number, v: string | undefined): this {
    if (v === undefined || v === '') return this;
    const b = Buffer.from(v, 'utf8');
    this.tag(field, 2);
    this.varint(b.length);
    this.parts.push(b);
    return this;
  }

  strings(field: number, vs: unknown): this {
    if (Array.isArray(vs)) for (const v of vs) this.string(field, String(v));
    return this;
  }

  bool(field: number, v: unknown): this {
    if (v !== true) return this;
    this.tag(field, 0);
    this.varint(1);
    return this;
  }

  int(field: number, v: unknown): this {
    if (typeof v !== 'number') return this;
    this.tag(field, 0);
    this.varint(Math.trunc(v));
    return this;
  }

  double(field: number, v: unknown): this {
    if (typeof v !== 'number') return this;
    this.tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.parts.push(b);
    return this;
  }

  message(field: number, w: Writer | undefined): this {
    if (!w) return this;
    const b = w.bytes();
    this.tag(field, 2);
    this.varint(b.length);
    this.parts.push(b);
    return this;
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** openapi.v2.Any: the value as YAML, as kube-openapi reads vendor extensions, defaults and enums. */
function any(v: Json): Writer {
  return new Writer().string(2, toYaml(v));
}

function namedAny(name: string, v: Json): Writer {
  return new Writer().string(1, name).message(2, any(v));
}

function schema(s: Obj): Writer {
  const w = new Writer()
    .string(1, s.$ref as string | undefined)
    .string(2, s.format as string | undefined)
    .string(3, s.title as string | undefined)
    .string(4, s.description as string | undefined);
  if (s.default !== undefined) w.message(5, any(s.default));
  w.double(6, s.multipleOf)
    .double(7, s.maximum)
    .bool(8, s.exclusiveMaximum)
    .double(9, s.minimum)
    .bool(10, s.exclusiveMinimum)
    .int(11, s.maxLength)
    .int(12, s.minLength)
    .string(13, s.pattern as string | undefined)
    .int(14, s.maxItems)
    .int(15, s.minItems)
    .bool(16, s.uniqueItems)
    .int(17, s.maxProperties)
    .int(18, s.minProperties)
    .strings(19, s.required);
  if (Array.isArray(s.enum)) for (const e of s.enum) w.message(20, any(e));
  if (isObject(s.additionalProperties)) w.message(21, new Writer().message(1, schema(s.additionalProperties)));
  else if (typeof s.additionalProperties === 'boolean') {
    const ap = new Writer();
    ap.bool(2, s.additionalProperties);
    w.message(21, ap);
  }
  if (s.type !== undefined) w.message(22, new Writer().strings(1, Array.isArray(s.type) ? s.type : [s.type]));
  if (isObject(s.items)) w.message(23, new Writer().message(1, schema(s.items)));
  if (Array.isArray(s.allOf)) for (const a of s.allOf) if (isObject(a)) w.message(24, schema(a));
  if (isObject(s.properties)) {
    const props = new Writer();
    for (const [name, p] of Object.entries(s.properties)) if (isObject(p)) props.message(1, new Writer().string(1, name).message(2, schema(p)));
    w.message(25, props);
  }
  for (const [k, v] of Object.entries(s)) if (k.startsWith('x-')) w.message(31, namedAny(k, v!));
  return w;
}

function operation(op: Obj): Writer {
  const w = new Writer()
    .strings(1, op.tags)
    .string(3, op.description as string | undefined)
    .string(5, op.operationId as string | undefined)
    .strings(6, op.produces)
    .strings(7, op.consumes);
  const responses = new Writer();
  for (const [code, r] of Object.entries((op.responses ?? {}) as Obj)) {
    responses.message(1, new Writer().string(1, code).message(2, new Writer().message(1, new Writer().string(1, String((r as Obj).description ?? '')))));
  }
  w.message(9, responses);
  for (const [k, v] of Object.entries(op)) if (k.startsWith('x-')) w.message(13, namedAny(k, v!));
  return w;
}

const PATH_OPS: [string, number][] = [
  ['get', 2],
  ['put', 3],
  ['post', 4],
  ['delete', 5],
  ['patch', 8],
];

/** The document as an openapi.v2.Document protobuf (application/com.github.proto-openapi.spec.v2@v1.0+protobuf). */
export function openApiV2Protobuf(doc: Obj): Buffer {
  const info = doc.info as Obj;
  const w = new Writer().string(1, String(doc.swagger)).message(2, new Writer().string(1, String(info.title)).string(2, String(info.version)));
  const paths = new Writer();
  for (const [p, item] of Object.entries(doc.paths as Obj)) {
    const pi = new Writer();
    for (const [name, field] of PATH_OPS) if (isObject((item as Obj)[name])) pi.message(field, operation((item as Obj)[name] as Obj));
    paths.message(2, new Writer().string(1, p).message(2, pi));
  }
  w.message(8, paths);
  const defs = new Writer();
  for (const [name, s] of Object.entries(doc.definitions as Obj)) defs.message(1, new Writer().string(1, name).message(2, schema(s as Obj)));
  w.message(9, defs);
  return w.bytes();
}

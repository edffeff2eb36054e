/**
 * Structural OpenAPI v3 schemas as the API server uses them for custom resources (apiextensions-apiserver):
 * pruning of unknown fields, defaulting, validation with kube-openapi's messages converted to field errors,
 * and the create-time rules a CustomResourceDefinition's schema must follow.
 */
import { field, type FieldError, type Json, type Obj } from './status.js';

export interface Schema {
  type?: string;
  description?: string;
  title?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  required?: string[];
  enum?: Json[];
  default?: Json;
  nullable?: boolean;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  not?: Schema;
  $ref?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: string;
  'x-kubernetes-validations'?: { rule: string; message?: string; messageExpression?: string; reason?: string; fieldPath?: string }[];
}

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && deepEqual(ao[k], bo[k]));
}

export function child(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** kube-openapi's name for the type of a decoded JSON value. */
export function jsonType(v: Json | undefined): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return 'object';
  return typeof v; // string, boolean
}

// ---------------------------------------------------------------------------------------------- ObjectMeta

/** The fields of metav1.ObjectMeta; anything else under metadata is an unknown field and pruned. */
export const OBJECT_META_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

// ---------------------------------------------------------------------------------------------- pruning

/**
 * Removes fields the schema does not specify (unless x-kubernetes-preserve-unknown-fields), in place, and
 * returns their paths (`spec.foo`, `spec.members[0].bar`) for strict field validation and warnings.
 * At the root (and in embedded resources) apiVersion, kind and metadata are kept; metadata is pruned to
 * ObjectMeta's fields.
 */
export function prune(value: Json, schema: Schema | undefined, path = '', root = true): string[] {
  const unknown: string[] = [];
  pruneInto(value, schema, path, root, unknown);
  return unknown;
}

function pruneInto(value: Json, s: Schema | undefined, path: string, root: boolean, unknown: string[]): void {
  if (!s) return;
  if (Array.isArray(value)) {
    if (s.items) value.forEach((v, i) => pruneInto(v, s.items, `${path}[${i}]`, false, unknown));
    return;
  }
  if (!isObject(value)) return;
  const embedded = root || s['x-kubernetes-embedded-resource'] === true;
  if (embedded && isObject(value.metadata)) {
    for (const k of Object.keys(value.metadata)) {
      if (!OBJECT_META_FIELDS.has(k)) {
        unknown.push(child(child(path, 'metadata'), k));
        delete value.metadata[k];
      }
    }
  }
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  for (const k of Object.keys(value)) {
    if (embedded && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
    const p = s.properties?.[k];
    if (p) {
      pruneInto(value[k]!, p, child(path, k), false, unknown);
    } else if (isObject(s.additionalProperties)) {
      pruneInto(value[k]!, s.additionalProperties, child(path, k), false, unknown);
    } else if (s.additionalProperties === true || preserve) {
      continue;
    } else {
      unknown.push(child(path, k));
      delete value[k];
    }
  }
}

// ---------------------------------------------------------------------------------------------- defaulting

/**
 * Drops nulls of non-nullable fields (replacing them by the default when there is one) and sets defaults of
 * missing fields whose parent object exists, in place: the API server's structural defaulting.
 */
export function applyDefaults(value: Json, s: Schema | undefined): void {
  if (!s) return;
  if (Array.isArray(value)) {
    if (s.items) for (const v of value) applyDefaults(v, s.items);
    return;
  }
  if (!isObject(value)) return;
  const props = s.properties ?? {};
  for (const [k, ps] of Object.entries(props)) {
    if (value[k] === null && !ps.nullable) {
      if (ps.default !== undefined) value[k] = clone(ps.default);
      else delete value[k];
    } else if (value[k] === undefined && ps.default !== undefined) {
      value[k] = clone(ps.default);
    }
    if (value[k] !== undefined) applyDefaults(value[k]!, ps);
  }
  if (isObject(s.additionalProperties)) {
    for (const k of Object.keys(value)) if (!(k in props)) applyDefaults(value[k]!, s.additionalProperties);
  }
}

// ---------------------------------------------------------------------------------------------- validation

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const FORMATS: Record<string, (v: string) => boolean> = {
  email: (v) => /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:"]+$/.test(v),
  'date-time': (v) => DATE_TIME.test(v) && !Number.isNaN(Date.parse(v.replace(' ', 'T'))),
  datetime: (v) => DATE_TIME.test(v),
  date: (v) => /^\d{4}-\d{2}-\d{2}$/.test(v),
  uuid: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  hostname: (v) => /^(?=.{1,253}$)[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*$/.test(v),
  ipv4: (v) => /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/.test(v),
  uri: (v) => /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(v),
  byte: (v) => /^[A-Za-z0-9+/]*={0,2}$/.test(v) && v.length % 4 === 0,
};

/**
 * CEL rules (x-kubernetes-validations) this server can evaluate, by their exact text. A real API server
 * compiles any CEL; a rule not listed here is accepted on the CRD and not enforced (see unevaluatedRules).
 */
export const CEL_RULES: Record<string, (self: Json) => boolean> = {
  '[has(self.secretName), has(self.env), has(self.file)].filter(x, x).size() == 1': (self) =>
    isObject(self) && ['secretName', 'env', 'file'].filter((k) => self[k] !== undefined).length === 1,
};

/** Validates a (pruned, defaulted) value against its schema; errors as the API server converts them. */
export function validate(value: Json | undefined, s: Schema, path: string, unevaluated?: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  validateInto(value, s, path, errs, unevaluated);
  return errs;
}

function typeMatches(v: Json, s: Schema): boolean {
  if (s['x-kubernetes-int-or-string']) return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
  switch (s.type) {
    case undefined:
    case '':
      return true;
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    default:
      return true;
  }
}

function at(path: string): string {
  return path || '<root>';
}

function validateInto(v: Json | undefined, s: Schema, path: string, errs: FieldError[], unevaluated?: Set<string>): void {
  if (v === undefined) return;
  if (v === null) {
    if (s.nullable) return;
    errs.push(field.typeInvalid(path, 'null', `${at(path)} in body must be of type ${s.type ?? 'object'}: "null"`));
    return;
  }
  if (!typeMatches(v, s)) {
    const t = s['x-kubernetes-int-or-string'] ? 'integer,string' : s.type!;
    errs.push(field.typeInvalid(path, jsonType(v), `${at(path)} in body must be of type ${t}: "${jsonType(v)}"`));
    return;
  }
  if (s.enum && !s.enum.some((e) => deepEqual(e, v))) {
    errs.push(field.notSupported(path, v, s.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)))));
  }
  if (typeof v === 'string') {
    const len = [...v].length;
    if (s.maxLength !== undefined && len > s.maxLength) errs.push(field.tooLong(path, s.maxLength));
    if (s.minLength !== undefined && len < s.minLength) errs.push(field.invalid(path, v, `${at(path)} in body should be at least ${s.minLength} chars long`));
    if (s.pattern !== undefined && !new RegExp(s.pattern).test(v)) errs.push(field.invalid(path, v, `${at(path)} in body should match '${s.pattern}'`));
    const check = s.format ? FORMATS[s.format] : undefined;
    if (check && !check(v)) errs.push(field.typeInvalid(path, v, `${at(path)} in body must be of type ${s.format}: ${JSON.stringify(v)}`));
  }
  if (typeof v === 'number') {
    if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) {
      errs.push(field.invalid(path, v, `${at(path)} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`));
    }
    if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) {
      errs.push(field.invalid(path, v, `${at(path)} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`));
    }
    if (s.multipleOf !== undefined && v % s.multipleOf !== 0) errs.push(field.invalid(path, v, `${at(path)} in body should be a multiple of ${s.multipleOf}`));
  }
  if (Array.isArray(v)) {
    if (s.maxItems !== undefined && v.length > s.maxItems) errs.push(field.tooMany(path, v.length, s.maxItems));
    if (s.minItems !== undefined && v.length < s.minItems) errs.push(field.invalid(path, v.length, `${at(path)} in body should have at least ${s.minItems} items`));
    if (s.items) v.forEach((item, i) => validateInto(item, s.items!, `${path}[${i}]`, errs, unevaluated));
    const listType = s['x-kubernetes-list-type'];
    if (listType === 'set') {
      v.forEach((item, i) => {
        if (v.slice(0, i).some((o) => deepEqual(o, item))) errs.push(field.duplicate(`${path}[${i}]`, item));
      });
    } else if (listType === 'map') {
      const keys = s['x-kubernetes-list-map-keys'] ?? [];
      const seen = new Set<string>();
      v.forEach((item, i) => {
        if (!isObject(item)) return;
        const key = JSON.stringify(Object.fromEntries(keys.map((k) => [k, item[k] ?? null])));
        if (seen.has(key)) errs.push(field.duplicate(`${path}[${i}]`, Object.fromEntries(keys.filter((k) => item[k] !== undefined).map((k) => [k, item[k]!]))));
        seen.add(key);
      });
    }
  }
  if (isObject(v)) {
    for (const r of s.required ?? []) if (v[r] === undefined) errs.push(field.required(child(path, r), ''));
    const n = Object.keys(v).length;
    if (s.maxProperties !== undefined && n > s.maxProperties) errs.push(field.tooMany(path, n, s.maxProperties));
    if (s.minProperties !== undefined && n < s.minProperties) errs.push(field.invalid(path, n, `${at(path)} in body should have at least ${s.minProperties} properties`));
    for (const [k, val] of Object.entries(v)) {
      const ps = s.properties?.[k] ?? (isObject(s.additionalProperties) ? s.additionalProperties : undefined);
      if (ps) validateInto(val, ps, child(path, k), errs, unevaluated);
    }
  }
  for (const sub of s.allOf ?? []) validateInto(v, sub, path, errs, unevaluated);
  if (s.anyOf && !s.anyOf.some((sub) => validate(v, sub, path).length === 0)) {
    errs.push(field.invalid(path, jsonType(v), `${at(path)} in body must validate at least one schema (anyOf)`));
  }
  if (s.oneOf && s.oneOf.filter((sub) => validate(v, sub, path).length === 0).length !== 1) {
    errs.push(field.invalid(path, jsonType(v), `${at(path)} in body must validate one and only one schema (oneOf)`));
  }
  if (s.not && validate(v, s.not, path).length === 0) errs.push(field.invalid(path, jsonType(v), `${at(path)} in body must not validate the schema (not)`));
  for (const rule of s['x-kubernetes-validations'] ?? []) {
    const check = CEL_RULES[rule.rule];
    if (!check) {
      unevaluated?.add(rule.rule);
      continue;
    }
    if (!check(v)) {
      const p = rule.fieldPath ? `${path}${rule.fieldPath}` : path;
      const e = field.invalid(p, jsonType(v), rule.message ?? `failed rule: ${rule.rule}`);
      if (rule.reason === 'FieldValueForbidden') errs.push(field.forbidden(p, rule.message ?? `failed rule: ${rule.rule}`));
      else if (rule.reason === 'FieldValueRequired') errs.push(field.required(p, rule.message ?? `failed rule: ${rule.rule}`));
      else errs.push(e);
    }
  }
}

// ---------------------------------------------------------------------------------------------- CRD schema rules

function schemaKey(path: string, k: string): string {
  return `${path}.properties[${k}]`;
}

/**
 * The create-time rules of apiextensions.k8s.io/v1 for one version's openAPIV3Schema: structural (a type
 * everywhere, items for arrays, nothing but name/generateName under metadata, no additionalProperties at the
 * root or beside properties), no $ref, no uniqueItems, list-type/list-map-keys coherent, defaults valid.
 */
export function validateCrdSchema(s: Schema, path: string): FieldError[] {
  const errs: FieldError[] = [];
  walkSchema(s, path, 'root', errs);
  if (isObject(s.properties?.metadata as Json)) {
    const m = s.properties!.metadata!;
    const extra = Object.keys(m).filter((k) => !['type', 'properties'].includes(k));
    const props = Object.keys(m.properties ?? {}).filter((k) => k !== 'name' && k !== 'generateName');
    if (extra.length || props.length) {
      errs.push(field.forbidden(schemaKey(path, 'metadata'), 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
    }
  }
  return errs.sort((a, b) => (`${a.field}${a.detail}` < `${b.field}${b.detail}` ? -1 : 1));
}

function walkSchema(s: Schema, path: string, level: 'root' | 'item' | 'field', errs: FieldError[]): void {
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  if (!s.type && !preserve && !intOrString) {
    const detail = level === 'root' ? 'must not be empty at the root' : level === 'item' ? 'must not be empty for specified array items' : 'must not be empty for specified object fields';
    errs.push(field.required(`${path}.type`, detail));
  }
  if (level === 'root' && s.type && s.type !== 'object') errs.push(field.invalid(`${path}.type`, s.type, 'must be object at the root'));
  if (level === 'root' && s.additionalProperties !== undefined) errs.push(field.forbidden(`${path}.additionalProperties`, 'must not be used at the root'));
  if (s.type && !['object', 'array', 'string', 'integer', 'number', 'boolean'].includes(s.type)) {
    errs.push(field.notSupported(`${path}.type`, s.type, ['array', 'boolean', 'integer', 'number', 'object', 'string']));
  }
  if (s.type === 'array' && !s.items) errs.push(field.required(`${path}.items`, 'must be specified'));
  if (s.$ref !== undefined) errs.push(field.forbidden(`${path}.$ref`, '$ref is not supported'));
  if (s.uniqueItems) errs.push(field.forbidden(`${path}.uniqueItems`, 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  if (s.properties && s.additionalProperties !== undefined) {
    errs.push(field.forbidden(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
  }
  if (s.pattern !== undefined) {
    try {
      new RegExp(s.pattern);
    } catch (e) {
      errs.push(field.invalid(`${path}.pattern`, s.pattern, `must be a valid regular expression, but isn't: ${(e as Error).message}`));
    }
  }
  const listType = s['x-kubernetes-list-type'];
  const mapKeys = s['x-kubernetes-list-map-keys'];
  if (listType !== undefined && !['atomic', 'set', 'map'].includes(listType)) {
    errs.push(field.notSupported(`${path}.x-kubernetes-list-type`, listType, ['atomic', 'set', 'map']));
  }
  if (mapKeys?.length && listType !== 'map') {
    if (listType === undefined) errs.push(field.required(`${path}.x-kubernetes-list-type`, 'must be map if x-kubernetes-list-map-keys is non-empty'));
    else errs.push(field.invalid(`${path}.x-kubernetes-list-type`, listType, 'must be map if x-kubernetes-list-map-keys is non-empty'));
  }
  if (listType === 'map') {
    if (!mapKeys?.length) errs.push(field.required(`${path}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'));
    const items = s.items;
    if (!items) errs.push(field.required(`${path}.items`, 'must have a schema if x-kubernetes-list-type is map'));
    else if (items.type !== 'object') errs.push(field.invalid(`${path}.items.type`, items.type ?? '', "must be object if parent array's x-kubernetes-list-type is map"));
    else {
      const seen = new Set<string>();
      for (const k of mapKeys ?? []) {
        const ks = items.properties?.[k];
        if (!ks) errs.push(field.invalid(`${path}.x-kubernetes-list-map-keys`, mapKeys ?? [], 'entries must all be names of item properties'));
        else {
          if (ks.type === 'array' || ks.type === 'object') {
            errs.push(field.invalid(`${path}.items.properties[${k}].type`, ks.type, "must be a scalar type if parent array's x-kubernetes-list-type is map"));
          }
          if (ks.default === undefined && !(items.required ?? []).includes(k)) {
            errs.push(field.required(`${path}.items.properties[${k}].default`, 'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property'));
          }
        }
        if (seen.has(k)) errs.push(field.invalid(`${path}.x-kubernetes-list-map-keys`, mapKeys ?? [], 'must not contain duplicate entries'));
        seen.add(k);
      }
    }
  }
  if (listType === 'set' && s.items && (s.items.type === 'object' || s.items.type === 'array') && s.items['x-kubernetes-map-type'] !== 'atomic') {
    errs.push(field.invalid(`${path}.items.x-kubernetes-map-type`, s.items['x-kubernetes-map-type'] ?? '', 'must be atomic as item of a list with x-kubernetes-list-type=set'));
  }
  if (s.default !== undefined) {
    if (level === 'root') errs.push(field.forbidden(`${path}.default`, 'must not be set at the root'));
    const d = clone(s.default);
    prune(d, s, '', false);
    applyDefaults(d, s);
    for (const e of validate(d, s, '')) errs.push({ ...e, field: `${path}.default${e.field ? `.${e.field}` : ''}` });
    if (!deepEqual(d, s.default)) errs.push(field.invalid(`${path}.default`, s.default, 'must not have unknown fields'));
  }
  for (const [k, p] of Object.entries(s.properties ?? {})) walkSchema(p, schemaKey(path, k), 'field', errs);
  if (s.items) walkSchema(s.items, `${path}.items`, 'item', errs);
  if (isObject(s.additionalProperties as Json)) walkSchema(s.additionalProperties as Schema, `${path}.additionalProperties`, 'field', errs);
}

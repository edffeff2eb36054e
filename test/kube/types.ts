/**
 * The resources the kube-API test server serves: built-in ones (Namespaces, Secrets, ConfigMaps, core/v1 and
 * events.k8s.io/v1 Events, coordination.k8s.io/v1 Leases, apiextensions.k8s.io/v1 CustomResourceDefinitions)
 * with the validation the real API server applies to them, and custom resources made from CRDs.
 */
import { humanDuration, parseJsonPath } from './jsonpath.js';
import { META_LIST_STRATEGIES, type ListStrategies } from './patch.js';
import { isObject, validateCrdSchema, type Schema } from './schema.js';
import { field, type FieldError, type Json, type Obj } from './status.js';

export interface Column {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  /** JSONPath (custom resources) ... */
  jsonPath?: string;
  /** ... or a function of the object (built-in printers). */
  value?: (obj: Obj, now: number) => Json;
}

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  verbs: string[];
  /** `status` when the status subresource is on. */
  subresources: string[];
  /** Structural schema: pruning, defaults and validation (custom resources); known fields (built-ins). */
  schema: Schema;
  custom: boolean;
  /** Where objects live; events.k8s.io/v1 Events share core/v1's. */
  storage: string;
  allowUnconditionalUpdate: boolean;
  allowCreateOnUpdate: boolean;
  /** metadata.generation maintained (custom resources, CRDs). */
  generation: boolean;
  columns: Column[];
  fieldLabels: string[];
  /** Patch content types accepted. */
  patchTypes: string[];
  lists: ListStrategies;
  nameIsLabel?: boolean;
  fields?: (obj: Obj) => Record<string, string>;
  /** Request shape -> stored shape (decoding, write-only fields). */
  toStorage?: (obj: Obj) => Obj;
  /** Stored shape -> response shape. */
  fromStorage?: (obj: Obj) => Obj;
  prepareForCreate?: (obj: Obj) => void;
  /** Server-set fields, on every create and update (before validation). */
  normalize?: (obj: Obj) => void;
  validate?: (obj: Obj, old: Obj | undefined) => FieldError[];
  crd?: Obj;
  /** Table printers of built-ins print without the object's own kind; items of typed lists carry no kind. */
  typedList: boolean;
}

export const PATCH_TYPES_CUSTOM = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
export const PATCH_TYPES_BUILTIN = [...PATCH_TYPES_CUSTOM, 'application/strategic-merge-patch+json'];
const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function gv(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

// ---------------------------------------------------------------------------------------------- name rules

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const QUALIFIED_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const CONFIG_KEY_MSG =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

export function dnsSubdomainErrors(path: string, v: string): FieldError[] {
  const errs: FieldError[] = [];
  if (v.length > 253) errs.push(field.invalid(path, v, 'must be no more than 253 characters'));
  if (!DNS1123_SUBDOMAIN.test(v)) errs.push(field.invalid(path, v, SUBDOMAIN_MSG));
  return errs;
}

export function dnsLabelErrors(path: string, v: string): FieldError[] {
  const errs: FieldError[] = [];
  if (v.length > 63) errs.push(field.invalid(path, v, 'must be no more than 63 characters'));
  if (!DNS1123_LABEL.test(v)) errs.push(field.invalid(path, v, LABEL_MSG));
  return errs;
}

/** IsQualifiedName: `[prefix/]name`, name <= 63, prefix a DNS subdomain (apimachinery's messages). */
export function qualifiedNameErrors(path: string, v: string): FieldError[] {
  const parts = v.split('/');
  const errs: FieldError[] = [];
  let name = v;
  if (parts.length === 2) {
    const [prefix, n] = parts as [string, string];
    name = n;
    if (!prefix) errs.push(field.invalid(path, v, 'prefix part must be non-empty'));
    else for (const e of dnsSubdomainErrors(path, prefix)) errs.push({ ...e, value: v, detail: `prefix part ${e.detail ?? ''}` });
  } else if (parts.length > 2) {
    return [field.invalid(path, v, `a qualified name ${QUALIFIED_MSG.replace('name part must', 'must')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`)];
  }
  if (!name) errs.push(field.invalid(path, v, 'name part must be non-empty'));
  else if (name.length > 63) errs.push(field.invalid(path, v, 'name part must be no more than 63 characters'));
  if (!QUALIFIED_NAME.test(name)) errs.push(field.invalid(path, v, QUALIFIED_MSG));
  return errs;
}

/** ObjectMeta rules common to every kind (name, labels, annotations, finalizers), and the warnings they give. */
export function validateObjectMeta(t: ResourceType, obj: Obj, warnings: string[]): FieldError[] {
  const m = isObject(obj.metadata) ? obj.metadata : {};
  const errs: FieldError[] = [];
  const name = typeof m.name === 'string' ? m.name : '';
  if (!name) errs.push(field.required('metadata.name', 'name or generateName is required'));
  else errs.push(...(t.nameIsLabel ? dnsLabelErrors('metadata.name', name) : dnsSubdomainErrors('metadata.name', name)));
  if (isObject(m.labels)) {
    for (const [k, v] of Object.entries(m.labels)) {
      errs.push(...qualifiedNameErrors('metadata.labels', k));
      if (typeof v !== 'string' || v.length > 63) errs.push(field.invalid(`metadata.labels`, v, 'must be no more than 63 characters'));
      else if (!LABEL_VALUE.test(v)) errs.push(field.invalid('metadata.labels', v, LABEL_VALUE_MSG));
    }
  }
  if (isObject(m.annotations)) {
    let size = 0;
    for (const [k, v] of Object.entries(m.annotations)) {
      errs.push(...qualifiedNameErrors('metadata.annotations', k.toLowerCase()));
      size += k.length + (typeof v === 'string' ? v.length : 0);
    }
    if (size > 256 * 1024) errs.push(field.tooLong('metadata.annotations', 256 * 1024));
  }
  if (Array.isArray(m.finalizers)) {
    m.finalizers.forEach((f, i) => {
      const p = `metadata.finalizers[${i}]`;
      if (typeof f !== 'string') return;
      errs.push(...qualifiedNameErrors(p, f));
      if (!f.includes('/') && !['kubernetes', 'orphan', 'foregroundDeletion'].includes(f)) {
        warnings.push(`metadata.finalizers: "${f}": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers`);
      }
    });
    if (m.finalizers.includes('orphan') && m.finalizers.includes('foregroundDeletion')) {
      errs.push(field.invalid('metadata.finalizers', m.finalizers, 'finalizer orphan and foregroundDeletion cannot be both set'));
    }
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------- schemas of built-ins

const str: Schema = { type: 'string' };
const bool: Schema = { type: 'boolean' };
const strMap: Schema = { type: 'object', additionalProperties: { type: 'string' } };
const anyObj: Schema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
const objectReference: Schema = {
  type: 'object',
  properties: { kind: str, namespace: str, name: str, uid: str, apiVersion: str, resourceVersion: str, fieldPath: str },
};
const root = (props: Record<string, Schema>): Schema => ({
  type: 'object',
  properties: { apiVersion: str, kind: str, metadata: { type: 'object' }, ...props },
});

// ---------------------------------------------------------------------------------------------- helpers

function base(t: Partial<ResourceType> & Pick<ResourceType, 'group' | 'version' | 'kind' | 'plural' | 'namespaced' | 'schema'>): ResourceType {
  return {
    listKind: `${t.kind}List`,
    singular: t.kind.toLowerCase(),
    shortNames: [],
    categories: [],
    verbs: VERBS,
    subresources: [],
    custom: false,
    storage: `${t.group}/${t.plural}`,
    allowUnconditionalUpdate: true,
    allowCreateOnUpdate: false,
    generation: false,
    columns: [{ name: 'Age', type: 'string', value: (o, now) => age(o, now) }],
    fieldLabels: t.namespaced ? ['metadata.name', 'metadata.namespace'] : ['metadata.name'],
    patchTypes: PATCH_TYPES_BUILTIN,
    lists: META_LIST_STRATEGIES,
    typedList: true,
    ...t,
  };
}

function age(o: Obj, now: number): Json {
  const ts = isObject(o.metadata) ? o.metadata.creationTimestamp : undefined;
  return typeof ts === 'string' ? humanDuration(now - Date.parse(ts)) : '<unknown>';
}

function meta(o: Obj): Obj {
  return isObject(o.metadata) ? o.metadata : {};
}

export function metaFields(o: Obj): Record<string, string> {
  const m = meta(o);
  return { 'metadata.name': String(m.name ?? ''), 'metadata.namespace': String(m.namespace ?? '') };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Thrown while decoding a request body: answered 400 `<Kind> in version "v1" cannot be handled as a <Kind>: ...`. */
export class DecodeError extends Error {}

function normalizeMicroTime(v: Json | undefined, what: string): Json | undefined {
  if (v === undefined || v === null) return v;
  if (typeof v !== 'string') throw new DecodeError(`${what}: expected a time string`);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new DecodeError(`parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse ${JSON.stringify(v)} as "2006"`);
  const micro = /\.(\d+)/.exec(v)?.[1] ?? '';
  const iso = new Date(t).toISOString().replace(/\.\d+Z$/, '');
  return `${iso}.${(micro + '000000').slice(0, 6)}Z`;
}

function normalizeTime(v: Json | undefined, what: string): Json | undefined {
  if (v === undefined || v === null) return v;
  if (typeof v !== 'string') throw new DecodeError(`${what}: expected a time string`);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new DecodeError(`parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(v)} as "2006"`);
  return new Date(Math.floor(t / 1000) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------- Namespaces

export const NAMESPACES: ResourceType = base({
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  namespaced: false,
  shortNames: ['ns'],
  subresources: ['status', 'finalize'],
  nameIsLabel: true,
  schema: root({
    spec: { type: 'object', properties: { finalizers: { type: 'array', items: str } } },
    status: { type: 'object', properties: { phase: str, conditions: { type: 'array', items: anyObj } } },
  }),
  fieldLabels: ['metadata.name', 'status.phase'],
  fields: (o) => ({ 'metadata.name': String(meta(o).name ?? ''), 'status.phase': String((o.status as Obj | undefined)?.phase ?? '') }),
  columns: [
    { name: 'Status', type: 'string', value: (o) => ((o.status as Obj | undefined)?.phase as string) ?? '' },
    { name: 'Age', type: 'string', value: (o, now) => age(o, now) },
  ],
  prepareForCreate(o) {
    o.spec = { finalizers: ['kubernetes'] };
    o.status = { phase: 'Active' };
  },
  normalize(o) {
    const m = meta(o);
    m.labels = { ...(isObject(m.labels) ? m.labels : {}), 'kubernetes.io/metadata.name': String(m.name ?? '') };
  },
});

// ---------------------------------------------------------------------------------------------- Secrets

const SECRET_MAX = 1024 * 1024;

export const SECRETS: ResourceType = base({
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  namespaced: true,
  schema: root({ data: strMap, stringData: strMap, type: str, immutable: bool }),
  fieldLabels: ['metadata.name', 'metadata.namespace', 'type'],
  fields: (o) => ({ ...metaFields(o), type: String(o.type ?? '') }),
  columns: [
    { name: 'Type', type: 'string', value: (o) => (o.type as string) ?? '' },
    { name: 'Data', type: 'integer', value: (o) => Object.keys(isObject(o.data) ? o.data : {}).length },
    { name: 'Age', type: 'string', value: (o, now) => age(o, now) },
  ],
  toStorage(o) {
    const out = { ...o };
    const data: Obj = isObject(o.data) ? { ...o.data } : {};
    for (const [k, v] of Object.entries(data)) {
      if (v === null) data[k] = '';
      else if (typeof v !== 'string' || !BASE64.test(v) || v.length % 4 !== 0) {
        const at = typeof v === 'string' ? [...v].findIndex((c) => !/[A-Za-z0-9+/=]/.test(c)) : 0;
        throw new DecodeError(`illegal base64 data at input byte ${at < 0 ? (typeof v === 'string' ? v.length : 0) : at}`);
      }
    }
    // stringData is write-only: merged into data (base64) on every write, never stored or returned.
    if (isObject(o.stringData)) for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v ?? ''), 'utf8').toString('base64');
    delete out.stringData;
    if (Object.keys(data).length || o.data !== undefined) out.data = data;
    if (!out.type) out.type = 'Opaque';
    return out;
  },
  validate(o, old) {
    const errs: FieldError[] = [];
    const data = isObject(o.data) ? o.data : {};
    let size = 0;
    for (const [k, v] of Object.entries(data)) {
      if (!CONFIG_KEY.test(k) || k.length > 253) errs.push(field.invalid(`data[${k}]`, k, CONFIG_KEY_MSG));
      size += Buffer.from(String(v), 'base64').length;
    }
    if (size > SECRET_MAX) errs.push(field.tooLong('data', SECRET_MAX));
    const need = (key: string) => {
      if (data[key] === undefined) errs.push(field.required(`data[${key}]`, ''));
    };
    switch (o.type) {
      case 'kubernetes.io/dockercfg':
        need('.dockercfg');
        break;
      case 'kubernetes.io/dockerconfigjson':
        need('.dockerconfigjson');
        break;
      case 'kubernetes.io/basic-auth':
        if (data.username === undefined && data.password === undefined) errs.push(field.required('data[username]', ''), field.required('data[password]', ''));
        break;
      case 'kubernetes.io/ssh-auth':
        need('ssh-privatekey');
        break;
      case 'kubernetes.io/tls':
        need('tls.crt');
        need('tls.key');
        break;
      default:
        break;
    }
    if (old) {
      if (o.type !== old.type) errs.push(field.invalid('type', (o.type as Json) ?? '', 'field is immutable'));
      if (old.immutable === true) {
        if (o.immutable !== true) errs.push(field.forbidden('immutable', 'field is immutable when `immutable` is set'));
        if (JSON.stringify(o.data ?? {}) !== JSON.stringify(old.data ?? {})) errs.push(field.forbidden('data', 'field is immutable when `immutable` is set'));
      }
    }
    return errs;
  },
});

// ---------------------------------------------------------------------------------------------- ConfigMaps

export const CONFIGMAPS: ResourceType = base({
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
  shortNames: ['cm'],
  schema: root({ data: strMap, binaryData: strMap, immutable: bool }),
  columns: [
    { name: 'Data', type: 'integer', value: (o) => Object.keys(isObject(o.data) ? o.data : {}).length + Object.keys(isObject(o.binaryData) ? o.binaryData : {}).length },
    { name: 'Age', type: 'string', value: (o, now) => age(o, now) },
  ],
  validate(o, old) {
    const errs: FieldError[] = [];
    const data = isObject(o.data) ? o.data : {};
    const bin = isObject(o.binaryData) ? o.binaryData : {};
    for (const k of [...Object.keys(data), ...Object.keys(bin)]) if (!CONFIG_KEY.test(k)) errs.push(field.invalid(`data[${k}]`, k, CONFIG_KEY_MSG));
    for (const k of Object.keys(bin)) if (k in data) errs.push(field.invalid(`data[${k}]`, k, 'duplicate of key present in binaryData'));
    if (old?.immutable === true && (JSON.stringify(o.data ?? {}) !== JSON.stringify(old.data ?? {}) || o.immutable !== true)) {
      errs.push(field.forbidden('data', 'field is immutable when `immutable` is set'));
    }
    return errs;
  },
});

// ---------------------------------------------------------------------------------------------- Leases

export const LEASES: ResourceType = base({
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
  schema: root({
    spec: {
      type: 'object',
      properties: { holderIdentity: str, leaseDurationSeconds: { type: 'integer', format: 'int32' }, acquireTime: str, renewTime: str, leaseTransitions: { type: 'integer', format: 'int32' }, strategy: str, preferredHolder: str },
    },
  }),
  columns: [
    { name: 'Holder', type: 'string', value: (o) => ((o.spec as Obj | undefined)?.holderIdentity as string) ?? '' },
    { name: 'Age', type: 'string', value: (o, now) => age(o, now) },
  ],
  toStorage(o) {
    const out = { ...o };
    if (isObject(o.spec)) {
      const spec = { ...o.spec };
      for (const k of ['acquireTime', 'renewTime']) {
        const v = normalizeMicroTime(spec[k], `spec.${k}`);
        if (v === undefined || v === null) delete spec[k];
        else spec[k] = v;
      }
      out.spec = spec;
    }
    return out;
  },
  validate(o) {
    const errs: FieldError[] = [];
    const spec = isObject(o.spec) ? o.spec : {};
    if (typeof spec.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0) {
      errs.push(field.invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
    }
    if (typeof spec.leaseTransitions === 'number' && spec.leaseTransitions < 0) {
      errs.push(field.invalid('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'));
    }
    if (spec.preferredHolder && !spec.strategy) errs.push(field.forbidden('spec.preferredHolder', 'may only be specified if `strategy` is defined'));
    return errs;
  },
});

// ---------------------------------------------------------------------------------------------- Events

const EVENT_CORE_FIELDS = ['involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'series', 'action', 'related', 'reportingComponent', 'reportingInstance'];

/** The internal event (core/v1 shape) checked like k8s.io/kubernetes/pkg/apis/core/validation/events.go. */
function validateEvent(e: Obj, strict: boolean, old: Obj | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const m = meta(e);
  const ns = String(m.namespace ?? '');
  const involved = isObject(e.involvedObject) ? e.involvedObject : {};
  const involvedNs = String(involved.namespace ?? '');
  const s = (k: string) => (typeof e[k] === 'string' ? (e[k] as string) : '');
  if (e.eventTime === undefined || e.eventTime === null) {
    if (!involvedNs) {
      if (ns !== '' && ns !== 'default') errs.push(field.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    } else if (ns !== involvedNs) errs.push(field.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
  } else {
    if (!involvedNs && ns !== 'default' && ns !== 'kube-system') errs.push(field.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    const rc = s('reportingComponent');
    if (!rc) errs.push(field.required('reportingController', ''));
    errs.push(...qualifiedNameErrors('reportingController', rc));
    if (!s('reportingInstance')) errs.push(field.required('reportingInstance', ''));
    if (s('reportingInstance').length > 128) errs.push(field.invalid('reportingInstance', '', 'can have at most 128 characters'));
    if (!s('action')) errs.push(field.required('action', ''));
    if (s('action').length > 128) errs.push(field.invalid('action', '', 'can have at most 128 characters'));
    if (!s('reason')) errs.push(field.required('reason', ''));
    if (s('reason').length > 128) errs.push(field.invalid('reason', '', 'can have at most 128 characters'));
    if (s('message').length > 1024) errs.push(field.invalid('message', '', 'can have at most 1024 characters'));
  }
  if (!DNS1123_SUBDOMAIN.test(ns) && ns !== '') errs.push(field.invalid('namespace', ns, SUBDOMAIN_MSG));
  if (!strict) return errs;
  if (old) {
    for (const k of ['involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'action', 'related', 'reportingComponent', 'reportingInstance']) {
      if (JSON.stringify(e[k] ?? null) !== JSON.stringify(old[k] ?? null)) {
        const p = k === 'reportingComponent' ? 'reportingController' : k;
        errs.push(field.invalid(p, (e[k] as Json) ?? null, 'field is immutable'));
      }
    }
    return errs;
  }
  const series = isObject(e.series) ? e.series : undefined;
  if (series) {
    if (typeof series.count !== 'number' || series.count < 2) errs.push(field.invalid('series.count', '', 'should be at least 2'));
    if (!series.lastObservedTime) errs.push(field.required('series.lastObservedTime', ''));
  }
  if (!e.eventTime) errs.push(field.required('eventTime', ''));
  if (e.type !== 'Normal' && e.type !== 'Warning') errs.push(field.invalid('type', '', `has invalid value: ${String(e.type ?? '')}`));
  if (e.firstTimestamp) errs.push(field.invalid('firstTimestamp', '', 'needs to be unset'));
  if (e.lastTimestamp) errs.push(field.invalid('lastTimestamp', '', 'needs to be unset'));
  if (e.count) errs.push(field.invalid('count', '', 'needs to be unset'));
  const src = isObject(e.source) ? e.source : {};
  if (src.component || src.host) errs.push(field.invalid('source', '', 'needs to be unset'));
  return errs;
}

function eventTimes(e: Obj): Obj {
  const out = { ...e };
  out.eventTime = normalizeMicroTime(out.eventTime, 'eventTime') ?? null;
  for (const k of ['firstTimestamp', 'lastTimestamp']) out[k] = normalizeTime(out[k], k) ?? null;
  if (isObject(out.series)) out.series = { ...out.series, lastObservedTime: normalizeMicroTime(out.series.lastObservedTime, 'series.lastObservedTime') ?? null };
  return out;
}

/** Fields every stored event carries, as Go's encoding of core/v1 Event writes them. */
function coreEventDefaults(e: Obj): Obj {
  return {
    involvedObject: {},
    source: {},
    firstTimestamp: null,
    lastTimestamp: null,
    eventTime: null,
    reportingComponent: '',
    reportingInstance: '',
    ...e,
  };
}

const EVENT_FIELD_LABELS = [
  'metadata.name',
  'metadata.namespace',
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
];

function eventFields(e: Obj): Record<string, string> {
  const io = isObject(e.involvedObject) ? e.involvedObject : {};
  const out: Record<string, string> = { ...metaFields(e), reason: String(e.reason ?? ''), reportingComponent: String(e.reportingComponent ?? ''), type: String(e.type ?? '') };
  out.source = String((isObject(e.source) ? e.source.component : '') ?? '');
  for (const k of ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath']) {
    out[`involvedObject.${k}`] = String(io[k] ?? '');
    out[`regarding.${k}`] = String(io[k] ?? '');
  }
  out.reportingController = out.reportingComponent!;
  return out;
}

const eventColumns: Column[] = [
  { name: 'Last Seen', type: 'string', value: (o, now) => lastSeen(o, now) },
  { name: 'Type', type: 'string', value: (o) => (o.type as string) ?? '' },
  { name: 'Reason', type: 'string', value: (o) => (o.reason as string) ?? '' },
  {
    name: 'Object',
    type: 'string',
    value: (o) => {
      const io = isObject(o.involvedObject) ? o.involvedObject : {};
      return `${String(io.kind ?? '').toLowerCase()}/${String(io.name ?? '')}`;
    },
  },
  { name: 'Message', type: 'string', value: (o) => (o.message as string) ?? '' },
];

function lastSeen(o: Obj, now: number): Json {
  const t = (o.series as Obj | undefined)?.lastObservedTime ?? o.lastTimestamp ?? o.eventTime;
  return typeof t === 'string' ? humanDuration(now - Date.parse(t)) : '<unknown>';
}

export const EVENTS_CORE: ResourceType = base({
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  namespaced: true,
  shortNames: ['ev'],
  storage: 'core/events',
  allowCreateOnUpdate: true,
  schema: root({
    involvedObject: objectReference,
    reason: str,
    message: str,
    source: { type: 'object', properties: { component: str, host: str } },
    firstTimestamp: { type: 'string', nullable: true },
    lastTimestamp: { type: 'string', nullable: true },
    count: { type: 'integer', format: 'int32' },
    type: str,
    eventTime: { type: 'string', nullable: true },
    series: { type: 'object', properties: { count: { type: 'integer', format: 'int32' }, lastObservedTime: str } },
    action: str,
    related: objectReference,
    reportingComponent: str,
    reportingInstance: str,
  }),
  fieldLabels: EVENT_FIELD_LABELS,
  fields: eventFields,
  columns: eventColumns,
  toStorage: (o) => coreEventDefaults(eventTimes(o)),
  validate: (o, old) => validateEvent(o, false, old),
});

/** events.k8s.io/v1 <-> core/v1 field names. */
const EVENTS_V1_RENAMES: [string, string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

export function eventToCore(e: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(e)) {
    const r = EVENTS_V1_RENAMES.find(([ext]) => ext === k);
    out[r ? r[1] : k] = v;
  }
  out.apiVersion = 'v1';
  out.kind = 'Event';
  return out;
}

export function eventFromCore(e: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(e)) {
    if (!EVENT_CORE_FIELDS.includes(k) && !['apiVersion', 'kind', 'metadata'].includes(k)) continue;
    const r = EVENTS_V1_RENAMES.find(([, core]) => core === k);
    const name = r ? r[0] : k;
    if ((name === 'deprecatedCount' && !v) || (name === 'reportingController' && v === '') || (name === 'reportingInstance' && v === '')) continue;
    if (name === 'deprecatedSource' && isObject(v) && !Object.keys(v).length) continue;
    out[name] = v;
  }
  out.apiVersion = 'events.k8s.io/v1';
  out.kind = 'Event';
  return out;
}

export const EVENTS_V1: ResourceType = base({
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  namespaced: true,
  shortNames: ['ev'],
  storage: 'core/events',
  allowCreateOnUpdate: true,
  schema: root({
    eventTime: { type: 'string', nullable: true },
    series: { type: 'object', properties: { count: { type: 'integer', format: 'int32' }, lastObservedTime: str } },
    reportingController: str,
    reportingInstance: str,
    action: str,
    reason: str,
    regarding: objectReference,
    related: objectReference,
    note: str,
    type: str,
    deprecatedSource: { type: 'object', properties: { component: str, host: str } },
    deprecatedFirstTimestamp: { type: 'string', nullable: true },
    deprecatedLastTimestamp: { type: 'string', nullable: true },
    deprecatedCount: { type: 'integer', format: 'int32' },
  }),
  fieldLabels: [...EVENT_FIELD_LABELS, 'regarding.kind', 'regarding.namespace', 'regarding.name', 'regarding.uid', 'regarding.apiVersion', 'regarding.resourceVersion', 'regarding.fieldPath', 'reportingController'],
  fields: eventFields,
  columns: eventColumns,
  toStorage: (o) => coreEventDefaults(eventTimes(eventToCore(o))),
  fromStorage: eventFromCore,
  validate: (o, old) => validateEvent(o, true, old),
});

// ---------------------------------------------------------------------------------------------- CRDs

const COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'name', 'password'];

/** The API server's create/update rules for CustomResourceDefinitions (the parts a CRD author can get wrong). */
export function validateCrd(crd: Obj, old: Obj | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObject(crd.spec) ? crd.spec : {};
  const names = isObject(spec.names) ? spec.names : {};
  const group = typeof spec.group === 'string' ? spec.group : '';
  const plural = typeof names.plural === 'string' ? names.plural : '';
  const name = String(meta(crd).name ?? '');
  if (name !== `${plural}.${group}`) errs.push(field.invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  if (!group) errs.push(field.required('spec.group', ''));
  else {
    errs.push(...dnsSubdomainErrors('spec.group', group));
    if (!group.includes('.')) errs.push(field.invalid('spec.group', group, 'should be a domain with at least one dot'));
  }
  if (!['Cluster', 'Namespaced'].includes(String(spec.scope ?? ''))) {
    if (!spec.scope) errs.push(field.required('spec.scope', ''));
    else errs.push(field.notSupported('spec.scope', spec.scope as Json, ['Cluster', 'Namespaced']));
  }
  if (!plural) errs.push(field.required('spec.names.plural', ''));
  else errs.push(...dnsLabelErrors('spec.names.plural', plural));
  if (typeof names.singular === 'string' && names.singular) errs.push(...dnsLabelErrors('spec.names.singular', names.singular));
  if (!names.kind) errs.push(field.required('spec.names.kind', ''));
  if (!names.listKind) errs.push(field.required('spec.names.listKind', ''));
  if (Array.isArray(names.shortNames)) names.shortNames.forEach((s, i) => errs.push(...dnsLabelErrors(`spec.names.shortNames[${i}]`, String(s))));
  if (Array.isArray(names.categories)) names.categories.forEach((s, i) => errs.push(...dnsLabelErrors(`spec.names.categories[${i}]`, String(s))));
  const versions = Array.isArray(spec.versions) ? spec.versions.filter(isObject) : [];
  if (!versions.length) errs.push(field.invalid('spec.versions', (spec.versions as Json) ?? null, 'must have exactly one version marked as storage version'));
  else if (versions.filter((v) => v.storage === true).length !== 1) {
    errs.push(field.invalid('spec.versions', spec.versions as Json, 'must have exactly one version marked as storage version'));
  }
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const p = `spec.versions[${i}]`;
    const vname = typeof v.name === 'string' ? v.name : '';
    if (!vname) errs.push(field.required(`${p}.name`, ''));
    else {
      errs.push(...dnsLabelErrors(`${p}.name`, vname));
      if (!/^v\d+((alpha|beta)\d+)?$/.test(vname) && !DNS1123_LABEL.test(vname)) errs.push(field.invalid(`${p}.name`, vname, LABEL_MSG));
    }
    if (seen.has(vname)) errs.push(field.invalid('spec.versions', spec.versions as Json, 'must contain unique version names'));
    seen.add(vname);
    const schema = isObject(v.schema) && isObject(v.schema.openAPIV3Schema) ? (v.schema.openAPIV3Schema as Schema) : undefined;
    if (!schema) errs.push(field.required(`${p}.schema.openAPIV3Schema`, 'schemas are required'));
    else errs.push(...validateCrdSchema(schema, `${p}.schema.openAPIV3Schema`));
    const sub = isObject(v.subresources) ? v.subresources : undefined;
    if (sub && sub.status !== undefined && !isObject(sub.status)) errs.push(field.invalid(`${p}.subresources.status`, sub.status as Json, 'must be an object'));
    const cols = Array.isArray(v.additionalPrinterColumns) ? v.additionalPrinterColumns : [];
    cols.forEach((c, j) => {
      const cp = `${p}.additionalPrinterColumns[${j}]`;
      if (!isObject(c)) return;
      if (!c.name) errs.push(field.required(`${cp}.name`, ''));
      if (!COLUMN_TYPES.includes(String(c.type ?? ''))) {
        if (!c.type) errs.push(field.required(`${cp}.type`, ''));
        else errs.push(field.notSupported(`${cp}.type`, c.type as Json, COLUMN_TYPES));
      }
      if (c.format && !COLUMN_FORMATS.includes(String(c.format))) errs.push(field.notSupported(`${cp}.format`, c.format as Json, COLUMN_FORMATS));
      if (!c.jsonPath) errs.push(field.required(`${cp}.jsonPath`, ''));
      else {
        try {
          parseJsonPath(`{${String(c.jsonPath)}}`);
          if (!String(c.jsonPath).startsWith('.')) throw new Error('must start with .');
        } catch {
          errs.push(field.invalid(`${cp}.jsonPath`, c.jsonPath as Json, 'must be a simple json path starting with .'));
        }
      }
      if (typeof c.priority === 'number' && c.priority < 0) errs.push(field.invalid(`${cp}.priority`, c.priority, 'must be a non-negative number'));
    });
  });
  if (old) {
    const os = isObject(old.spec) ? old.spec : {};
    if (os.group !== spec.group) errs.push(field.invalid('spec.group', (spec.group as Json) ?? '', 'field is immutable'));
    if (os.scope !== spec.scope) errs.push(field.invalid('spec.scope', (spec.scope as Json) ?? '', 'field is immutable'));
    if (isObject(os.names) && os.names.plural !== names.plural) errs.push(field.invalid('spec.names.plural', plural, 'field is immutable'));
  }
  return errs;
}

export const CRDS: ResourceType = base({
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  subresources: ['status'],
  generation: true,
  schema: root({ spec: anyObj, status: anyObj }),
  columns: [{ name: 'Created At', type: 'date', value: (o) => (meta(o).creationTimestamp as string) ?? null }],
  prepareForCreate(o) {
    const spec = isObject(o.spec) ? o.spec : (o.spec = {});
    const names = isObject(spec.names) ? spec.names : (spec.names = {});
    if (!names.singular && typeof names.kind === 'string') names.singular = names.kind.toLowerCase();
    if (!names.listKind && typeof names.kind === 'string') names.listKind = `${names.kind}List`;
    if (!spec.conversion) spec.conversion = { strategy: 'None' };
  },
  validate: (o, old) => validateCrd(o, old),
});

export const BUILTIN_TYPES: ResourceType[] = [NAMESPACES, SECRETS, CONFIGMAPS, EVENTS_CORE, LEASES, EVENTS_V1, CRDS];

/** The resource a CRD's storage version serves (the one version this server serves for it). */
export function typeFromCrd(crd: Obj): ResourceType {
  const spec = crd.spec as Obj;
  const names = spec.names as Obj;
  const versions = (spec.versions as Obj[]).filter((v) => v.served !== false);
  const v = versions.find((x) => x.storage === true) ?? versions[0]!;
  const schema = ((v.schema as Obj).openAPIV3Schema ?? { type: 'object' }) as Schema;
  const sub = isObject(v.subresources) ? v.subresources : {};
  const cols = (Array.isArray(v.additionalPrinterColumns) ? v.additionalPrinterColumns : []).filter(isObject);
  const namespaced = spec.scope === 'Namespaced';
  const group = String(spec.group);
  const kind = String(names.kind);
  return {
    group,
    version: String(v.name),
    kind,
    listKind: String(names.listKind ?? `${kind}List`),
    plural: String(names.plural),
    singular: String(names.singular ?? kind.toLowerCase()),
    shortNames: (names.shortNames as string[] | undefined) ?? [],
    categories: (names.categories as string[] | undefined) ?? [],
    namespaced,
    verbs: VERBS,
    subresources: [...(isObject(sub.status) ? ['status'] : []), ...(isObject(sub.scale) ? ['scale'] : [])],
    schema,
    custom: true,
    storage: `${group}/${String(names.plural)}`,
    allowUnconditionalUpdate: false,
    allowCreateOnUpdate: false,
    generation: true,
    columns: [
      ...cols.map((c) => ({
        name: String(c.name),
        type: String(c.type),
        ...(c.format ? { format: String(c.format) } : {}),
        description: c.description ? String(c.description) : `Custom resource definition column (in JSONPath format): ${String(c.jsonPath)}`,
        priority: typeof c.priority === 'number' ? c.priority : 0,
        jsonPath: String(c.jsonPath),
      })),
      ...(cols.length ? [] : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: '', priority: 0 }]),
    ],
    fieldLabels: namespaced ? ['metadata.name', 'metadata.namespace'] : ['metadata.name'],
    patchTypes: PATCH_TYPES_CUSTOM,
    lists: {},
    crd,
    typedList: false,
  };
}


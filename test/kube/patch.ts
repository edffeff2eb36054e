/**
 * The patch types of the API server: JSON patch (RFC 6902), JSON merge patch (RFC 7386), strategic merge
 * patch (built-in types only), and server-side apply with field ownership in metadata.managedFields.
 */
import { clone, deepEqual, isObject, type Schema } from './schema.js';
import { errors, KubeError, type Json, type Obj } from './status.js';

// ---------------------------------------------------------------------------------------------- JSON patch

function unescapePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new Error(`JSON pointer must be empty or start with a "/": ${p}`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function patchFailed(text: string): KubeError {
  return new KubeError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ reason: 'UnexpectedServerResponse', message: text }],
  });
}

export function jsonPatch(doc: Json, patch: Json): Json {
  if (!Array.isArray(patch)) throw errors.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  if (patch.length > 10000) throw new KubeError(413, 'RequestEntityTooLarge', `Request entity too large: The allowed maximum operations in a JSON patch is 10000, got ${patch.length}`);
  let out = clone(doc);
  for (const op of patch) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') throw errors.badRequest('invalid JSON patch operation');
    const path = unescapePointer(op.path);
    const get = (segs: string[]): Json | undefined => {
      let cur: Json | undefined = out;
      for (const s of segs) {
        if (Array.isArray(cur)) cur = /^\d+$/.test(s) ? cur[Number(s)] : undefined;
        else if (isObject(cur)) cur = cur[s];
        else return undefined;
      }
      return cur;
    };
    const parentOf = (segs: string[], what: string): [Obj | Json[], string] => {
      const parent = get(segs.slice(0, -1));
      if (!isObject(parent) && !Array.isArray(parent)) throw patchFailed(`${what} operation does not apply: doc is missing path: "${op.path}": missing value`);
      return [parent, segs[segs.length - 1]!];
    };
    const add = (segs: string[], value: Json) => {
      if (segs.length === 0) {
        out = value;
        return;
      }
      const [parent, key] = parentOf(segs, 'add');
      if (Array.isArray(parent)) {
        const i = key === '-' ? parent.length : Number(key);
        if (!/^(\d+|-)$/.test(key) || i > parent.length) throw patchFailed(`add operation does not apply: doc is missing path: "${op.path}": missing value`);
        parent.splice(i, 0, value);
      } else parent[key] = value;
    };
    const remove = (segs: string[], what: string): Json => {
      const [parent, key] = parentOf(segs, what);
      if (Array.isArray(parent)) {
        const i = Number(key);
        if (!/^\d+$/.test(key) || i >= parent.length) throw patchFailed(`${what} operation does not apply: doc is missing path: "${op.path}": missing value`);
        return parent.splice(i, 1)[0]!;
      }
      if (!(key in parent)) throw patchFailed(`${what} operation does not apply: doc is missing path: "${op.path}": missing value`);
      const v = parent[key]!;
      delete parent[key];
      return v;
    };
    switch (op.op) {
      case 'add':
        if (op.value === undefined) throw errors.badRequest('missing value for add operation');
        add(path, clone(op.value));
        break;
      case 'remove':
        remove(path, 'remove');
        break;
      case 'replace':
        if (get(path) === undefined) throw patchFailed(`replace operation does not apply: doc is missing key: ${op.path}: missing value`);
        remove(path, 'replace');
        add(path, clone(op.value ?? null));
        break;
      case 'move': {
        const from = unescapePointer(String(op.from ?? ''));
        const v = remove(from, 'move');
        add(path, v);
        break;
      }
      case 'copy': {
        const v = get(unescapePointer(String(op.from ?? '')));
        if (v === undefined) throw patchFailed(`copy operation does not apply: doc is missing from path: ${String(op.from)}: missing value`);
        add(path, clone(v));
        break;
      }
      case 'test':
        if (!deepEqual(get(path) ?? null, op.value ?? null)) throw patchFailed(`testing value ${op.path} failed: test failed`);
        break;
      default:
        throw errors.badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- merge patch

/** RFC 7386: objects merge, null deletes, everything else (arrays included) replaces. */
export function mergePatch(doc: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: Obj = isObject(doc) ? clone(doc) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- strategic merge

/** How a list at a path (`metadata.finalizers`) merges in a strategic merge patch; absent: replaced whole. */
export type ListStrategies = Record<string, { key?: string }>;

export const META_LIST_STRATEGIES: ListStrategies = {
  'metadata.finalizers': {},
  'metadata.ownerReferences': { key: 'uid' },
};

/** Strategic merge patch with the directives kubectl sends ($patch, $retainKeys, $setElementOrder, $deleteFromPrimitiveList). */
export function strategicMerge(doc: Json | undefined, patch: Json, lists: ListStrategies, path = ''): Json | undefined {
  if (!isObject(patch)) return clone(patch);
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const rest = clone(patch);
    delete rest.$patch;
    return rest;
  }
  const out: Obj = isObject(doc) ? clone(doc) : {};
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys.map(String));
    for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const name = k.slice('$deleteFromPrimitiveList/'.length);
      const drop = Array.isArray(v) ? v : [];
      if (Array.isArray(out[name])) out[name] = (out[name] as Json[]).filter((x) => !drop.some((d) => deepEqual(d, x)));
      continue;
    }
    const p = path ? `${path}.${k}` : k;
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v) && lists[p]) {
      out[k] = mergeList(Array.isArray(out[k]) ? (out[k] as Json[]) : [], v, lists[p]!.key, lists, p);
    } else if (isObject(v)) {
      const merged = strategicMerge(out[k], v, lists, p);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else {
      out[k] = clone(v);
    }
  }
  return out;
}

function mergeList(cur: Json[], patch: Json[], key: string | undefined, lists: ListStrategies, path: string): Json[] {
  const out = clone(cur);
  for (const item of patch) {
    if (key === undefined || !isObject(item)) {
      if (!out.some((x) => deepEqual(x, item))) out.push(clone(item));
      continue;
    }
    const i = out.findIndex((x) => isObject(x) && x[key] === item[key]);
    if (item.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) {
      out[i] = strategicMerge(out[i], item, lists, path) ?? null;
    } else {
      const add = clone(item);
      delete add.$patch;
      out.push(add);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- field ownership

/** One entry of metadata.managedFields, with its field set kept as path keys. */
export interface Managed {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  subresource?: string;
  fields: Set<string>;
}

/** metadata as server-side apply sees it: labels/annotations are maps, finalizers a set, ownerReferences a map keyed by uid. */
const META_SCHEMA: Schema = {
  type: 'object',
  properties: {
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    finalizers: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
    ownerReferences: { type: 'array', items: { type: 'object' }, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['uid'] },
  },
};

const SEP = '\u0001';

function childSchema(s: Schema | undefined, k: string, root: boolean): Schema | undefined {
  if (root && k === 'metadata') return META_SCHEMA;
  if (!s) return undefined;
  return s.properties?.[k] ?? (isObject(s.additionalProperties as Json) ? (s.additionalProperties as Schema) : undefined);
}

function elementKey(item: Json, keys: string[]): string {
  const o = isObject(item) ? item : {};
  return `k:${JSON.stringify(Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]!])))}`;
}

const IGNORED_ROOT = new Set(['apiVersion', 'kind']);
const IGNORED_META = new Set(['name', 'namespace', 'generateName', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink']);

/** The leaf fields an object sets, as path keys (`f:spec␁f:plan`, `f:status␁f:conditions␁k:{"type":"Ready"}`). */
export function fieldSet(obj: Json, schema: Schema | undefined): Set<string> {
  const out = new Set<string>();
  walkFields(obj, schema, [], true, out);
  return out;
}

function walkFields(v: Json, s: Schema | undefined, path: string[], root: boolean, out: Set<string>): void {
  if (isObject(v)) {
    const all = Object.keys(v);
    const keys = all.filter((k) => !(root && IGNORED_ROOT.has(k)) && !(path.length === 1 && path[0] === 'f:metadata' && IGNORED_META.has(k)));
    if (keys.length === 0) {
      // An empty map is a value of its own; a map of server-owned fields only is nothing.
      if (path.length && all.length === 0) out.add(path.join(SEP));
      return;
    }
    for (const k of keys) walkFields(v[k]!, childSchema(s, k, root), [...path, `f:${k}`], false, out);
    return;
  }
  if (Array.isArray(v)) {
    const lt = s?.['x-kubernetes-list-type'];
    if (lt === 'set') {
      if (v.length === 0) out.add(path.join(SEP));
      for (const item of v) out.add([...path, `v:${JSON.stringify(item)}`].join(SEP));
      return;
    }
    if (lt === 'map') {
      const keys = s?.['x-kubernetes-list-map-keys'] ?? [];
      if (v.length === 0) out.add(path.join(SEP));
      for (const item of v) {
        const ep = [...path, elementKey(item, keys)];
        out.add([...ep, '.'].join(SEP));
        if (isObject(item)) for (const [k, x] of Object.entries(item)) walkFields(x, childSchema(s?.items, k, false), [...ep, `f:${k}`], false, out);
      }
      return;
    }
  }
  out.add(path.join(SEP));
}

function getAt(obj: Json | undefined, path: string[], schema: Schema | undefined): Json | undefined {
  let cur = obj;
  let s = schema;
  let root = true;
  for (const seg of path) {
    if (seg === '.') return cur;
    if (seg.startsWith('f:')) {
      const k = seg.slice(2);
      cur = isObject(cur) ? cur[k] : undefined;
      s = childSchema(s, k, root);
    } else if (seg.startsWith('k:')) {
      const keys = s?.['x-kubernetes-list-map-keys'] ?? [];
      cur = Array.isArray(cur) ? cur.find((x) => elementKey(x, keys) === seg) : undefined;
      s = s?.items;
    } else if (seg.startsWith('v:')) {
      cur = Array.isArray(cur) ? cur.find((x) => JSON.stringify(x) === seg.slice(2)) : undefined;
    }
    root = false;
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Removes the field at path, then the maps and lists its removal left empty. */
function deleteAt(obj: Json, path: string[], schema: Schema | undefined): void {
  removeAt(obj, path, schema);
  const segs = path[path.length - 1] === '.' ? path.slice(0, -1) : path;
  for (let n = segs.length - 1; n > 0; n--) {
    const parent = getAt(obj, segs.slice(0, n), schema);
    const empty = (isObject(parent) && Object.keys(parent).length === 0) || (Array.isArray(parent) && parent.length === 0);
    if (!empty) break;
    removeAt(obj, segs.slice(0, n), schema);
  }
}

function removeAt(obj: Json, path: string[], schema: Schema | undefined): void {
  let cur: Json | undefined = obj;
  let s = schema;
  let root = true;
  const last = path[path.length - 1] === '.' ? path.length - 2 : path.length - 1;
  for (let i = 0; i <= last; i++) {
    const seg = path[i]!;
    const isLast = i === last;
    if (seg.startsWith('f:')) {
      const k = seg.slice(2);
      if (!isObject(cur)) return;
      if (isLast) {
        delete cur[k];
        return;
      }
      cur = cur[k];
      s = childSchema(s, k, root);
    } else if (seg.startsWith('k:') || seg.startsWith('v:')) {
      if (!Array.isArray(cur)) return;
      const keys = s?.['x-kubernetes-list-map-keys'] ?? [];
      const idx = seg.startsWith('k:') ? cur.findIndex((x) => elementKey(x, keys) === seg) : cur.findIndex((x) => JSON.stringify(x) === seg.slice(2));
      if (idx < 0) return;
      if (isLast) {
        cur.splice(idx, 1);
        return;
      }
      cur = cur[idx];
      s = s?.items;
    }
    root = false;
  }
}

/** Merges an applied configuration into an object: maps recursively, list-type map by keys, sets by value, other lists whole. */
export function mergeApplied(target: Json | undefined, applied: Json, s: Schema | undefined, root = true): Json {
  if (isObject(applied)) {
    const out: Obj = isObject(target) ? clone(target) : {};
    for (const [k, v] of Object.entries(applied)) {
      if (root && k === 'metadata' && isObject(v)) {
        const meta: Obj = isObject(out.metadata) ? out.metadata : {};
        for (const [mk, mv] of Object.entries(v)) {
          if (IGNORED_META.has(mk)) continue;
          meta[mk] = mergeApplied(meta[mk], mv, META_SCHEMA.properties![mk], false);
        }
        out.metadata = meta;
        continue;
      }
      out[k] = mergeApplied(out[k], v, childSchema(s, k, root), false);
    }
    return out;
  }
  if (Array.isArray(applied) && Array.isArray(target)) {
    const lt = s?.['x-kubernetes-list-type'];
    if (lt === 'set') return [...clone(target), ...applied.filter((x) => !target.some((t) => deepEqual(t, x)))];
    if (lt === 'map') {
      const keys = s?.['x-kubernetes-list-map-keys'] ?? [];
      const out = clone(target);
      for (const item of applied) {
        const i = out.findIndex((x) => elementKey(x, keys) === elementKey(item, keys));
        if (i >= 0) out[i] = mergeApplied(out[i], item, s?.items, false);
        else out.push(clone(item));
      }
      return out;
    }
  }
  return clone(applied);
}

export interface ApplyResult {
  object: Obj;
  managed: Managed[];
}

function describePath(path: string): string {
  return path
    .split(SEP)
    .filter((s) => s !== '.')
    .map((s) => (s.startsWith('f:') ? `.${s.slice(2)}` : s.startsWith('k:') ? `[${s.slice(2).slice(1, -1).replace(/"/g, '').replace(/:/g, '=')}]` : `[${s.slice(2)}]`))
    .join('');
}

/**
 * Server-side apply of `applied` by `manager` onto `current` (undefined: the object is created). Fields another
 * manager owns with a different value are conflicts (409) unless `force`, which takes them over; fields the
 * manager applied before and no longer applies are removed unless someone else owns them.
 */
export function serverSideApply(
  current: Obj | undefined,
  applied: Obj,
  opts: { manager: string; force: boolean; schema: Schema | undefined; managed: Managed[]; apiVersion: string; time: string; subresource?: string; gr: { group: string; resource: string }; name: string },
): ApplyResult {
  const S = fieldSet(applied, opts.schema);
  const managed = opts.managed.map((m) => ({ ...m, fields: new Set(m.fields) }));
  const mine = (m: Managed) => m.manager === opts.manager && m.operation === 'Apply' && (m.subresource ?? '') === (opts.subresource ?? '');
  const conflicts: { manager: Managed; path: string }[] = [];
  for (const p of S) {
    for (const m of managed) {
      if (mine(m) || !m.fields.has(p)) continue;
      const segs = p.split(SEP);
      if (!deepEqual(getAt(current, segs, opts.schema), getAt(applied, segs, opts.schema))) conflicts.push({ manager: m, path: p });
    }
  }
  if (conflicts.length && !opts.force) {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const who = `conflict with "${c.manager.manager}"${c.manager.operation === 'Update' && c.manager.subresource ? ` with subresource "${c.manager.subresource}"` : ''} using ${c.manager.apiVersion}`;
      byManager.set(who, [...(byManager.get(who) ?? []), describePath(c.path)]);
    }
    const n = conflicts.length;
    let message = `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: `;
    const parts = [...byManager].map(([who, paths]) => (paths.length === 1 ? `${who}: ${paths[0]}` : `${who.replace('conflict with', 'conflicts with')}:\n${paths.map((p) => `- ${p}`).join('\n')}`));
    message += parts.join('\n');
    throw new KubeError(409, 'Conflict', message, {
      name: opts.name,
      ...(opts.gr.group ? { group: opts.gr.group } : {}),
      kind: opts.gr.resource,
      causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager.manager}" using ${c.manager.apiVersion}`, field: describePath(c.path) })),
    });
  }
  for (const c of conflicts) c.manager.fields.delete(c.path);
  const prev = managed.find(mine)?.fields ?? new Set<string>();
  let object: Obj = clone(current) ?? {};
  for (const p of prev) {
    if (S.has(p)) continue;
    if (managed.some((m) => !mine(m) && m.fields.has(p))) continue;
    deleteAt(object, p.split(SEP), opts.schema);
  }
  object = mergeApplied(object, applied, opts.schema) as Obj;
  const entry = managed.find(mine);
  if (entry) {
    entry.fields = S;
    entry.time = opts.time;
    entry.apiVersion = opts.apiVersion;
  } else {
    managed.push({ manager: opts.manager, operation: 'Apply', apiVersion: opts.apiVersion, time: opts.time, ...(opts.subresource ? { subresource: opts.subresource } : {}), fields: S });
  }
  return { object, managed: managed.filter((m) => m.fields.size > 0) };
}

/** An update (create, PUT, non-apply patch) by `manager`: it takes the fields it changed; removed fields are owned by no one. */
export function recordUpdate(
  before: Obj | undefined,
  after: Obj,
  opts: { manager: string; schema: Schema | undefined; managed: Managed[]; apiVersion: string; time: string; subresource?: string },
): Managed[] {
  const old = before ? fieldSet(before, opts.schema) : new Set<string>();
  const now = fieldSet(after, opts.schema);
  const changed = new Set<string>();
  for (const p of now) {
    const segs = p.split(SEP);
    if (!old.has(p) || !deepEqual(getAt(before, segs, opts.schema), getAt(after, segs, opts.schema))) changed.add(p);
  }
  const removed = [...old].filter((p) => !now.has(p));
  const managed = opts.managed.map((m) => ({ ...m, fields: new Set(m.fields) }));
  const mine = (m: Managed) => m.manager === opts.manager && m.operation === 'Update' && (m.subresource ?? '') === (opts.subresource ?? '');
  for (const m of managed) {
    for (const p of removed) m.fields.delete(p);
    if (!mine(m)) for (const p of changed) m.fields.delete(p);
  }
  if (changed.size) {
    const entry = managed.find(mine);
    if (entry) {
      for (const p of changed) entry.fields.add(p);
      entry.time = opts.time;
      entry.apiVersion = opts.apiVersion;
    } else {
      managed.push({ manager: opts.manager, operation: 'Update', apiVersion: opts.apiVersion, time: opts.time, ...(opts.subresource ? { subresource: opts.subresource } : {}), fields: changed });
    }
  }
  return managed.filter((m) => m.fields.size > 0);
}

/** The managedFields entries as the API serves them, with fieldsV1 trees (`{"f:spec":{"f:plan":{}}}`). */
export function managedFieldsJson(managed: Managed[]): Json[] {
  return managed.map((m) => {
    const tree: Obj = {};
    for (const p of [...m.fields].sort()) {
      let node = tree;
      for (const seg of p.split(SEP)) {
        if (!isObject(node[seg])) node[seg] = {};
        node = node[seg] as Obj;
      }
    }
    const out: Obj = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion, time: m.time, fieldsType: 'FieldsV1', fieldsV1: tree };
    if (m.subresource) out.subresource = m.subresource;
    return out;
  });
}

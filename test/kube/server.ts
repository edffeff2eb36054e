/**
 * A kube-API test server: plain node:http on 127.0.0.1, following the real API server's semantics for what
 * orgctl's in-cluster controller and kubectl use (discovery, OpenAPI v3, CRDs, custom resources with status
 * subresource, generation, optimistic concurrency, finalizers, the patch types, server-side apply, watch with
 * bookmarks and 410 Gone, Secrets, Events, Leases, Namespaces), with a request log for benchmarks.
 *
 *   const kube = await KubeApiServer.start();
 *   kube.loadCrds();                          // crds/ of this repository, as `kubectl apply -f crds/` would
 *   const kubeconfig = kube.writeKubeconfig(join(dir, 'kubeconfig'), { namespace: 'team-a' });
 *   ...
 *   kube.count('watch', 'organizations.orgctl.dev');   // requests by verb and resource
 *   kube.expireHistory();                     // every watch from an older resourceVersion now gets 410
 *   await kube.stop();
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml, stringify as toYaml } from 'yaml';
import { cell, findResults, parseJsonPath } from './jsonpath.js';
import { openApiV3Document } from './openapi.js';
import { openApiV2Document, openApiV2Protobuf } from './openapi-v2.js';
import { decodeProtobuf, PROTOBUF_KINDS } from './protobuf.js';
import { jsonPatch, managedFieldsJson, mergePatch, recordUpdate, serverSideApply, strategicMerge, type Managed } from './patch.js';
import { applyDefaults, clone, deepEqual, isObject, prune, validate } from './schema.js';
import { matchFields, parseFieldSelector, parseLabelSelector, type FieldReq, type LabelSelector } from './selectors.js';
import { errors, field, KubeError, type FieldError, type Json, type Obj } from './status.js';
import {
  BUILTIN_TYPES,
  CRDS,
  DecodeError,
  gv,
  metaFields,
  NAMESPACES,
  typeFromCrd,
  validateObjectMeta,
  type ResourceType,
} from './types.js';

export const CRD_DIR = fileURLToPath(new URL('../../crds/', import.meta.url));

/** The API server version this one claims (kubectl's dispatcher picks its 1.32 client from it). */
export const SERVER_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-orgctl-test', gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean', buildDate: '2026-11-28T00:00:00Z', goVersion: 'go1.23.0', compiler: 'gc', platform: 'linux/amd64' };

/** Objects over this size are refused like etcd does (its default request limit, 1.5 MiB). */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;
/** Request bodies over this are refused like the API server does (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface KubeApiServerOptions {
  /** Bearer token clients must send (default: random). */
  token?: string;
  /**
   * Refuse requests without the token with 401 (default false: kubectl sends no bearer token over plain
   * HTTP). A wrong token is always refused.
   */
  requireAuth?: boolean;
  /** Watch events kept for watches that resume from a resourceVersion (default 10000); older ones get 410. */
  historyLimit?: number;
  /** How often watches that asked for bookmarks get one (default 1000 ms; the real server: about a minute). */
  bookmarkIntervalMs?: number;
  /** Namespaces to create at start, besides default, kube-system, kube-public and kube-node-lease. */
  namespaces?: string[];
  /** Load the CRDs of this folder at start (default: none; call loadCrds()). */
  crdDir?: string;
  /** Clock (timestamps, ages). */
  now?: () => number;
}

/** One request, as the request log keeps it. */
export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  /** get list watch create update patch delete deletecollection, or the lower-case method for non-resource paths. */
  verb: string;
  /** `organizations.orgctl.dev`, `secrets`, `leases.coordination.k8s.io`, `organizations.orgctl.dev/status`; the path for non-resource requests. */
  resource: string;
  namespace?: string;
  name?: string;
  /** HTTP status (200 for a watch that started streaming). */
  code: number;
  userAgent: string;
  /** The request carried the server's bearer token. */
  authenticated?: boolean;
  contentType?: string;
  fieldManager?: string;
  at: number;
}

interface Stored {
  obj: Obj;
  managed: Managed[];
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface HistoryEvent {
  rv: number;
  storage: string;
  type: EventType;
  obj: Obj;
  prev?: Obj;
}

interface Watcher {
  type: ResourceType;
  namespace: string | undefined;
  label: LabelSelector;
  fields: FieldReq[];
  bookmarks: boolean;
  partial: 'v1' | 'v1beta1' | undefined;
  /** kubectl get -w asks for Tables: each event carries a one-row Table. */
  table?: { version: string; q: URLSearchParams };
  res: ServerResponse;
  closed: boolean;
  timer?: NodeJS.Timeout;
}

interface WriteOpts {
  dryRun: boolean;
  manager: string;
  fieldValidation: string;
  warnings: string[];
  /** Managed fields already computed (server-side apply). */
  managed?: Managed[];
  subresource?: string;
}

/** A resource request, parsed from its path. */
interface Target {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  watchPath: boolean;
}

type Fault = (r: { method: string; verb: string; resource: string; namespace?: string; name?: string }) => KubeError | 'reset' | undefined;

const NAME_DESCRIPTION =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';

const CRD_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

export class KubeApiServer {
  readonly token: string;
  private readonly server: http.Server;
  private readonly requireAuth: boolean;
  private readonly now: () => number;
  private readonly types = new Map<string, ResourceType>();
  private readonly data = new Map<string, Map<string, Stored>>();
  private rv = 100;
  private history: HistoryEvent[] = [];
  /** Watches may resume from any resourceVersion >= horizon. */
  private horizon = 100;
  private historyLimit: number;
  private readonly watchers = new Set<Watcher>();
  private readonly log: RequestRecord[] = [];
  private readonly sockets = new Set<Socket>();
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private sweepScheduled = false;
  private faults: Fault[] = [];
  private openapiCache = new Map<string, { doc: string; hash: string }>();
  private openapiV2: { json: string; proto: Buffer } | undefined;
  /** CEL rules of loaded CRDs this server does not evaluate (a real API server would). */
  readonly unevaluatedRules = new Set<string>();
  private port = 0;

  private constructor(opts: KubeApiServerOptions) {
    this.token = opts.token ?? randomBytes(16).toString('hex');
    this.requireAuth = opts.requireAuth ?? false;
    this.now = opts.now ?? Date.now;
    this.historyLimit = opts.historyLimit ?? 10_000;
    for (const t of BUILTIN_TYPES) this.register(t);
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    const every = opts.bookmarkIntervalMs ?? 1000;
    this.bookmarkTimer = setInterval(() => this.sendBookmarks(), every);
    this.bookmarkTimer.unref();
  }

  /** Starts a server on 127.0.0.1 and an ephemeral port. */
  static async start(opts: KubeApiServerOptions = {}): Promise<KubeApiServer> {
    const s = new KubeApiServer(opts);
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease', ...(opts.namespaces ?? [])]) s.createNamespace(ns);
    if (opts.crdDir) s.loadCrds(opts.crdDir);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(0, '127.0.0.1', () => resolve());
    });
    s.port = (s.server.address() as AddressInfo).port;
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Ends every watch, closes every connection and stops listening. */
  async stop(): Promise<void> {
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    this.closeWatches();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  // ------------------------------------------------------------------------------------------- test API

  /** A kubeconfig for this server with a bearer token (and a default namespace). */
  kubeconfig(opts: { namespace?: string; token?: string } = {}): string {
    return toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'orgctl-test', cluster: { server: this.url } }],
      users: [{ name: 'orgctl-test', user: { token: opts.token ?? this.token } }],
      contexts: [{ name: 'orgctl-test', context: { cluster: 'orgctl-test', user: 'orgctl-test', ...(opts.namespace ? { namespace: opts.namespace } : {}) } }],
      'current-context': 'orgctl-test',
      preferences: {},
    });
  }

  /** Writes kubeconfig() to a file and returns its path. */
  writeKubeconfig(path: string, opts: { namespace?: string; token?: string } = {}): string {
    writeFileSync(path, this.kubeconfig(opts), { mode: 0o600 });
    return path;
  }

  /** Creates the CRDs of a folder (default: this repository's crds/) as a client would; returns their names. */
  loadCrds(dir: string = CRD_DIR): string[] {
    const names: string[] = [];
    for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
        const crd = doc.toJSON() as Obj | null;
        if (!isObject(crd) || crd.kind !== 'CustomResourceDefinition') continue;
        const existing = this.data.get(CRDS.storage)?.get(`/${String((crd.metadata as Obj).name)}`);
        const opts: WriteOpts = { dryRun: false, manager: 'orgctl-test', fieldValidation: 'Strict', warnings: [] };
        const body = this.decode(CRDS, crd, opts);
        if (existing) {
          (body.metadata as Obj).resourceVersion = (existing.obj.metadata as Obj).resourceVersion!;
          this.update(CRDS, undefined, String((crd.metadata as Obj).name), body, opts);
        } else this.create(CRDS, undefined, body, opts);
        names.push(String((crd.metadata as Obj).name));
      }
    }
    return names;
  }

  createNamespace(name: string, labels: Record<string, string> = {}): Obj {
    const existing = this.data.get(NAMESPACES.storage)?.get(`/${name}`);
    if (existing) return existing.obj;
    return this.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }, { dryRun: false, manager: 'orgctl-test', fieldValidation: 'Strict', warnings: [] });
  }

  /** The stored object (as a GET would return it), or undefined. */
  object(apiVersion: string, plural: string, namespace: string | undefined, name: string): Obj | undefined {
    const t = this.typeOf(apiVersion, plural);
    const s = this.data.get(t.storage)?.get(this.key(t, namespace, name));
    return s ? this.external(t, s.obj) : undefined;
  }

  /** Every stored object of a resource (in a namespace, or all). */
  objects(apiVersion: string, plural: string, namespace?: string): Obj[] {
    const t = this.typeOf(apiVersion, plural);
    return this.scan(t, namespace).map((s) => this.external(t, s.obj));
  }

  /** The current (global) resourceVersion. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Every request so far (copies). */
  requests(): RequestRecord[] {
    return this.log.map((r) => ({ ...r }));
  }

  /** Requests by `verb resource` (`list organizations.orgctl.dev`, `watch secrets`, `patch organizations.orgctl.dev/status`). */
  counts(filter?: (r: RequestRecord) => boolean): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.log) {
      if (filter && !filter(r)) continue;
      const k = `${r.verb} ${r.resource}`;
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  }

  /** How many requests had this verb (and resource, e.g. `organizations.orgctl.dev`). */
  count(verb: string, resource?: string): number {
    return this.log.filter((r) => r.verb === verb && (resource === undefined || r.resource === resource)).length;
  }

  resetRequests(): void {
    this.log.length = 0;
  }

  /** Forgets every watch event: a watch from any resourceVersion before now gets 410 Gone (Expired). */
  expireHistory(): void {
    this.history = [];
    this.horizon = this.rv;
  }

  /** Keeps at most n watch events from now on (a small n makes 410s easy to provoke). */
  setHistoryLimit(n: number): void {
    this.historyLimit = n;
    this.trimHistory();
  }

  /** Sends a BOOKMARK now to every watch that allowed bookmarks. */
  sendBookmarks(): void {
    for (const w of this.watchers) if (w.bookmarks) this.writeEvent(w, 'BOOKMARK', this.bookmark(w.type));
  }

  /** Ends every open watch (clients must watch again). */
  closeWatches(): void {
    for (const w of [...this.watchers]) this.endWatch(w);
  }

  /** Open watches, per resource (`organizations.orgctl.dev`). */
  openWatches(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const w of this.watchers) {
      const k = this.resourceName(w.type);
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  }

  /**
   * Fault injection: `fn` sees each resource request before it is served and may answer it with an error
   * (a KubeError, e.g. `new KubeError(500, 'InternalError', 'boom')`) or `'reset'` (socket destroyed).
   * Returns a function that removes it.
   */
  inject(fn: Fault): () => void {
    this.faults.push(fn);
    return () => {
      this.faults = this.faults.filter((f) => f !== fn);
    };
  }

  // ------------------------------------------------------------------------------------------- registry

  private register(t: ResourceType): void {
    this.types.set(`${gv(t)}/${t.plural}`, t);
    if (!this.data.has(t.storage)) this.data.set(t.storage, new Map());
    this.openapiCache.clear();
    this.openapiV2 = undefined;
  }

  private unregister(t: ResourceType): void {
    this.types.delete(`${gv(t)}/${t.plural}`);
    this.data.delete(t.storage);
    for (const w of [...this.watchers]) if (w.type.storage === t.storage) this.endWatch(w);
    this.openapiCache.clear();
    this.openapiV2 = undefined;
  }

  private typeOf(apiVersion: string, plural: string): ResourceType {
    const t = this.types.get(`${apiVersion}/${plural}`);
    if (!t) throw new Error(`no resource ${plural} in ${apiVersion}`);
    return t;
  }

  private resourceName(t: ResourceType): string {
    return t.group ? `${t.plural}.${t.group}` : t.plural;
  }

  private key(t: ResourceType, ns: string | undefined, name: string): string {
    return t.namespaced ? `${ns ?? ''}/${name}` : `/${name}`;
  }

  private scan(t: ResourceType, ns: string | undefined): Stored[] {
    const all = [...(this.data.get(t.storage)?.entries() ?? [])];
    return all
      .filter(([k]) => ns === undefined || !t.namespaced || k.startsWith(`${ns}/`))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, s]) => s);
  }

  private timestamp(): string {
    return new Date(Math.floor(this.now() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  // ------------------------------------------------------------------------------------------- storage

  /** Stores a new state (or removal) of an object with the next resourceVersion and tells the watches. */
  private commit(t: ResourceType, key: string, obj: Obj, managed: Managed[], type: EventType, prev?: Obj): Obj {
    this.rv++;
    const meta = normalizeMeta(obj);
    meta.resourceVersion = String(this.rv);
    if (managed.length) meta.managedFields = managedFieldsJson(managed);
    else delete meta.managedFields;
    const store = this.data.get(t.storage)!;
    if (type === 'DELETED') store.delete(key);
    else store.set(key, { obj, managed });
    const ev: HistoryEvent = { rv: this.rv, storage: t.storage, type, obj, ...(prev ? { prev } : {}) };
    this.history.push(ev);
    this.trimHistory();
    for (const w of this.watchers) if (w.type.storage === t.storage) this.deliver(w, ev);
    this.scheduleSweep();
    return obj;
  }

  private trimHistory(): void {
    const excess = this.history.length - this.historyLimit;
    if (excess > 0) {
      this.horizon = this.history[excess - 1]!.rv;
      this.history.splice(0, excess);
    }
  }

  private encodedSize(obj: Obj): number {
    return Buffer.byteLength(JSON.stringify(obj));
  }

  // ------------------------------------------------------------------------------------------- decoding

  /** A request body as the API server decodes it: kind checks, unknown fields (strict/warn/ignore), conversion. */
  private decode(t: ResourceType, body: Json, opts: WriteOpts, kindRequired = t.custom, convert = true): Obj {
    if (!isObject(body)) throw errors.badRequest(`the object provided is unrecognized (must be of type ${t.kind})`);
    const obj = clone(body);
    const cannot = (why: string) => errors.badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: ${why}`);
    if (obj.kind === undefined || obj.kind === '') {
      if (kindRequired) throw errors.badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
      obj.kind = t.kind;
    }
    if (obj.apiVersion === undefined || obj.apiVersion === '') {
      if (kindRequired) throw errors.badRequest(`Object 'apiVersion' is missing in '${JSON.stringify(body)}'`);
      obj.apiVersion = gv(t);
    }
    if (obj.apiVersion !== gv(t)) throw errors.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${gv(t)})`);
    if (obj.kind !== t.kind) throw errors.badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${t.kind})`);
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    if (!isObject(obj.metadata)) throw cannot('json: cannot unmarshal into Go struct field .metadata of type v1.ObjectMeta');
    const m = obj.metadata;
    for (const k of ['labels', 'annotations']) {
      if (m[k] === null) delete m[k];
      else if (m[k] !== undefined && (!isObject(m[k]) || Object.values(m[k] as Obj).some((v) => typeof v !== 'string'))) {
        throw cannot(`json: cannot unmarshal into Go struct field ObjectMeta.metadata.${k} of type map[string]string`);
      }
    }
    if (m.finalizers === null) delete m.finalizers;
    else if (m.finalizers !== undefined && (!Array.isArray(m.finalizers) || m.finalizers.some((f) => typeof f !== 'string'))) {
      throw cannot('json: cannot unmarshal into Go struct field ObjectMeta.metadata.finalizers of type []string');
    }
    const unknown = prune(obj, t.schema).sort();
    if (unknown.length) {
      if (opts.fieldValidation === 'Strict') throw cannot(`strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`);
      if (opts.fieldValidation !== 'Ignore') for (const u of unknown) opts.warnings.push(`unknown field "${u}"`);
    }
    try {
      return t.toStorage && convert ? t.toStorage(obj) : obj;
    } catch (e) {
      if (e instanceof DecodeError) throw cannot(e.message);
      throw e;
    }
  }

  private validateObject(t: ResourceType, obj: Obj, old: Obj | undefined, opts: WriteOpts): FieldError[] {
    const errs = validateObjectMeta(t, obj, opts.warnings);
    if (t.custom) {
      const body = clone(obj);
      delete body.metadata;
      errs.push(...validate(body, { ...t.schema, properties: { ...(t.schema.properties ?? {}), metadata: { type: 'object' } } }, '', this.unevaluatedRules));
    }
    if (t.validate) errs.push(...t.validate(obj, old));
    return errs;
  }

  private invalid(t: ResourceType, name: string, errs: FieldError[]): KubeError {
    return errors.invalid(t.group, t.kind, name, errs);
  }

  /** The response shape of a stored object. */
  private external(t: ResourceType, obj: Obj): Obj {
    const out = t.fromStorage ? t.fromStorage(obj) : { ...obj };
    out.apiVersion = gv(t);
    out.kind = t.kind;
    return out;
  }

  // ------------------------------------------------------------------------------------------- writes

  private namespaceAllows(t: ResourceType, ns: string, name: string): void {
    const nsObj = this.data.get(NAMESPACES.storage)?.get(`/${ns}`);
    if (!nsObj) throw errors.notFound({ group: '', resource: 'namespaces' }, ns);
    if ((nsObj.obj.metadata as Obj).deletionTimestamp) {
      const message = `unable to create new content in namespace ${ns} because it is being terminated`;
      const e = errors.forbidden({ group: t.group, resource: t.plural }, name, message);
      e.details!.causes = [{ reason: 'NamespaceTerminating', message, field: 'metadata.namespace' }];
      throw e;
    }
  }

  private create(t: ResourceType, ns: string | undefined, body: Obj, opts: WriteOpts): Obj {
    const obj = clone(body);
    const m = obj.metadata as Obj;
    if (t.namespaced) {
      if (m.namespace !== undefined && m.namespace !== '' && m.namespace !== ns) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      m.namespace = ns!;
    } else delete m.namespace;
    if (!m.name && typeof m.generateName === 'string' && m.generateName) {
      const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
      m.name = m.generateName + Array.from(randomBytes(5), (b) => alphabet[b % alphabet.length]).join('');
    }
    const name = typeof m.name === 'string' ? m.name : '';
    if (t.namespaced && name) this.namespaceAllows(t, ns!, name);
    if (m.resourceVersion !== undefined && m.resourceVersion !== '') throw errors.internal('resourceVersion should not be set on objects to be created');
    m.uid = randomUUID();
    m.creationTimestamp = this.timestamp();
    for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink', 'managedFields', 'resourceVersion']) delete m[k];
    if (t.generation) m.generation = 1;
    else delete m.generation;
    if (t.subresources.includes('status') && t.custom) delete obj.status;
    t.prepareForCreate?.(obj);
    if (t.custom) applyDefaults(obj, t.schema);
    t.normalize?.(obj);
    normalizeMeta(obj);
    const errs = this.validateObject(t, obj, undefined, opts);
    if (errs.length) throw this.invalid(t, name, errs);
    const key = this.key(t, ns, name);
    if (this.data.get(t.storage)!.has(key)) throw errors.alreadyExists({ group: t.group, resource: t.plural }, name);
    if (this.encodedSize(obj) > MAX_OBJECT_BYTES) throw new KubeError(500, '', 'etcdserver: request is too large');
    const managed =
      opts.managed ?? recordUpdate(undefined, obj, { manager: opts.manager, schema: t.schema, managed: [], apiVersion: gv(t), time: this.timestamp() });
    if (opts.dryRun) {
      if (managed.length) m.managedFields = managedFieldsJson(managed);
      return obj;
    }
    const stored = this.commit(t, key, obj, managed, 'ADDED');
    if (t === CRDS) this.crdCreated(stored);
    return stored;
  }

  private update(t: ResourceType, ns: string | undefined, name: string, body: Obj, opts: WriteOpts): { obj: Obj; created: boolean } {
    const key = this.key(t, ns, name);
    const cur = this.data.get(t.storage)!.get(key);
    const m = body.metadata as Obj;
    if (m.name !== undefined && m.name !== name) throw errors.badRequest(`the name of the object (${String(m.name)}) does not match the name on the URL (${name})`);
    if (t.namespaced && m.namespace !== undefined && m.namespace !== '' && m.namespace !== ns) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (!cur) {
      if (t.allowCreateOnUpdate && !opts.subresource) {
        m.name = name;
        delete m.resourceVersion;
        return { obj: this.create(t, ns, body, opts), created: true };
      }
      throw errors.notFound({ group: t.group, resource: t.plural }, name);
    }
    const old = cur.obj;
    const oldMeta = old.metadata as Obj;
    const rv = m.resourceVersion;
    if (rv === undefined || rv === '') {
      if (!t.allowUnconditionalUpdate) throw this.invalid(t, name, [{ type: 'FieldValueInvalid', field: 'metadata.resourceVersion', raw: '0x0', detail: 'must be specified for an update' }]);
    } else if (rv !== oldMeta.resourceVersion) {
      throw errors.modified({ group: t.group, resource: t.plural }, name);
    }
    let next: Obj;
    if (opts.subresource === 'status') {
      next = clone(old);
      if (body.status === undefined) delete next.status;
      else next.status = clone(body.status);
    } else {
      next = clone(body);
      const nm = next.metadata as Obj;
      nm.name = name;
      if (t.namespaced) nm.namespace = ns!;
      else delete nm.namespace;
      if (nm.uid !== undefined && nm.uid !== '' && nm.uid !== oldMeta.uid) {
        throw this.invalid(t, name, [field.invalid('metadata.uid', nm.uid as Json, 'field is immutable')]);
      }
      for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation']) {
        if (oldMeta[k] !== undefined) nm[k] = oldMeta[k]!;
        else delete nm[k];
      }
      delete nm.selfLink;
      if (t.subresources.includes('status')) {
        if (old.status !== undefined) next.status = clone(old.status);
        else delete next.status;
      }
      if (oldMeta.deletionTimestamp) {
        const before = new Set((oldMeta.finalizers as string[] | undefined) ?? []);
        const added = ((nm.finalizers as string[] | undefined) ?? []).filter((f) => !before.has(f));
        if (added.length) {
          throw this.invalid(t, name, [
            field.forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`),
          ]);
        }
      }
    }
    const nm = next.metadata as Obj;
    nm.resourceVersion = oldMeta.resourceVersion!;
    if (t.custom) applyDefaults(next, t.schema);
    t.normalize?.(next);
    normalizeMeta(next);
    const errs = this.validateObject(t, next, old, opts);
    if (errs.length) throw this.invalid(t, name, errs);
    if (t.generation && !deepEqual(this.specOf(t, next), this.specOf(t, old))) nm.generation = Number(oldMeta.generation ?? 0) + 1;
    const managed =
      opts.managed ??
      recordUpdate(old, next, {
        manager: opts.manager,
        schema: t.schema,
        managed: cur.managed,
        apiVersion: gv(t),
        time: this.timestamp(),
        ...(opts.subresource ? { subresource: opts.subresource } : {}),
      });
    const withoutManaged = (o: Obj) => {
      const c = { ...o, metadata: { ...(o.metadata as Obj) } };
      delete (c.metadata as Obj).managedFields;
      return c;
    };
    // A write that changes nothing is not a write: same resourceVersion, no watch event.
    if (deepEqual(withoutManaged(next), withoutManaged(old))) return { obj: old, created: false };
    if (this.encodedSize(next) > MAX_OBJECT_BYTES) throw new KubeError(500, '', 'etcdserver: request is too large');
    if (opts.dryRun) {
      if (managed.length) nm.managedFields = managedFieldsJson(managed);
      return { obj: next, created: false };
    }
    if (oldMeta.deletionTimestamp && !((nm.finalizers as string[] | undefined) ?? []).length) {
      // The update that empties finalizers of an object being deleted removes it.
      delete nm.finalizers;
      const gone = this.commit(t, key, next, managed, 'DELETED', old);
      this.afterDelete(t, gone);
      return { obj: gone, created: false };
    }
    const stored = this.commit(t, key, next, managed, 'MODIFIED', old);
    if (t === CRDS) this.crdUpdated(stored);
    return { obj: stored, created: false };
  }

  /** What generation tracks: everything but metadata (and status, with the status subresource). */
  private specOf(t: ResourceType, o: Obj): Obj {
    const c = { ...o };
    delete c.metadata;
    if (t.subresources.includes('status')) delete c.status;
    return c;
  }

  private patch(t: ResourceType, ns: string | undefined, name: string, contentType: string, raw: string, q: URLSearchParams, opts: WriteOpts): { obj: Obj; created: boolean } {
    const ct = contentType.split(';')[0]!.trim().toLowerCase();
    if (!t.patchTypes.includes(ct)) throw errors.unsupportedMediaType(t.patchTypes);
    const force = q.get('force');
    const optErrs: FieldError[] = [];
    if (ct !== 'application/apply-patch+yaml' && force !== null) optErrs.push(field.forbidden('force', 'may not be specified for non-apply patch'));
    if (ct === 'application/apply-patch+yaml' && !q.get('fieldManager')) optErrs.push(field.required('fieldManager', 'is required for apply patch'));
    if (optErrs.length) throw errors.invalid('meta.k8s.io', 'PatchOptions', '', optErrs);
    const key = this.key(t, ns, name);
    const cur = this.data.get(t.storage)!.get(key);
    const gr = { group: t.group, resource: t.plural };

    if (ct === 'application/apply-patch+yaml') {
      let applied: Json;
      try {
        applied = parseYaml(raw) as Json;
      } catch (e) {
        throw errors.badRequest(`error decoding YAML: ${(e as Error).message}`);
      }
      if (!isObject(applied)) throw errors.badRequest('invalid object type: /, Kind=');
      const decoded = this.decode(t, applied, opts, true, false);
      const am = decoded.metadata as Obj;
      if (am.name !== undefined && am.name !== name) throw errors.badRequest(`the name of the object (${String(am.name)}) does not match the name on the URL (${name})`);
      if (cur && am.resourceVersion !== undefined && am.resourceVersion !== (cur.obj.metadata as Obj).resourceVersion) throw errors.modified(gr, name);
      const applyBody = clone(decoded);
      if (opts.subresource === 'status') {
        for (const k of Object.keys(applyBody)) if (!['apiVersion', 'kind', 'metadata', 'status'].includes(k)) delete applyBody[k];
      } else if (t.subresources.includes('status')) delete applyBody.status;
      const result = serverSideApply(cur ? this.external(t, cur.obj) : undefined, applyBody, {
        manager: opts.manager,
        force: force === 'true',
        schema: t.schema,
        managed: cur?.managed ?? [],
        apiVersion: gv(t),
        time: this.timestamp(),
        ...(opts.subresource ? { subresource: opts.subresource } : {}),
        gr,
        name,
      });
      const obj = this.decode(t, result.object, { ...opts, warnings: [] });
      const om = obj.metadata as Obj;
      om.name = name;
      if (!cur) {
        if (opts.subresource) throw errors.notFound(gr, name);
        delete om.resourceVersion;
        return { obj: this.create(t, ns, obj, { ...opts, managed: result.managed }), created: true };
      }
      om.resourceVersion = (cur.obj.metadata as Obj).resourceVersion!;
      return this.update(t, ns, name, obj, { ...opts, managed: result.managed });
    }

    if (!cur) throw errors.notFound(gr, name);
    let p: Json;
    try {
      p = JSON.parse(raw) as Json;
    } catch (e) {
      throw errors.badRequest(`error decoding patch: ${(e as Error).message}`);
    }
    const base = this.external(t, cur.obj) as Json;
    let patched: Json | undefined;
    if (ct === 'application/json-patch+json') patched = jsonPatch(base, p);
    else if (ct === 'application/merge-patch+json') {
      if (!isObject(p)) throw errors.badRequest('Invalid JSON Patch');
      patched = mergePatch(base, p);
    } else {
      if (!isObject(p)) throw errors.badRequest('unable to find api field in struct for the patch');
      patched = strategicMerge(base, p, t.lists);
    }
    if (!isObject(patched)) throw errors.badRequest(`the object provided is unrecognized (must be of type ${t.kind})`);
    const pm = isObject(patched.metadata) ? patched.metadata : (patched.metadata = {});
    const curRv = (cur.obj.metadata as Obj).resourceVersion!;
    if (pm.resourceVersion !== undefined && pm.resourceVersion !== null && pm.resourceVersion !== curRv) throw errors.modified(gr, name);
    pm.resourceVersion = curRv;
    if (pm.name !== name) throw errors.badRequest(`the name of the object (${String(pm.name)}) does not match the name on the URL (${name})`);
    const decoded = this.decode(t, patched, opts);
    return this.update(t, ns, name, decoded, opts);
  }

  private delete(t: ResourceType, ns: string | undefined, name: string, options: Obj, opts: WriteOpts): { code: number; body: Obj } {
    const key = this.key(t, ns, name);
    const cur = this.data.get(t.storage)!.get(key);
    const gr = { group: t.group, resource: t.plural };
    if (!cur) throw errors.notFound(gr, name);
    const meta = cur.obj.metadata as Obj;
    const pre = isObject(options.preconditions) ? options.preconditions : {};
    if (typeof pre.uid === 'string' && pre.uid !== meta.uid) {
      throw errors.conflict(gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(meta.uid)}`);
    }
    if (typeof pre.resourceVersion === 'string' && pre.resourceVersion !== meta.resourceVersion) {
      throw errors.conflict(gr, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${String(meta.resourceVersion)}`);
    }
    const out = (o: Obj) => this.external(t, o);
    if (meta.deletionTimestamp) return { code: 200, body: out(cur.obj) };
    // CRDs get their cleanup finalizer on the first delete: the instances go first.
    const finalizers = [...((meta.finalizers as string[] | undefined) ?? []), ...(t === CRDS && !(meta.finalizers as string[] | undefined)?.includes(CRD_FINALIZER) ? [CRD_FINALIZER] : [])];
    if (t === NAMESPACES || finalizers.length) {
      const next = clone(cur.obj);
      const nm = next.metadata as Obj;
      nm.deletionTimestamp = this.timestamp();
      nm.deletionGracePeriodSeconds = 0;
      if (finalizers.length) nm.finalizers = finalizers;
      if (t.generation && typeof nm.generation === 'number' && nm.generation > 0) nm.generation += 1;
      if (t === NAMESPACES) next.status = { ...(isObject(next.status) ? next.status : {}), phase: 'Terminating' };
      if (t === CRDS) {
        const st = isObject(next.status) ? next.status : (next.status = {});
        const conds = (Array.isArray(st.conditions) ? st.conditions.filter(isObject) : []).filter((c) => c.type !== 'Terminating');
        conds.push({ type: 'Terminating', status: 'True', lastTransitionTime: this.timestamp(), reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' });
        st.conditions = conds;
      }
      if (opts.dryRun) return { code: 200, body: out(next) };
      const stored = this.commit(t, key, next, cur.managed, 'MODIFIED', cur.obj);
      const code = options.orphanDependents === false ? 202 : 200;
      return { code, body: out(stored) };
    }
    if (opts.dryRun) return { code: 200, body: this.successStatus(t, cur.obj) };
    const gone = this.commit(t, key, clone(cur.obj), cur.managed, 'DELETED', cur.obj);
    this.afterDelete(t, gone);
    return { code: 200, body: this.successStatus(t, gone) };
  }

  private successStatus(t: ResourceType, o: Obj): Obj {
    const meta = o.metadata as Obj;
    const details: Obj = { name: meta.name! };
    if (t.group) details.group = t.group;
    details.kind = t.plural;
    details.uid = meta.uid!;
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
  }

  private afterDelete(t: ResourceType, gone: Obj): void {
    if (t === CRDS) {
      const ct = typeFromCrd(gone);
      if (this.types.get(`${gv(ct)}/${ct.plural}`)?.crd) this.unregister(ct);
    }
  }

  // ------------------------------------------------------------------------------------------- controllers

  /** What the apiextensions controllers do after a CRD is created: serve it and mark it established. */
  private crdCreated(crd: Obj): void {
    this.register(typeFromCrd(crd));
    setImmediate(() => this.crdStatus(String((crd.metadata as Obj).name)));
  }

  private crdUpdated(crd: Obj): void {
    if (!(crd.metadata as Obj).deletionTimestamp) this.register(typeFromCrd(crd));
    setImmediate(() => this.crdStatus(String((crd.metadata as Obj).name)));
  }

  private crdStatus(name: string): void {
    const cur = this.data.get(CRDS.storage)?.get(`/${name}`);
    if (!cur) return;
    const spec = cur.obj.spec as Obj;
    const next = clone(cur.obj);
    const old = isObject(cur.obj.status) ? cur.obj.status : {};
    const stored = new Set<string>(Array.isArray(old.storedVersions) ? (old.storedVersions as string[]) : []);
    for (const v of (spec.versions as Obj[]) ?? []) if (v.storage === true) stored.add(String(v.name));
    const prevConds = Array.isArray(old.conditions) ? old.conditions.filter(isObject) : [];
    const cond = (type: string, reason: string, message: string): Obj => {
      const prev = prevConds.find((c) => c.type === type);
      return { type, status: 'True', lastTransitionTime: prev?.status === 'True' ? prev.lastTransitionTime! : this.timestamp(), reason, message };
    };
    const conditions = [cond('NamesAccepted', 'NoConflicts', 'no conflicts found'), cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted')];
    const term = prevConds.find((c) => c.type === 'Terminating');
    if (term) conditions.push(term);
    next.status = { conditions, acceptedNames: clone(spec.names!), storedVersions: [...stored] };
    if (deepEqual(next.status, cur.obj.status)) return;
    this.commit(CRDS, `/${name}`, next, cur.managed, 'MODIFIED', cur.obj);
  }

  private scheduleSweep(): void {
    if (this.sweepScheduled) return;
    this.sweepScheduled = true;
    setImmediate(() => {
      this.sweepScheduled = false;
      this.sweep();
    });
  }

  /** The namespace and CRD cleanup controllers: delete what a terminating namespace or CRD still holds, then release it. */
  private sweep(): void {
    const opts: WriteOpts = { dryRun: false, manager: 'system', fieldValidation: 'Ignore', warnings: [] };
    for (const ns of this.scan(NAMESPACES, undefined)) {
      const m = ns.obj.metadata as Obj;
      if (!m.deletionTimestamp) continue;
      const name = String(m.name);
      let left = 0;
      for (const t of new Map([...this.types.values()].filter((x) => x.namespaced).map((x) => [x.storage, x])).values()) {
        for (const s of this.scan(t, name)) {
          left++;
          if (!(s.obj.metadata as Obj).deletionTimestamp) this.delete(t, name, String((s.obj.metadata as Obj).name), {}, opts);
        }
      }
      if (left === 0 && this.data.get(NAMESPACES.storage)!.has(`/${name}`)) this.commit(NAMESPACES, `/${name}`, clone(ns.obj), ns.managed, 'DELETED', ns.obj);
    }
    for (const crd of this.scan(CRDS, undefined)) {
      const m = crd.obj.metadata as Obj;
      if (!m.deletionTimestamp) continue;
      const ct = typeFromCrd(crd.obj);
      const t = this.types.get(`${gv(ct)}/${ct.plural}`);
      let left = 0;
      if (t) {
        for (const s of this.scan(t, undefined)) {
          left++;
          const sm = s.obj.metadata as Obj;
          if (!sm.deletionTimestamp) this.delete(t, sm.namespace as string | undefined, String(sm.name), {}, opts);
        }
      }
      const finalizers = (m.finalizers as string[] | undefined) ?? [];
      if (left === 0 && finalizers.includes(CRD_FINALIZER)) {
        const next = clone(crd.obj);
        (next.metadata as Obj).finalizers = finalizers.filter((f) => f !== CRD_FINALIZER);
        this.update(CRDS, undefined, String(m.name), next, opts);
      }
    }
  }

  // ------------------------------------------------------------------------------------------- watch

  private matches(w: Watcher, o: Obj): boolean {
    const m = o.metadata as Obj;
    if (w.namespace !== undefined && w.type.namespaced && m.namespace !== w.namespace) return false;
    if (!w.label((isObject(m.labels) ? m.labels : {}) as Record<string, string>)) return false;
    if (w.fields.length && !matchFields(w.fields, (w.type.fields ?? metaFields)(o))) return false;
    return true;
  }

  private deliver(w: Watcher, ev: HistoryEvent): void {
    const now = this.matches(w, ev.obj);
    const before = ev.prev ? this.matches(w, ev.prev) : false;
    if (ev.type === 'DELETED') {
      if (now || before) this.writeEvent(w, 'DELETED', this.watchObject(w, ev.obj));
    } else if (ev.type === 'ADDED') {
      if (now) this.writeEvent(w, 'ADDED', this.watchObject(w, ev.obj));
    } else if (now && before) this.writeEvent(w, 'MODIFIED', this.watchObject(w, ev.obj));
    else if (now) this.writeEvent(w, 'ADDED', this.watchObject(w, ev.obj));
    else if (before) {
      // Left the selection: DELETED, carrying the previous state at the new resourceVersion.
      const prev = clone(ev.prev!);
      (prev.metadata as Obj).resourceVersion = (ev.obj.metadata as Obj).resourceVersion!;
      this.writeEvent(w, 'DELETED', this.watchObject(w, prev));
    }
  }

  private watchObject(w: Watcher, o: Obj): Obj {
    const ext = this.external(w.type, o);
    if (w.table) return this.table(w.type, [ext], String((ext.metadata as Obj).resourceVersion), w.table.q, w.table.version);
    return w.partial ? this.partialObject(ext, w.partial) : ext;
  }

  private partialObject(o: Obj, v: 'v1' | 'v1beta1'): Obj {
    return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${v}`, metadata: o.metadata! };
  }

  private bookmark(t: ResourceType, annotations?: Record<string, string>): Obj {
    const metadata: Obj = { resourceVersion: String(this.rv) };
    if (t.typedList) metadata.creationTimestamp = null;
    if (annotations) metadata.annotations = annotations;
    return { kind: t.kind, apiVersion: gv(t), metadata };
  }

  private writeEvent(w: Watcher, type: string, object: Obj): void {
    if (w.closed) return;
    w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private endWatch(w: Watcher): void {
    if (w.closed) return;
    w.closed = true;
    if (w.timer) clearTimeout(w.timer);
    this.watchers.delete(w);
    w.res.end();
  }

  private watch(
    t: ResourceType,
    ns: string | undefined,
    q: URLSearchParams,
    res: ServerResponse,
    as: { as: 'json' | 'table' | 'partial'; version: string },
    name?: string,
  ): void {
    const partial = as.as === 'partial' ? (as.version as 'v1' | 'v1beta1') : undefined;
    const label = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'), t.fieldLabels);
    if (name) fields.push({ key: 'metadata.name', op: '=', value: name });
    const rvParam = q.get('resourceVersion') ?? '';
    const sendInitial = q.get('sendInitialEvents') === 'true';
    const bookmarks = q.get('allowWatchBookmarks') === 'true';
    if (sendInitial && !bookmarks) throw this.invalid(t, '', [field.forbidden('allowWatchBookmarks', 'sendInitialEvents requires setting allowWatchBookmarks to true')]);
    let from: number | undefined;
    if (rvParam !== '' && rvParam !== '0') {
      if (!/^\d+$/.test(rvParam)) throw errors.badRequest(`invalid resource version: ${rvParam}`);
      from = Number(rvParam);
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const w: Watcher = { type: t, namespace: ns, label, fields, bookmarks, partial, res, closed: false, ...(as.as === 'table' ? { table: { version: as.version, q } } : {}) };
    if (from !== undefined && from < this.horizon && !sendInitial) {
      // Too old: HTTP 200, then one ERROR event with a 410 Status, then the end of the stream.
      this.writeEvent(w, 'ERROR', errors.expired(`too old resource version: ${from} (${this.horizon})`).status() as unknown as Obj);
      res.end();
      return;
    }
    if (from === undefined || sendInitial) {
      for (const s of this.scan(t, ns)) if (this.matches(w, s.obj)) this.writeEvent(w, 'ADDED', this.watchObject(w, s.obj));
      if (sendInitial) this.writeEvent(w, 'BOOKMARK', this.bookmark(t, { 'k8s.io/initial-events-end': 'true' }));
    } else {
      for (const ev of this.history) if (ev.rv > from && ev.storage === t.storage) this.deliver(w, ev);
    }
    this.watchers.add(w);
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    if (timeout > 0) w.timer = setTimeout(() => this.endWatch(w), timeout * 1000);
    const done = () => {
      w.closed = true;
      if (w.timer) clearTimeout(w.timer);
      this.watchers.delete(w);
    };
    res.on('close', done);
  }

  // ------------------------------------------------------------------------------------------- reads

  private list(t: ResourceType, ns: string | undefined, q: URLSearchParams): { items: Obj[]; meta: Obj } {
    const label = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'), t.fieldLabels);
    const w = { type: t, namespace: ns, label, fields } as Watcher;
    let all = this.scan(t, ns).filter((s) => this.matches(w, s.obj));
    const meta: Obj = { resourceVersion: String(this.rv) };
    const cont = q.get('continue');
    if (cont) {
      let token: { rv: number; start: string };
      try {
        token = JSON.parse(Buffer.from(cont, 'base64').toString('utf8')) as { rv: number; start: string };
      } catch {
        throw errors.badRequest('continue key is not valid: illegal base64 data at input byte 0');
      }
      if (token.rv < this.horizon) {
        throw errors.expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      }
      all = all.filter((s) => this.key(t, (s.obj.metadata as Obj).namespace as string, String((s.obj.metadata as Obj).name)) > token.start);
      meta.resourceVersion = String(token.rv);
    }
    const limit = Number(q.get('limit') ?? '0');
    if (limit > 0 && q.get('resourceVersion') !== '0' && all.length > limit) {
      const last = all[limit - 1]!.obj.metadata as Obj;
      meta.continue = Buffer.from(JSON.stringify({ rv: Number(meta.resourceVersion), start: this.key(t, last.namespace as string, String(last.name)) })).toString('base64');
      meta.remainingItemCount = all.length - limit;
      all = all.slice(0, limit);
    }
    return { items: all.map((s) => this.external(t, s.obj)), meta };
  }

  private table(t: ResourceType, objs: Obj[], rv: string, q: URLSearchParams, version: string): Obj {
    const now = this.now();
    const include = q.get('includeObject') ?? 'Metadata';
    const columns = [{ name: 'Name', type: 'string', format: 'name', description: NAME_DESCRIPTION, priority: 0 }, ...t.columns];
    return {
      kind: 'Table',
      apiVersion: `meta.k8s.io/${version}`,
      metadata: { resourceVersion: rv },
      columnDefinitions: columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
      rows: objs.map((o) => {
        const cells: Json[] = [String((o.metadata as Obj).name)];
        for (const c of t.columns) {
          if (c.jsonPath) {
            let results: Json[] = [];
            try {
              results = findResults(parseJsonPath(c.jsonPath), o);
            } catch {
              results = [];
            }
            cells.push(cell(c.type, results, now));
          } else cells.push(c.value!(o, now));
        }
        const row: Obj = { cells };
        if (include === 'Object') row.object = o;
        else if (include !== 'None') row.object = this.partialObject(o, version === 'v1beta1' ? 'v1beta1' : 'v1');
        return row;
      }),
    };
  }

  // ------------------------------------------------------------------------------------------- discovery

  private groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const t of this.types.values()) {
      if (!t.group) continue;
      const vs = out.get(t.group) ?? [];
      if (!vs.includes(t.version)) vs.push(t.version);
      out.set(t.group, vs);
    }
    return out;
  }

  private resourceList(group: string, version: string): Obj | undefined {
    const ts = [...this.types.values()].filter((t) => t.group === group && t.version === version);
    if (!ts.length) return undefined;
    const resources: Obj[] = [];
    for (const t of ts.sort((a, b) => (a.plural < b.plural ? -1 : 1))) {
      const r: Obj = { name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: t.verbs };
      if (t.shortNames.length) r.shortNames = t.shortNames;
      if (t.categories.length) r.categories = t.categories;
      r.storageVersionHash = createHash('sha256').update(`${group}/${version}/${t.kind}`).digest('base64').slice(0, 11);
      resources.push(r);
      for (const sub of t.subresources) {
        resources.push({ name: `${t.plural}/${sub}`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: sub === 'finalize' ? ['update'] : ['get', 'patch', 'update'] });
      }
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
  }

  private openapi(gvPath: string): { doc: string; hash: string } | undefined {
    const cached = this.openapiCache.get(gvPath);
    if (cached) return cached;
    const [prefix, ...rest] = gvPath.split('/');
    const group = prefix === 'api' ? '' : rest[0]!;
    const version = prefix === 'api' ? rest[0]! : rest[1]!;
    const ts = [...this.types.values()].filter((t) => t.group === group && t.version === version);
    if (!ts.length) return undefined;
    const doc = JSON.stringify(openApiV3Document(group, version, ts));
    const out = { doc, hash: createHash('sha512').update(doc).digest('hex').toUpperCase() };
    this.openapiCache.set(gvPath, out);
    return out;
  }

  private gvPaths(): string[] {
    const out = new Set<string>();
    for (const t of this.types.values()) out.add(t.group ? `apis/${t.group}/${t.version}` : `api/${t.version}`);
    return [...out].sort();
  }

  // ------------------------------------------------------------------------------------------- HTTP

  private send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', ...headers, 'Content-Length': String(Buffer.byteLength(text)) });
    res.end(text);
  }

  private sendError(res: ServerResponse, e: KubeError, warnings: string[] = []): void {
    this.send(res, e.code, e.status(), { ...e.headers, ...this.warningHeader(warnings) });
  }

  private warningHeader(warnings: string[]): Record<string, string> {
    if (!warnings.length) return {};
    return { Warning: [...new Set(warnings)].map((w) => `299 - ${JSON.stringify(w)}`).join(', ') };
  }

  private readBody(req: IncomingMessage): Promise<string> {
    return this.readBytes(req).then((b) => b.toString('utf8'));
  }

  private readBytes(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          reject(new KubeError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${MAX_BODY_BYTES}`));
          req.resume();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  private parseTarget(segments: string[]): { group: string; version: string; rest: string[] } | undefined {
    if (segments[0] === 'api' && segments.length >= 2) return { group: '', version: segments[1]!, rest: segments.slice(2) };
    if (segments[0] === 'apis' && segments.length >= 3) return { group: segments[1]!, version: segments[2]!, rest: segments.slice(3) };
    return undefined;
  }

  private resolve(group: string, version: string, rest: string[]): Target | undefined {
    let watchPath = false;
    let r = rest;
    if (r[0] === 'watch') {
      watchPath = true;
      r = r.slice(1);
    }
    const gvKey = group ? `${group}/${version}` : version;
    if (r[0] === 'namespaces' && r.length >= 3) {
      const t = this.types.get(`${gvKey}/${r[2]}`);
      if (t?.namespaced) return { type: t, namespace: r[1]!, ...(r[3] !== undefined ? { name: r[3] } : {}), ...(r[4] !== undefined ? { subresource: r[4] } : {}), watchPath };
    }
    const t = this.types.get(`${gvKey}/${r[0]}`);
    if (!t || r.length > 3) return undefined;
    if (t.namespaced && r.length > 1) return undefined;
    return { type: t, ...(r[1] !== undefined ? { name: r[1] } : {}), ...(r[2] !== undefined ? { subresource: r[2] } : {}), watchPath };
  }

  /** The media type to answer with: JSON, a Table or PartialObjectMetadata, from the Accept header. */
  private negotiate(accept: string | undefined, list: boolean): { as: 'json' | 'table' | 'partial'; version: string } {
    if (!accept) return { as: 'json', version: 'v1' };
    for (const part of accept.split(',')) {
      const [type, ...params] = part.split(';').map((s) => s.trim());
      const p = Object.fromEntries(params.map((x) => x.split('=').map((s) => s.trim()) as [string, string]));
      if (type === 'application/json' && p.as === 'Table' && p.g === 'meta.k8s.io') return { as: 'table', version: p.v ?? 'v1' };
      if (type === 'application/json' && (p.as === 'PartialObjectMetadata' || p.as === 'PartialObjectMetadataList') && p.g === 'meta.k8s.io') {
        if ((p.as === 'PartialObjectMetadataList') === list) return { as: 'partial', version: p.v ?? 'v1' };
        continue;
      }
      if ((type === 'application/json' || type === '*/*' || type === 'application/*') && !p.as) return { as: 'json', version: 'v1' };
    }
    throw errors.notAcceptable(['application/json', 'application/yaml']);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rec: RequestRecord = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      verb: (req.method ?? 'GET').toLowerCase(),
      resource: url.pathname,
      code: 0,
      userAgent: String(req.headers['user-agent'] ?? ''),
      at: this.now(),
    };
    if (req.headers['content-type']) rec.contentType = String(req.headers['content-type']);
    if (url.searchParams.get('fieldManager')) rec.fieldManager = url.searchParams.get('fieldManager')!;
    this.log.push(rec);
    res.on('finish', () => {
      if (!rec.code) rec.code = res.statusCode;
    });
    const warnings: string[] = [];
    this.serve(req, res, url, rec, warnings).catch((e: unknown) => {
      const err = e instanceof KubeError ? e : errors.internal((e as Error).stack ?? String(e));
      rec.code = err.code;
      if (res.headersSent) res.end();
      else this.sendError(res, err, warnings);
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse, url: URL, rec: RequestRecord, warnings: string[]): Promise<void> {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const q = url.searchParams;
    if (['/healthz', '/readyz', '/livez'].includes(path)) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    const auth = req.headers.authorization;
    rec.authenticated = auth === `Bearer ${this.token}`;
    if (auth !== undefined ? !rec.authenticated : this.requireAuth) throw errors.unauthorized();
    if (path === '/version') return this.send(res, 200, SERVER_VERSION);
    if (path === '/api') return this.send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }] });
    if (path === '/apis') {
      const groups = [...this.groups()].map(([name, versions]) => ({
        name,
        versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${name}/${versions[0]!}`, version: versions[0]! },
      }));
      return this.send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    if (path === '/openapi/v2') {
      let v2 = this.openapiV2;
      if (!v2) {
        const doc = openApiV2Document([...this.types.values()]);
        v2 = this.openapiV2 = { json: JSON.stringify(doc), proto: openApiV2Protobuf(doc) };
      }
      const etag = `"${createHash('sha512').update(v2.json).digest('hex').toUpperCase()}"`;
      if (String(req.headers.accept ?? '').includes('protobuf')) {
        rec.code = 200;
        res.writeHead(200, { 'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', ETag: etag, 'Content-Length': String(v2.proto.length) });
        res.end(v2.proto);
        return;
      }
      return this.send(res, 200, v2.json, { ETag: etag });
    }
    if (path === '/openapi/v3') {
      const paths: Obj = {};
      for (const p of this.gvPaths()) paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${this.openapi(p)!.hash}` };
      return this.send(res, 200, { paths });
    }
    if (path.startsWith('/openapi/v3/')) {
      const doc = this.openapi(path.slice('/openapi/v3/'.length));
      if (!doc) throw errors.notFoundPath();
      const hash = q.get('hash');
      if (hash && hash !== doc.hash) {
        res.writeHead(301, { Location: `${path}?hash=${doc.hash}` });
        res.end();
        return;
      }
      return this.send(res, 200, doc.doc, { ETag: `"${doc.hash}"`, ...(hash ? { 'Cache-Control': 'public, immutable' } : {}) });
    }
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (segments[0] === 'apis' && segments.length === 2) {
      const versions = this.groups().get(segments[1]!);
      if (!versions) throw errors.notFoundPath();
      return this.send(res, 200, {
        kind: 'APIGroup',
        apiVersion: 'v1',
        name: segments[1],
        versions: versions.map((v) => ({ groupVersion: `${segments[1]}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${segments[1]}/${versions[0]!}`, version: versions[0]! },
      });
    }
    const target = this.parseTarget(segments);
    if (!target) throw errors.notFoundPath();
    if (target.rest.length === 0) {
      const list = this.resourceList(target.group, target.version);
      if (!list) throw errors.notFoundPath();
      return this.send(res, 200, list);
    }
    const tg = this.resolve(target.group, target.version, target.rest);
    if (!tg) throw errors.notFoundPath();
    const t = tg.type;
    const gr = { group: t.group, resource: t.plural };
    const isWatch = tg.watchPath || q.get('watch') === 'true' || q.get('watch') === '1';
    let verb: string;
    if (method === 'GET') verb = isWatch ? 'watch' : tg.name ? 'get' : 'list';
    else if (method === 'POST') verb = 'create';
    else if (method === 'PUT') verb = 'update';
    else if (method === 'PATCH') verb = 'patch';
    else if (method === 'DELETE') verb = tg.name ? 'delete' : 'deletecollection';
    else throw errors.methodNotSupported(method.toLowerCase(), gr);
    rec.verb = verb;
    rec.resource = this.resourceName(t) + (tg.subresource ? `/${tg.subresource}` : '');
    if (tg.namespace !== undefined) rec.namespace = tg.namespace;
    if (tg.name !== undefined) rec.name = tg.name;
    for (const f of this.faults) {
      const r = f({ method, verb, resource: rec.resource, ...(tg.namespace !== undefined ? { namespace: tg.namespace } : {}), ...(tg.name !== undefined ? { name: tg.name } : {}) });
      if (r === 'reset') {
        rec.code = -1;
        req.socket.destroy();
        return;
      }
      if (r) throw r;
    }
    if (tg.subresource && !t.subresources.includes(tg.subresource)) throw errors.notFoundPath();
    if (tg.subresource && !tg.name) throw errors.notFoundPath();
    if (!tg.name && (method === 'PUT' || method === 'PATCH')) throw errors.methodNotSupported(verb, gr);
    if (tg.name && method === 'POST') throw errors.methodNotSupported('create', gr);
    if (t.namespaced && tg.namespace === undefined && (method === 'POST' || (tg.name && !isWatch))) throw errors.notFoundPath();
    if (tg.namespace !== undefined && !t.namespaced) throw errors.notFoundPath();

    const dryRun = q.getAll('dryRun').includes('All');
    const opts: WriteOpts = {
      dryRun,
      manager: q.get('fieldManager') || String(req.headers['user-agent'] ?? 'unknown').split('/')[0]!,
      fieldValidation: q.get('fieldValidation') ?? 'Warn',
      warnings,
      ...(tg.subresource ? { subresource: tg.subresource } : {}),
    };
    if (!['Strict', 'Warn', 'Ignore', ''].includes(opts.fieldValidation)) {
      throw errors.badRequest(`fieldValidation parameter unsupported: ${opts.fieldValidation}. Supported values are: Strict, Warn, Ignore`);
    }
    const reply = (code: number, body: Obj) => {
      rec.code = code;
      this.send(res, code, body, this.warningHeader(warnings));
    };
    const bodyJson = async (): Promise<Json> => {
      const bytes = await this.readBytes(req);
      const raw = bytes.toString('utf8');
      const ct = String(req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim();
      if (ct === 'application/vnd.kubernetes.protobuf' && !t.custom && t.group === '' && PROTOBUF_KINDS.includes(t.kind)) {
        try {
          return decodeProtobuf(bytes);
        } catch (e) {
          throw errors.badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: ${(e as Error).message}`);
        }
      }
      if (ct === 'application/yaml') {
        try {
          return parseYaml(raw) as Json;
        } catch (e) {
          throw errors.badRequest(`error converting YAML to JSON: ${(e as Error).message}`);
        }
      }
      if (ct !== 'application/json') throw errors.unsupportedMediaType(['application/json', 'application/yaml', ...(t.custom ? [] : ['application/vnd.kubernetes.protobuf'])]);
      try {
        return JSON.parse(raw) as Json;
      } catch (e) {
        throw errors.badRequest(`json: ${(e as Error).message}`);
      }
    };

    if (verb === 'watch') {
      const neg = this.negotiate(req.headers.accept, false);
      rec.code = 200;
      this.watch(t, tg.namespace, q, res, neg, tg.name);
      return;
    }
    if (verb === 'list') {
      const neg = this.negotiate(req.headers.accept, true);
      const { items, meta } = this.list(t, tg.namespace, q);
      if (neg.as === 'table') return reply(200, this.table(t, items, String(meta.resourceVersion), q, neg.version));
      if (neg.as === 'partial') return reply(200, { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${neg.version}`, metadata: meta, items: items.map((o) => this.partialObject(o, neg.version as 'v1')) });
      const out = t.typedList ? items.map((o) => ({ ...o, apiVersion: undefined, kind: undefined })).map((o) => JSON.parse(JSON.stringify(o)) as Obj) : items;
      return reply(200, { kind: t.listKind, apiVersion: gv(t), metadata: meta, items: out });
    }
    if (verb === 'get') {
      const neg = this.negotiate(req.headers.accept, false);
      const s = this.data.get(t.storage)!.get(this.key(t, tg.namespace, tg.name!));
      if (!s) throw errors.notFound(gr, tg.name!);
      const o = this.external(t, s.obj);
      if (neg.as === 'table') return reply(200, this.table(t, [o], String((o.metadata as Obj).resourceVersion), q, neg.version));
      if (neg.as === 'partial') return reply(200, this.partialObject(o, neg.version as 'v1'));
      return reply(200, o);
    }
    if (verb === 'create') {
      const body = this.decode(t, await bodyJson(), opts);
      const created = this.create(t, tg.namespace, body, opts);
      return reply(201, this.external(t, created));
    }
    if (verb === 'update') {
      const body = this.decode(t, await bodyJson(), opts);
      if (tg.subresource === 'finalize') {
        // Namespaces: finalize replaces spec.finalizers.
        const cur = this.data.get(t.storage)!.get(this.key(t, undefined, tg.name!));
        if (!cur) throw errors.notFound(gr, tg.name!);
        const next = clone(cur.obj);
        next.spec = { ...(isObject(next.spec) ? next.spec : {}), finalizers: ((body.spec as Obj | undefined)?.finalizers as Json) ?? [] };
        const r = this.update(t, undefined, tg.name!, next, { ...opts, subresource: undefined } as WriteOpts);
        return reply(200, this.external(t, r.obj));
      }
      const r = this.update(t, tg.namespace, tg.name!, body, opts);
      return reply(r.created ? 201 : 200, this.external(t, r.obj));
    }
    if (verb === 'patch') {
      const raw = await this.readBody(req);
      const r = this.patch(t, tg.namespace, tg.name!, String(req.headers['content-type'] ?? ''), raw, q, opts);
      return reply(r.created ? 201 : 200, this.external(t, r.obj));
    }
    if (verb === 'delete') {
      const raw = await this.readBody(req);
      let options: Obj = {};
      if (raw.trim()) {
        const parsed = JSON.parse(raw) as Json;
        if (isObject(parsed)) options = parsed;
      }
      if (q.get('propagationPolicy')) options.propagationPolicy = q.get('propagationPolicy')!;
      const r = this.delete(t, tg.namespace, tg.name!, options, opts);
      return reply(r.code, r.body);
    }
    // deletecollection
    const { items } = this.list(t, tg.namespace, q);
    for (const o of items) {
      const m = o.metadata as Obj;
      this.delete(t, m.namespace as string | undefined, String(m.name), {}, opts);
    }
    return reply(200, { kind: t.listKind, apiVersion: gv(t), metadata: { resourceVersion: String(this.rv) }, items });
  }
}

/** ObjectMeta's omitempty fields: an emptied map or list is gone, as after a round trip through ObjectMeta. */
function normalizeMeta(obj: Obj): Obj {
  const meta = obj.metadata as Obj;
  for (const k of ['labels', 'annotations', 'finalizers', 'ownerReferences']) {
    const v = meta[k];
    if (v === null || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0)) delete meta[k];
  }
  return meta;
}

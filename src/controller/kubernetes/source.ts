import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { DesiredOrg } from '../../model/desired.js';
import { desiredDigest, type DesiredSnapshot, type DesiredSource } from '../source.js';
import type { KubeClient } from './client.js';
import { Informer } from './informer.js';
import { collectionPath, hasFinalizer, isDeleting, KINDS, objectKey, organizationOf, type Kind, type KubeObject, type ObjectKey } from './objects.js';
import { buildDesired, validateGroup, type GroupObject, type Verdict } from './validate.js';

/** What one organization's objects look like now: the Organization, what names it, and what is wrong. */
export interface GroupState {
  org: string;
  /** Every object naming the organization, being deleted or not. */
  objects: GroupObject[];
  /** Objects that do not validate (never acted on), by key. */
  verdicts: ReadonlyMap<ObjectKey, Verdict>;
  /** Some live object does not validate: the organization stays at its last valid declaration, if any. */
  blocked: boolean;
  /** The Organization object, live or being deleted (the first, if several namespaces declare one). */
  organization?: GroupObject;
}

/** Which objects, at which generations, a desired state was built from; and the deleted ones it leaves out. */
export interface DesiredInfo {
  generations: ReadonlyMap<ObjectKey, number>;
  /** Memberships and Integrations being deleted, whose part is no longer declared. */
  excluded: ReadonlySet<ObjectKey>;
  /** desiredDigest of it: a result for an equal desired state stands for this one too (a no-op edit). */
  digest: string;
}

export interface KubernetesSourceOptions {
  client: KubeClient;
  config: KubeConfig;
  /** One namespace, or all (undefined). */
  namespace: string | undefined;
  /** Watch Secrets (metadata only), so a rotated one re-reconciles the Integrations that use it. */
  watchSecrets?: boolean;
  onInformerError?: (what: string, err: unknown, retryInMs: number) => void;
}

/**
 * Desired state from the Organization, Membership and Integration custom resources, read by informers (one
 * list and one watch per kind). Objects are validated per organization, with the same checks as manifest
 * files; an organization any of whose live objects does not validate keeps its last valid declaration (and
 * is not acted on from the invalid one). An Organization being deleted (held by the finalizer) is offered in
 * `deleting` with what it declared, so its deletionPolicy acts even after a restart.
 */
export class KubernetesSource implements DesiredSource {
  private readonly informers = new Map<Kind | 'Secret', Informer<KubernetesObject>>();
  private readonly objects = new Map<ObjectKey, GroupObject>();
  private readonly byOrg = new Map<string, Set<ObjectKey>>();
  private readonly orgOfKey = new Map<ObjectKey, string>();
  private readonly secretRefs = new Map<string, Set<ObjectKey>>();
  private readonly secretOfKey = new Map<ObjectKey, string>();
  private readonly groups = new Map<string, GroupState>();
  private readonly orgs = new Map<string, DesiredOrg>();
  private readonly deleting = new Map<string, DesiredOrg>();
  /** Why an organization is in `deleting`: its Organization is held by the finalizer, or went without it. */
  private readonly deletingOrigin = new Map<string, 'finalizer' | 'vanished'>();
  private readonly digests = new Map<string, string>();
  private readonly info = new WeakMap<DesiredOrg, DesiredInfo>();
  private readonly dirty = new Set<string>();
  private readonly secretTouched = new Set<string>();
  private flushScheduled = false;
  private running: Promise<void> | undefined;
  private loaded = false;
  private onChange: ((changed: ReadonlySet<string>) => void) | undefined;
  /** Told the organizations whose objects changed (to write status and finalizers), after the desired state is updated. */
  onGroups: (orgs: ReadonlySet<string>) => void = () => undefined;

  constructor(opts: KubernetesSourceOptions) {
    for (const kind of KINDS) {
      const handler = (obj: KubernetesObject) => this.changed(kind, obj as KubeObject);
      this.informers.set(
        kind,
        new Informer({
          client: opts.client,
          config: opts.config,
          path: collectionPath(kind, opts.namespace),
          onAdd: handler,
          onUpdate: handler,
          onDelete: (obj) => this.removed(kind, obj as KubeObject),
          onError: (err, ms) => opts.onInformerError?.(kind, err, ms),
        }),
      );
    }
    if (opts.watchSecrets !== false) {
      const secret = (obj: KubernetesObject) => this.secretChanged(obj);
      this.informers.set(
        'Secret',
        new Informer({
          client: opts.client,
          config: opts.config,
          path: opts.namespace ? `/api/v1/namespaces/${opts.namespace}/secrets` : '/api/v1/secrets',
          metadataOnly: true,
          onAdd: secret,
          onUpdate: secret,
          onDelete: secret,
          onError: (err, ms) => opts.onInformerError?.('Secret', err, ms),
        }),
      );
    }
  }

  /** Starts the informers (once) and resolves when every one has listed and the first desired state is made. */
  run(): Promise<void> {
    this.running ??= (async () => {
      await Promise.all([...this.informers.values()].map((i) => i.start()));
      this.flush();
      this.loaded = true;
    })();
    return this.running;
  }

  async start(onChange: (changed: ReadonlySet<string>) => void): Promise<void> {
    await this.run();
    this.onChange = onChange;
    const all = new Set([...this.orgs.keys(), ...this.deleting.keys()]);
    if (all.size) onChange(all);
  }

  snapshot(): DesiredSnapshot {
    return { orgs: this.orgs, deleting: this.deleting, problems: [], loaded: this.loaded };
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }

  get synced(): boolean {
    return this.loaded;
  }

  group(org: string): GroupState | undefined {
    return this.groups.get(org);
  }

  allGroups(): IterableIterator<GroupState> {
    return this.groups.values();
  }

  desiredInfo(desired: DesiredOrg): DesiredInfo | undefined {
    return this.info.get(desired);
  }

  object(key: ObjectKey): GroupObject | undefined {
    return this.objects.get(key);
  }

  /** Organizations whose Integrations use a Secret (`namespace/name`). */
  usersOfSecret(ref: string): ObjectKey[] {
    return [...(this.secretRefs.get(ref) ?? [])];
  }

  /** An organization gone with its Organization object and acted on (orphaned or deleted): no longer offered. */
  forgetDeleted(org: string): void {
    if (this.groups.get(org)?.organization) return;
    this.deleting.delete(org);
    this.deletingOrigin.delete(org);
    this.digests.delete(org);
  }

  /** How many live objects do not validate. */
  invalidCount(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.verdicts.size;
    return n;
  }

  // ----------------------------------------------------------------------------------------------- events

  private changed(kind: Kind, obj: KubeObject): void {
    const key = objectKey(kind, obj);
    const org = organizationOf(kind, obj) ?? '';
    const before = this.orgOfKey.get(key);
    if (before !== undefined && before !== org) {
      this.byOrg.get(before)?.delete(key);
      this.dirty.add(before);
    }
    this.objects.set(key, { key, kind, obj });
    this.orgOfKey.set(key, org);
    let set = this.byOrg.get(org);
    if (!set) this.byOrg.set(org, (set = new Set()));
    set.add(key);
    this.dirty.add(org);
    if (kind === 'Integration') this.indexSecret(key, obj);
    this.schedule();
  }

  private removed(kind: Kind, obj: KubeObject): void {
    const key = objectKey(kind, obj);
    const org = this.orgOfKey.get(key);
    this.objects.delete(key);
    this.orgOfKey.delete(key);
    if (org !== undefined) {
      this.byOrg.get(org)?.delete(key);
      this.dirty.add(org);
    }
    if (kind === 'Integration') this.indexSecret(key, undefined);
    this.schedule();
  }

  private indexSecret(key: ObjectKey, obj: KubeObject | undefined): void {
    const before = this.secretOfKey.get(key);
    if (before) this.secretRefs.get(before)?.delete(key);
    const ref = obj?.spec?.credentialsRef as { secretName?: unknown } | undefined;
    if (obj && typeof ref?.secretName === 'string') {
      const name = `${obj.metadata.namespace ?? ''}/${ref.secretName}`;
      this.secretOfKey.set(key, name);
      let set = this.secretRefs.get(name);
      if (!set) this.secretRefs.set(name, (set = new Set()));
      set.add(key);
    } else this.secretOfKey.delete(key);
  }

  private secretChanged(obj: KubernetesObject): void {
    const ref = `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
    if (!this.secretRefs.get(ref)?.size) return;
    this.secretTouched.add(ref);
    this.schedule();
  }

  private schedule(): void {
    if (this.flushScheduled || !this.running) return;
    this.flushScheduled = true;
    // A list delivers every object at once: the organizations are worked out once, after the burst.
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.loaded) this.flush();
    });
  }

  /** Works out the desired state of every organization whose objects changed, and says which changed. */
  private flush(): void {
    const dirty = new Set(this.dirty);
    this.dirty.clear();
    const changed = new Set<string>();
    for (const org of dirty) if (this.recompute(org)) changed.add(org);
    for (const ref of this.secretTouched) {
      for (const key of this.secretRefs.get(ref) ?? []) {
        const org = this.orgOfKey.get(key);
        if (org) {
          changed.add(org); // the values may differ: reconcile, which compares them through the platform
          dirty.add(org);
        }
      }
    }
    this.secretTouched.clear();
    if (changed.size && this.onChange) this.onChange(changed);
    if (dirty.size) this.onGroups(dirty);
  }

  /** Recomputes one organization's objects, verdicts and desired state; true when what is to be done changed. */
  private recompute(org: string): boolean {
    const objects = [...(this.byOrg.get(org) ?? [])].map((k) => this.objects.get(k)!).filter(Boolean);
    if (!objects.length) this.byOrg.delete(org);
    const organizations = objects.filter((g) => g.kind === 'Organization');
    const live = objects.filter((g) => !isDeleting(g.obj));
    const liveOrganizations = live.filter((g) => g.kind === 'Organization');
    let verdicts: Map<ObjectKey, Verdict> = new Map();
    if (org === '') {
      // Objects naming no organization: the schema says why.
      verdicts = validateGroup(live).verdicts;
    } else if (liveOrganizations.length) {
      const v = validateGroup(live);
      verdicts = v.verdicts;
      if (verdicts.size === 0) {
        const desired = buildDesired(live, v.manifests);
        if (desired) {
          this.info.set(desired, {
            digest: desiredDigest(desired),
            generations: new Map(live.map((g) => [g.key, g.obj.metadata.generation ?? 0])),
            excluded: new Set(objects.filter((g) => g.kind !== 'Organization' && isDeleting(g.obj)).map((g) => g.key)),
          });
          this.orgs.set(org, desired);
        }
      }
      this.deleting.delete(org);
      this.deletingOrigin.delete(org);
    } else if (organizations.length) {
      // Being deleted: what it declared, from every object that still names it (deleted or not) and validates.
      const v = validateGroup(objects);
      verdicts = new Map([...v.verdicts].filter(([k]) => !isDeleting(this.objects.get(k)!.obj)));
      const valid = objects.filter((g) => !v.verdicts.has(g.key));
      const declared = (valid.some((g) => g.kind === 'Organization') ? buildDesired(valid, v.manifests) : undefined) ?? this.orgs.get(org);
      const held = organizations.some((g) => hasFinalizer(g.obj));
      this.deleting.set(org, declared ?? orphan(org));
      this.deletingOrigin.set(org, held ? 'finalizer' : 'vanished');
      this.orgs.delete(org);
    } else {
      verdicts = validateGroup(live).verdicts;
      const last = this.orgs.get(org);
      if (last) {
        // The Organization went without passing through the finalizer (removed by hand, or never held):
        // nothing is deleted on the platform for it.
        this.deleting.set(org, { ...last, deletionPolicy: 'Orphan' });
        this.deletingOrigin.set(org, 'vanished');
        this.orgs.delete(org);
      } else if (this.deletingOrigin.get(org) === 'finalizer') {
        this.deleting.delete(org);
        this.deletingOrigin.delete(org);
      }
    }
    const state: GroupState = {
      org,
      objects,
      verdicts,
      blocked: [...verdicts.keys()].some((k) => !isDeleting(this.objects.get(k)!.obj)),
      organization: liveOrganizations[0] ?? organizations[0],
    };
    if (objects.length) this.groups.set(org, state);
    else this.groups.delete(org);
    if (org === '') return false;
    const live_ = this.orgs.get(org);
    const gone = this.deleting.get(org);
    const digest = live_ ? `live:${this.info.get(live_)?.digest ?? desiredDigest(live_)}` : gone ? `deleting:${desiredDigest(gone)}` : '';
    const before = this.digests.get(org) ?? '';
    if (digest) this.digests.set(org, digest);
    else this.digests.delete(org);
    return digest !== before && digest !== '';
  }
}

/** An organization whose declaration cannot be read any more: left on the platform. */
function orphan(name: string): DesiredOrg {
  return { name, membersPolicy: 'additive', ignore: [], integrationsPolicy: 'additive', deletionPolicy: 'Orphan', members: new Map(), integrations: new Map() };
}

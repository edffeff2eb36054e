/**
 * OpenAPI v3 documents per group/version, shaped like the API server's: the paths with their operations
 * (x-kubernetes-action, x-kubernetes-group-version-kind, query parameters including fieldValidation, and the
 * patch content types) and component schemas. kubectl reads them to decide that the server validates fields
 * itself (so it sends `fieldValidation=Strict` and validates nothing on its own) and which patch type to use.
 */
import type { Schema } from './schema.js';
import type { Json, Obj } from './status.js';
import type { ResourceType } from './types.js';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

function ref(name: string): Obj {
  return { $ref: `#/components/schemas/${name}` };
}

function reverseGroup(group: string): string {
  return group.split('.').reverse().join('.');
}

/** The component name of a kind: `dev.orgctl.v1alpha1.Organization`, `io.k8s.api.core.v1.Secret`. */
export function schemaName(t: ResourceType): string {
  if (t.custom) return `${reverseGroup(t.group)}.${t.version}.${t.kind}`;
  if (t.group === 'apiextensions.k8s.io') return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${t.version}.${t.kind}`;
  const g = t.group ? t.group.replace(/\.k8s\.io$/, '').replace(/\./g, '') : 'core';
  return `io.k8s.api.${g}.${t.version}.${t.kind}`;
}

function param(name: string, description: string, type = 'string'): Obj {
  return { name, in: 'query', description, schema: { type, uniqueItems: true } };
}

const P = {
  dryRun: param('dryRun', 'When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed'),
  fieldManager: param('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  fieldValidation: param(
    'fieldValidation',
    'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict',
  ),
  force: param('force', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people.', 'boolean'),
  pretty: param('pretty', "If 'true', then the output is pretty printed."),
  watch: param('watch', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.', 'boolean'),
  resourceVersion: param('resourceVersion', 'resourceVersion sets a constraint on what resource versions a request may be served from.'),
  allowWatchBookmarks: param('allowWatchBookmarks', 'allowWatchBookmarks requests watch events with type "BOOKMARK".', 'boolean'),
  labelSelector: param('labelSelector', 'A selector to restrict the list of returned objects by their labels.'),
  fieldSelector: param('fieldSelector', 'A selector to restrict the list of returned objects by their fields.'),
  limit: param('limit', 'limit is a maximum number of responses to return for a list call.', 'integer'),
  continue: param('continue', 'The continue option should be set when retrieving more results from the server.'),
  timeoutSeconds: param('timeoutSeconds', 'Timeout for the list/watch call.', 'integer'),
  propagationPolicy: param('propagationPolicy', "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'."),
  gracePeriodSeconds: param('gracePeriodSeconds', 'The duration in seconds before the object should be deleted.', 'integer'),
};

const pathParam = (name: string, description: string): Obj => ({ name, in: 'path', description, required: true, schema: { type: 'string', uniqueItems: true } });

function json(schema: Obj): Obj {
  return { 'application/json': { schema }, 'application/yaml': { schema } };
}

/** The schema a kind publishes: its own, with metadata pointing at ObjectMeta and the GVK extension. */
function kindSchema(t: ResourceType): Obj {
  const s = JSON.parse(JSON.stringify(t.schema)) as Schema & Obj;
  const props = (s.properties ?? {}) as Record<string, Json>;
  props.apiVersion = {
    description:
      'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.',
    type: 'string',
  };
  props.kind = { description: 'Kind is a string value representing the REST resource this object represents.', type: 'string' };
  props.metadata = { allOf: [ref(`${META}.ObjectMeta`)], default: {}, description: "Standard object's metadata." };
  s.properties = props as Record<string, Schema>;
  (s as Obj)['x-kubernetes-group-version-kind'] = [{ group: t.group, kind: t.kind, version: t.version }];
  return s as Obj;
}

function listSchema(t: ResourceType): Obj {
  return {
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string' },
      items: { type: 'array', items: ref(schemaName(t)) },
      kind: { type: 'string' },
      metadata: { allOf: [ref(`${META}.ListMeta`)], default: {} },
    },
    'x-kubernetes-group-version-kind': [{ group: t.group, kind: t.listKind, version: t.version }],
  };
}

const META_SCHEMAS: Record<string, Obj> = {
  [`${META}.ObjectMeta`]: {
    type: 'object',
    properties: {
      annotations: { type: 'object', additionalProperties: { type: 'string', default: '' } },
      creationTimestamp: ref(`${META}.Time`),
      deletionGracePeriodSeconds: { type: 'integer', format: 'int64' },
      deletionTimestamp: ref(`${META}.Time`),
      finalizers: { type: 'array', items: { type: 'string', default: '' }, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
      generateName: { type: 'string' },
      generation: { type: 'integer', format: 'int64' },
      labels: { type: 'object', additionalProperties: { type: 'string', default: '' } },
      managedFields: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      name: { type: 'string' },
      namespace: { type: 'string' },
      ownerReferences: {
        type: 'array',
        items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        'x-kubernetes-list-map-keys': ['uid'],
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-patch-merge-key': 'uid',
        'x-kubernetes-patch-strategy': 'merge',
      },
      resourceVersion: { type: 'string' },
      selfLink: { type: 'string' },
      uid: { type: 'string' },
    },
  },
  [`${META}.ListMeta`]: {
    type: 'object',
    properties: { continue: { type: 'string' }, remainingItemCount: { type: 'integer', format: 'int64' }, resourceVersion: { type: 'string' }, selfLink: { type: 'string' } },
  },
  [`${META}.Time`]: { type: 'string', format: 'date-time' },
  [`${META}.Status`]: {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      code: { type: 'integer', format: 'int32' },
      details: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      kind: { type: 'string' },
      message: { type: 'string' },
      metadata: { allOf: [ref(`${META}.ListMeta`)], default: {} },
      reason: { type: 'string' },
      status: { type: 'string' },
    },
    'x-kubernetes-group-version-kind': [{ group: '', kind: 'Status', version: 'v1' }],
  },
  [`${META}.DeleteOptions`]: {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      dryRun: { type: 'array', items: { type: 'string', default: '' } },
      gracePeriodSeconds: { type: 'integer', format: 'int64' },
      kind: { type: 'string' },
      preconditions: { type: 'object', properties: { resourceVersion: { type: 'string' }, uid: { type: 'string' } } },
      propagationPolicy: { type: 'string' },
    },
  },
  [`${META}.Patch`]: { type: 'object', description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.' },
  [`${META}.WatchEvent`]: { type: 'object', required: ['type', 'object'], properties: { object: { type: 'object' }, type: { type: 'string', default: '' } } },
};

/** The OpenAPI v3 document of one group/version. */
export function openApiV3Document(group: string, version: string, types: ResourceType[]): Obj {
  const paths: Obj = {};
  const schemas: Obj = { ...META_SCHEMAS };
  const root = group ? `/apis/${group}/${version}` : `/api/${version}`;
  for (const t of types) {
    const name = schemaName(t);
    schemas[name] = kindSchema(t);
    schemas[`${name}List`] = listSchema(t);
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const tag = group ? `${group.split('.')[0]}_${version}` : `core_${version}`;
    const kindId = `${t.namespaced ? 'Namespaced' : ''}${t.kind}`;
    const op = (action: string, id: string, extra: Obj): Obj => ({
      tags: [tag],
      operationId: `${id}${group ? group.split('.')[0]!.replace(/^./, (c) => c.toUpperCase()) : 'Core'}${version.replace(/^./, (c) => c.toUpperCase())}${kindId}`,
      responses: { '200': { description: 'OK', content: json(ref(name)) }, '401': { description: 'Unauthorized' } },
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      ...extra,
    });
    const body = (schema: Obj): Obj => ({ content: { '*/*': { schema } }, required: true });
    const patchBody: Obj = { content: Object.fromEntries(t.patchTypes.filter((p) => p !== 'application/strategic-merge-patch+json').map((p) => [p, { schema: ref(`${META}.Patch`) }])), required: true };
    const nsParam = pathParam('namespace', 'object name and auth scope, such as for teams and projects');
    const nameParam = pathParam('name', `name of the ${t.kind}`);
    const collection = t.namespaced ? `${root}/namespaces/{namespace}/${t.plural}` : `${root}/${t.plural}`;
    const listOp = op('list', 'list', {
      parameters: [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.timeoutSeconds, P.watch],
      responses: { '200': { description: 'OK', content: json(ref(`${name}List`)) } },
    });
    paths[collection] = {
      parameters: [...(t.namespaced ? [nsParam] : []), P.pretty],
      get: listOp,
      post: op('post', 'create', { parameters: [P.dryRun, P.fieldManager, P.fieldValidation], requestBody: body(ref(name)) }),
      delete: op('deletecollection', 'deleteCollection', { parameters: [P.continue, P.dryRun, P.fieldSelector, P.gracePeriodSeconds, P.labelSelector, P.limit, P.propagationPolicy, P.resourceVersion, P.timeoutSeconds] }),
    };
    const item = {
      parameters: [nameParam, ...(t.namespaced ? [nsParam] : []), P.pretty],
      get: op('get', 'read', {}),
      put: op('put', 'replace', { parameters: [P.dryRun, P.fieldManager, P.fieldValidation], requestBody: body(ref(name)) }),
      patch: op('patch', 'patch', { parameters: [P.dryRun, P.fieldManager, P.fieldValidation, P.force], requestBody: patchBody }),
      delete: op('delete', 'delete', { parameters: [P.dryRun, P.gracePeriodSeconds, P.propagationPolicy], requestBody: body(ref(`${META}.DeleteOptions`)) }),
    };
    paths[`${collection}/{name}`] = item;
    for (const sub of t.subresources.filter((s) => s === 'status')) {
      paths[`${collection}/{name}/${sub}`] = {
        parameters: [nameParam, ...(t.namespaced ? [nsParam] : []), P.pretty],
        get: op('get', `read${sub === 'status' ? 'Status' : ''}`, {}),
        put: op('put', 'replaceStatus', { parameters: [P.dryRun, P.fieldManager, P.fieldValidation], requestBody: body(ref(name)) }),
        patch: op('patch', 'patchStatus', { parameters: [P.dryRun, P.fieldManager, P.fieldValidation, P.force], requestBody: patchBody }),
      };
    }
    if (t.namespaced) {
      paths[`${root}/${t.plural}`] = { parameters: [P.pretty], get: { ...listOp, operationId: `${String(listOp.operationId)}ForAllNamespaces` } };
    }
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0-orgctl-test' },
    paths,
    components: { schemas, securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } } },
  };
}


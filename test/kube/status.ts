/**
 * Errors of the kube-API test server, answered as `kind: Status` objects in exactly the shape the real API
 * server uses (k8s.io/apimachinery/pkg/api/errors), and field errors formatted like field.Error.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Obj = { [k: string]: Json };

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason: string; message: string; field?: string }[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Obj;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A failed request: thrown inside the server, answered with its Status. */
export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  status(): StatusBody {
    const s: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (!this.reason) delete s.reason;
    if (this.details) s.details = this.details;
    return s;
  }
}

/** A group and resource: `organizations.orgctl.dev`, or `secrets` for the core group. */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualified(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

function resourceDetails(gr: GroupResource, name: string): StatusDetails {
  const d: StatusDetails = { name };
  if (gr.group) d.group = gr.group;
  d.kind = gr.resource;
  return d;
}

export const errors = {
  notFound(gr: GroupResource, name: string): KubeError {
    return new KubeError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, resourceDetails(gr, name));
  },
  alreadyExists(gr: GroupResource, name: string): KubeError {
    return new KubeError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, resourceDetails(gr, name));
  },
  conflict(gr: GroupResource, name: string, why: string): KubeError {
    return new KubeError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, resourceDetails(gr, name));
  },
  /** The optimistic-concurrency failure, word for word. */
  modified(gr: GroupResource, name: string): KubeError {
    return errors.conflict(gr, name, 'the object has been modified; please apply your changes to the latest version and try again');
  },
  invalid(group: string, kind: string, name: string, errs: FieldError[]): KubeError {
    const qualifiedKind = group ? `${kind}.${group}` : kind;
    const agg = errs.length === 1 ? fieldErrorString(errs[0]!) : `[${errs.map(fieldErrorString).join(', ')}]`;
    const details: StatusDetails = { name };
    if (group) details.group = group;
    details.kind = kind;
    details.causes = errs.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field }));
    return new KubeError(422, 'Invalid', errs.length ? `${qualifiedKind} "${name}" is invalid: ${agg}` : `${qualifiedKind} "${name}" is invalid`, details);
  },
  badRequest(message: string): KubeError {
    return new KubeError(400, 'BadRequest', message);
  },
  forbidden(gr: GroupResource, name: string, why: string): KubeError {
    const what = name ? `${qualified(gr)} "${name}"` : qualified(gr);
    return new KubeError(403, 'Forbidden', `${what} is forbidden: ${why}`, resourceDetails(gr, name));
  },
  methodNotSupported(action: string, gr: GroupResource): KubeError {
    const details: StatusDetails = {};
    if (gr.group) details.group = gr.group;
    details.kind = gr.resource;
    return new KubeError(405, 'MethodNotAllowed', `${action} is not supported on resources of kind "${qualified(gr)}"`, details);
  },
  unsupportedMediaType(accepted: string[]): KubeError {
    return new KubeError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
  },
  notAcceptable(accepted: string[]): KubeError {
    return new KubeError(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`);
  },
  expired(message: string): KubeError {
    return new KubeError(410, 'Expired', message);
  },
  gone(message: string): KubeError {
    return new KubeError(410, 'Gone', message);
  },
  unauthorized(): KubeError {
    return new KubeError(401, 'Unauthorized', 'Unauthorized');
  },
  internal(message: string): KubeError {
    return new KubeError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ reason: '', message }] } as StatusDetails);
  },
  notFoundPath(): KubeError {
    return new KubeError(404, 'NotFound', 'the server could not find the requested resource', { causes: [{ reason: 'UnexpectedServerResponse', message: '404 page not found' }] });
  },
};

/** field.ErrorType, as it appears in a Status cause's `reason`. */
export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueNotSupported'
  | 'FieldValueInvalid'
  | 'FieldValueTypeInvalid'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueNotFound';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** The offending value, printed like field.Error does; `omit` for types that never print it. */
  value?: Json | typeof OMIT;
  /** The value as Go prints it, when that is not a JSON value (`0x0`). */
  raw?: string;
  detail?: string;
}

export const OMIT = Symbol('omit');

const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueRequired: 'Required value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueInvalid: 'Invalid value',
  FieldValueTypeInvalid: 'Invalid value',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueForbidden: 'Forbidden',
  FieldValueNotFound: 'Not found',
};

/** Go's %v / %q of a decoded JSON value, as field.Error prints it. */
export function goValue(v: Json | undefined): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** field.Error.ErrorBody(): `Invalid value: "x": detail`, `Required value`, ... */
export function errorBody(e: FieldError): string {
  let s = TYPE_TEXT[e.type];
  const silent = e.type === 'FieldValueRequired' || e.type === 'FieldValueForbidden' || e.type === 'FieldValueTooLong';
  if (!silent && e.raw !== undefined) s += `: ${e.raw}`;
  else if (!silent && e.value !== OMIT) s += `: ${typeof e.value === 'symbol' ? '' : goValue(e.value)}`;
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

export function fieldErrorString(e: FieldError): string {
  return `${e.field}: ${errorBody(e)}`;
}

export const field = {
  required: (f: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field: f, detail }),
  invalid: (f: string, value: Json, detail: string): FieldError => ({ type: 'FieldValueInvalid', field: f, value, detail }),
  typeInvalid: (f: string, value: Json, detail: string): FieldError => ({ type: 'FieldValueTypeInvalid', field: f, value, detail }),
  notSupported: (f: string, value: Json, supported: string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field: f,
    value,
    detail: supported.length ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` : '',
  }),
  tooLong: (f: string, max: number): FieldError => ({ type: 'FieldValueTooLong', field: f, detail: `may not be more than ${max} bytes` }),
  tooMany: (f: string, actual: number, max: number): FieldError => ({
    type: 'FieldValueTooMany',
    field: f,
    value: actual,
    detail: `must have at most ${max} items`,
  }),
  duplicate: (f: string, value: Json): FieldError => ({ type: 'FieldValueDuplicate', field: f, value }),
  forbidden: (f: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field: f, detail }),
};

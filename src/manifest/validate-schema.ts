import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { quote } from '../util/quote.js';
import { compiled } from './compiled-validators.js';
import { CRD_DIR, crdDigest, kindDefinitions, type KindDefinition } from './crds.js';
import { emailProblem } from '../model/email.js';
import { formatPath, pointerToPath } from './path.js';
import { manifestSchema } from './schema.js';
import { AJV_OPTIONS, SCHEMA_FORMATS } from './schema-options.js';
import { closest } from './suggest.js';

/** A schema violation, not yet placed in the source. */
export interface SchemaProblem {
  path: (string | number)[];
  /** 'key' when the problem is the field itself (unknown field), 'value' otherwise. */
  at: 'key' | 'value';
  message: string;
}

/** Paths under which values may be secret: never echo what is found there. */
function isSensitive(path: (string | number)[]): boolean {
  return path.includes('credentialsRef') || path.includes('options');
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `a ${typeof v}`;
}

function expectedType(t: unknown): string {
  const names: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    string: 'a string',
    integer: 'an integer',
    number: 'a number',
    boolean: 'true or false',
    null: 'null',
  };
  const list = Array.isArray(t) ? t : [t];
  return list.map((x) => names[String(x)] ?? String(x)).join(' or ');
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
  let node = root;
  for (const p of path) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[p] : undefined;
  return node;
}

/** Where a validator's functions came from: compiled by the build (ajv standalone) or here, from crds/. */
export type ValidatorOrigin = 'build' | 'runtime';

/** Validates objects of each kind against its CRD's schema and reports violations in terms a manifest author understands. */
export class SchemaValidator {
  private constructor(
    readonly definitions: KindDefinition[],
    private readonly validators: Map<string, ValidateFunction>,
    private readonly schemas: Map<string, Record<string, unknown>>,
    readonly origin: ValidatorOrigin,
  ) {}

  /** Compiles each kind's schema (ajv, loaded only for this: about 150 ms a run that the build saves). */
  static compile(defs: KindDefinition[]): SchemaValidator {
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    const ajv = new Ajv(AJV_OPTIONS);
    for (const [name, format] of Object.entries(SCHEMA_FORMATS)) ajv.addFormat(name, format as never);
    const validators = new Map<string, ValidateFunction>();
    const schemas = new Map<string, Record<string, unknown>>();
    for (const d of defs) {
      const schema = manifestSchema(d);
      schemas.set(d.kind, schema);
      validators.set(d.kind, ajv.compile(schema));
    }
    return new SchemaValidator(defs, validators, schemas, 'runtime');
  }

  /**
   * The validators of the CRDs in `dir` (the package's crds/): those the build compiled, while crds/ is what
   * they were compiled from; else compiled now. crds/ stays the one source of truth.
   */
  static forCrds(dir: string = CRD_DIR): SchemaValidator {
    if (compiled && dir === CRD_DIR && compiled.crdDigest === crdDigest(dir)) {
      return new SchemaValidator(
        compiled.definitions,
        new Map(Object.entries(compiled.validators) as [string, ValidateFunction][]),
        new Map(Object.entries(compiled.schemas)),
        'build',
      );
    }
    return SchemaValidator.compile(kindDefinitions(dir));
  }

  /** Validates (and fills CRD defaults into) one object of a known kind. */
  validate(kind: string, object: unknown): SchemaProblem[] {
    const fn = this.validators.get(kind);
    if (!fn) throw new Error(`no schema for kind ${kind}`);
    if (fn(object)) return [];
    return this.describe(kind, object, fn.errors ?? []);
  }

  private schemaAt(kind: string, path: (string | number)[]): Record<string, unknown> | undefined {
    let node: Record<string, unknown> | undefined = this.schemas.get(kind);
    for (const p of path) {
      if (!node) return undefined;
      if (typeof p === 'number') node = node.items as Record<string, unknown> | undefined;
      else {
        const props = node.properties as Record<string, Record<string, unknown>> | undefined;
        node = props?.[p] ?? (typeof node.additionalProperties === 'object' ? (node.additionalProperties as Record<string, unknown>) : undefined);
      }
    }
    return node;
  }

  private describe(kind: string, object: unknown, errors: ErrorObject[]): SchemaProblem[] {
    const out: SchemaProblem[] = [];
    // A value of the wrong type also fails its enum, format, ...: say only that the type is wrong.
    const wrongType = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
    const seen = new Set<string>();
    for (const e of errors) {
      if (e.keyword !== 'type' && wrongType.has(e.instancePath)) continue;
      const path = pointerToPath(e.instancePath, object);
      const value = valueAt(object, path);
      const problem = this.explain(kind, e, path, value);
      if (!problem) continue;
      const key = `${problem.at}|${formatPath(problem.path)}|${problem.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(problem);
    }
    return out;
  }

  private explain(kind: string, e: ErrorObject, path: (string | number)[], value: unknown): SchemaProblem | undefined {
    const p = e.params as Record<string, unknown>;
    const sensitive = isSensitive(path);
    switch (e.keyword) {
      case 'required':
        return { path: [...path, String(p.missingProperty)], at: 'value', message: 'required field is missing' };
      case 'additionalProperties': {
        const field = String(p.additionalProperty);
        const allowed = Object.keys((this.schemaAt(kind, path)?.properties as object | undefined) ?? {});
        const guess = closest(field, allowed);
        const hint = guess ? `did you mean "${guess}"?` : allowed.length ? `allowed fields: ${allowed.join(', ')}` : 'no fields are allowed here';
        return { path: [...path, field], at: 'key', message: `unknown field ${quote(field)}; ${hint}` };
      }
      case 'type':
        return { path, at: 'value', message: `must be ${expectedType(p.type)}, not ${describeType(value)}` };
      case 'enum': {
        const allowed = (p.allowedValues as unknown[]).map((v) => JSON.stringify(v));
        const guess = typeof value === 'string' ? closest(value, (p.allowedValues as unknown[]).map(String)) : undefined;
        const shown = sensitive ? 'value' : `value ${quote(value)}`;
        return {
          path,
          at: 'value',
          message: `unsupported ${shown}; supported values: ${allowed.join(', ')}${guess ? `; did you mean "${guess}"?` : ''}`,
        };
      }
      case 'const':
        return { path, at: 'value', message: `must be ${JSON.stringify(p.allowedValue)}` };
      case 'format':
        if (p.format === 'email' && typeof value === 'string') {
          return { path, at: 'value', message: `invalid email address ${quote(value)}: ${emailProblem(value)}` };
        }
        return { path, at: 'value', message: `must be a valid ${String(p.format)}` };
      case 'pattern': {
        const last = path[path.length - 1];
        if (path.includes('env')) {
          return {
            path,
            at: 'value',
            message: 'must be the name of an environment variable (letters, digits and "_", not starting with a digit); write the variable\'s name, never its value',
          };
        }
        if (last === 'name' && path[0] === 'metadata') {
          return {
            path,
            at: 'value',
            message: `invalid name ${quote(value)}: use lower-case letters, digits, "-" and ".", starting and ending with a letter or digit`,
          };
        }
        return { path, at: 'value', message: `${sensitive ? 'value' : quote(value)} does not match ${String(p.pattern)}` };
      }
      case 'minLength':
        return { path, at: 'value', message: p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters long` };
      case 'maxLength':
        return { path, at: 'value', message: `must be at most ${String(p.limit)} characters long (it has ${String((value as string).length)})` };
      case 'minItems':
        return { path, at: 'value', message: `must have at least ${String(p.limit)} item(s)` };
      case 'maxItems':
        return { path, at: 'value', message: `must have at most ${String(p.limit)} items` };
      case 'minProperties':
        return { path, at: 'value', message: `must have at least ${String(p.limit)} entr${p.limit === 1 ? 'y' : 'ies'}` };
      case 'minimum':
      case 'maximum':
        return { path, at: 'value', message: `must be ${e.keyword === 'minimum' ? '>=' : '<='} ${String(p.limit)}` };
      default:
        return { path, at: 'value', message: e.message ?? `fails ${e.keyword}` };
    }
  }
}

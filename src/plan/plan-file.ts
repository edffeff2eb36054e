import { createRequire } from 'node:module';
import type { Ajv, ErrorObject } from 'ajv';
import { closest } from '../manifest/suggest.js';
import { ACTIONS, summarize, type Plan } from '../model/plan.js';
import { PLAN_SCHEMA } from '../model/plan-schema.js';

/** A saved plan that is not a valid plan: every problem, each naming the change (index and id) and the field. */
export class InvalidPlanError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file} is not a valid orgctl plan (${problems.length} problem${problems.length === 1 ? '' : 's'}); nothing was applied:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

let validate: ReturnType<Ajv['compile']> | undefined;

/** `/changes/3/after/role` -> `change 3 (invite:acme:x@y.example): after.role`. */
function place(path: string, doc: unknown): string {
  const parts = path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (parts[0] === 'changes' && parts.length >= 2) {
    const index = Number(parts[1]);
    const id = (doc as { changes?: { id?: unknown }[] }).changes?.[index]?.id;
    const field = parts.slice(2).join('.');
    return `change ${index}${typeof id === 'string' ? ` (${id})` : ''}${field ? `: ${field}` : ''}`;
  }
  return parts.join('.') || '(the document)';
}

function describe(e: ErrorObject, doc: unknown): string | undefined {
  // `if` only says which action's shape applies; the failure under `then` says what is wrong.
  if (e.keyword === 'if') return undefined;
  const at = place(e.instancePath, doc);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${place(`${e.instancePath}/${String(p.missingProperty)}`, doc)}: required`;
    case 'additionalProperties':
      return `${at}: unknown field "${String(p.additionalProperty)}"`;
    case 'enum':
      if (e.instancePath.endsWith('/action')) {
        const value = String(e.data);
        const guess = closest(value, [...ACTIONS]);
        return `${at}: unknown action "${value}"; known actions: ${ACTIONS.join(', ')}${guess ? `; did you mean "${guess}"?` : ''}`;
      }
      return `${at}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, not ${JSON.stringify(e.data)}`;
    case 'const':
      return `${at}: must be ${JSON.stringify(p.allowedValue)}, not ${JSON.stringify(e.data)}`;
    case 'type':
      return `${at}: must be ${String(p.type)}, not ${e.data === null ? 'null' : Array.isArray(e.data) ? 'an array' : typeof e.data}`;
    default:
      return `${at}: ${e.message ?? 'is not valid'}`;
  }
}

/**
 * Reads a saved plan as strictly as a fresh one is made: the plan format's schema (format version, known
 * actions, each action's `before`/`after` shape), then what a schema cannot say (ids that match their change,
 * no change twice, an observed state for every organization changed, a summary that agrees with the changes).
 */
export function parseSavedPlan(text: string, file: string): Plan {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InvalidPlanError(file, [`not valid JSON: ${(err as Error).message}`]);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || (doc as { formatVersion?: unknown }).formatVersion !== 1) {
    const version = (doc as { formatVersion?: unknown } | null)?.formatVersion;
    throw new InvalidPlanError(file, [version === undefined ? 'not an orgctl plan (no formatVersion)' : `formatVersion ${JSON.stringify(version)} is not supported (this orgctl reads format version 1)`]);
  }
  validate ??= new (createRequire(import.meta.url)('ajv') as typeof import('ajv')).Ajv({ allErrors: true, strict: false, verbose: true }).compile(PLAN_SCHEMA);
  const problems: string[] = [];
  if (!validate(doc)) {
    const seen = new Set<string>();
    for (const e of validate.errors ?? []) {
      const message = describe(e, doc);
      if (message && !seen.has(message)) {
        seen.add(message);
        problems.push(message);
      }
    }
  }
  if (problems.length) throw new InvalidPlanError(file, problems);
  const plan = doc as Plan;
  const ids = new Map<string, number>();
  plan.changes.forEach((c, i) => {
    const expected = `${c.action}:${c.organization}:${c.target}`;
    if (c.id !== expected) problems.push(`change ${i} (${c.id}): id does not match its change (expected "${expected}")`);
    const first = ids.get(c.id);
    if (first !== undefined) problems.push(`change ${i} (${c.id}): the same change as change ${first}`);
    else ids.set(c.id, i);
    if (!(c.organization in plan.observed)) problems.push(`change ${i} (${c.id}): organization "${c.organization}" is not in observed, so the plan could not be checked for staleness`);
  });
  const counted = summarize(plan.changes);
  const keys = new Set([...Object.keys(counted), ...Object.keys(plan.summary)]);
  for (const k of keys) {
    if ((plan.summary[k] ?? 0) !== (counted[k] ?? 0)) problems.push(`summary.${k}: says ${plan.summary[k] ?? 0}, the changes hold ${counted[k] ?? 0}`);
  }
  if (problems.length) throw new InvalidPlanError(file, problems);
  return plan;
}

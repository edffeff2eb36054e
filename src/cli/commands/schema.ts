import { join } from 'node:path';
import { PLAN_SCHEMA } from '../../model/plan-schema.js';
import { kindDefinitions, type KindDefinition } from '../../manifest/crds.js';
import { combinedEditorSchema, editorSchema } from '../../manifest/schema.js';
import { closest } from '../../manifest/suggest.js';
import { makeUserDir, writeUserFile } from '../files.js';
import { ExitCode, UserError, type Io } from '../io.js';

function findKind(defs: KindDefinition[], name: string): KindDefinition {
  const lower = name.toLowerCase();
  const def = defs.find(
    (d) => d.kind.toLowerCase() === lower || d.plural === lower || d.shortNames.includes(lower) || `${d.plural}.${d.group}` === lower,
  );
  if (!def) {
    const names = defs.map((d) => d.kind);
    const guess = closest(name, names);
    throw new UserError(`unknown kind "${name}"; supported: ${names.join(', ')}, plan (the saved plan format)${guess ? `; did you mean "${guess}"?` : ''}`, ExitCode.usage);
  }
  return def;
}

/**
 * `orgctl schema [KIND|plan] [--out DIR]`: JSON Schemas for editors, generated from the CRDs. Without a kind,
 * one schema that covers every kind (chosen by `kind:`); `plan`: the saved plan format; with --out, one file
 * per kind, `plan.json` and `orgctl.json`.
 */
export function runSchema(kind: string | undefined, opts: { out?: string }, io: Io): number {
  const defs = kindDefinitions();
  const plan = kind?.toLowerCase() === 'plan';
  if (opts.out) {
    makeUserDir(io, opts.out, 'schemas');
    const written: string[] = [];
    const write = (file: string, schema: unknown) => {
      writeUserFile(io, join(opts.out!, file), `${JSON.stringify(schema, null, 2)}\n`, 'a schema');
      written.push(join(opts.out!, file));
    };
    if (!plan) for (const d of kind ? [findKind(defs, kind)] : defs) write(`${d.kind.toLowerCase()}.json`, editorSchema(d));
    if (!kind) write('orgctl.json', combinedEditorSchema(defs));
    if (plan || !kind) write('plan.json', PLAN_SCHEMA);
    io.stdout(`${written.map((w) => `wrote ${w}`).join('\n')}\n`);
    return ExitCode.ok;
  }
  const schema = plan ? PLAN_SCHEMA : kind ? editorSchema(findKind(defs, kind)) : combinedEditorSchema(defs);
  io.stdout(`${JSON.stringify(schema, null, 2)}\n`);
  return ExitCode.ok;
}

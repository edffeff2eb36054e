import type { KindDefinition } from './crds.js';

/** The CRD validators as `npm run build` compiles them (ajv standalone), with what they were compiled from. */
export interface CompiledValidators {
  /** crdDigest() of the crds/ they were compiled from: used only while it is still that. */
  crdDigest: string;
  definitions: KindDefinition[];
  /** Each kind's complete JSON Schema (manifestSchema), to explain violations. */
  schemas: Record<string, Record<string, unknown>>;
  /** Each kind's validator: an ajv ValidateFunction. */
  validators: Record<string, ((data: unknown) => boolean) & { errors?: unknown[] | null }>;
}

/**
 * None, in the sources. `npm run build` (and `prepare`) replaces this module in dist/ with one generated from
 * crds/ by scripts/build-validators.mjs, so the CLI does not compile the schemas on every run; run from the
 * sources (tests), or with crds/ changed since the build, SchemaValidator compiles them itself.
 */
export const compiled: CompiledValidators | undefined = undefined;

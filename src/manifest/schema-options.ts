import { emailProblem } from '../model/email.js';

/**
 * How the CRD schemas are compiled, the same whether at build time (scripts/build-validators.mjs, ajv
 * standalone) or at run time (SchemaValidator, when the build's validators are missing or stale).
 */
export const AJV_OPTIONS = { allErrors: true, strict: true, useDefaults: true, allowUnionTypes: true } as const;

/** The formats the CRDs use. The generated validators import this very object, so both ways check alike. */
export const SCHEMA_FORMATS = {
  email: (s: string) => emailProblem(s) === undefined,
  int64: { type: 'number' as const, validate: (n: number) => Number.isSafeInteger(n) },
  'date-time': (s: string) => !Number.isNaN(Date.parse(s)),
};

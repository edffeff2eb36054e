import { ACTIONS } from './plan.js';
import { ROLES } from './roles.js';

/**
 * The JSON Schema of a saved plan (`orgctl plan --out`, format version 1), published by `orgctl schema plan`
 * so tools that read plans can check them, and used by `orgctl apply PLAN.json` before anything is written.
 * It mirrors the `Change` union in plan.ts: one shape of `before` and `after` per action.
 */

type JsonSchema = Record<string, unknown>;

const str = { type: 'string' };
const nonEmpty = { type: 'string', minLength: 1 };
const role = { enum: [...ROLES] };
const plan = { enum: ['freemium', 'premium'] };
const podType = { enum: ['small', 'medium', 'high'] };
const object = (properties: Record<string, unknown>, required: string[] = []): JsonSchema => ({ type: 'object', additionalProperties: false, required, properties });
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };

const profile = { firstName: str, lastName: str, description: str };
const inviteSpec = object(
  { role, ...profile, projects: { type: 'array', items: object({ project: nonEmpty, role: { enum: ['manager', 'annotator', 'reviewer'] } }, ['project', 'role']) } },
  ['role'],
);
const integrationSpec = object(
  {
    type: nonEmpty,
    options: { type: 'object' },
    credentials: str,
    credentialsRef: object({ secretName: str, keys: stringMap, env: stringMap, file: str, baseDir: str, namespace: str }),
  },
  ['type', 'options'],
);
const integrationBefore = object({ type: nonEmpty, options: { type: 'object' } }, ['type', 'options']);

/** `before` and `after` of each action. */
const SHAPES: Record<(typeof ACTIONS)[number], [unknown, unknown]> = {
  'create-organization': [{ type: 'null' }, object({ displayName: str, plan, creator: str }, ['displayName', 'plan'])],
  rename: [object({ displayName: str }, ['displayName']), object({ displayName: str }, ['displayName'])],
  'update-plan': [object({ plan }, ['plan']), object({ plan }, ['plan'])],
  'cache-apply': [{ oneOf: [{ type: 'null' }, object({ podType: { oneOf: [podType, { type: 'null' }] } }, ['podType'])] }, object({ podType }, ['podType'])],
  'cache-destroy': [object({ podType: { oneOf: [podType, { type: 'null' }] } }, ['podType']), { type: 'null' }],
  'create-integration': [{ type: 'null' }, integrationSpec],
  'update-integration': [integrationBefore, integrationSpec],
  'delete-integration': [integrationBefore, { type: 'null' }],
  invite: [{ type: 'null' }, inviteSpec],
  'resend-invite': [object({ role, status: { const: 'expired' } }, ['role', 'status']), inviteSpec],
  reinvite: [object({ role, status: { const: 'pending' } }, ['role', 'status']), inviteSpec],
  'update-role': [object({ role }, ['role']), object({ role }, ['role'])],
  'update-profile': [{ oneOf: [{ type: 'null' }, object(profile)] }, { ...object(profile), minProperties: 1 }],
  'remove-member': [object({ role }, ['role']), { type: 'null' }],
  'cancel-invite': [object({ role, status: { enum: ['pending', 'expired'] } }, ['role', 'status']), { type: 'null' }],
};

const changeBase = { id: nonEmpty, organization: nonEmpty, target: nonEmpty, reason: str };

export const PLAN_SCHEMA: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://orgctl.dev/schemas/plan-v1.json',
  title: 'orgctl plan, format version 1',
  type: 'object',
  additionalProperties: false,
  required: ['formatVersion', 'platform', 'observed', 'changes', 'summary'],
  properties: {
    formatVersion: { const: 1 },
    platform: nonEmpty,
    observed: {
      type: 'object',
      description: "each organization's state version (integer), or a digest of its state (sha256:...), or null when it did not exist",
      additionalProperties: { oneOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' }, { type: 'null' }] },
    },
    guards: object(
      {
        maxRemovals: { oneOf: [object({ percent: { type: 'number', minimum: 0, maximum: 100 } }, ['percent']), object({ count: { type: 'integer', minimum: 0 } }, ['count'])] },
        allowOwnerChanges: { type: 'boolean' },
      },
      ['maxRemovals', 'allowOwnerChanges'],
    ),
    changes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'action', 'organization', 'target', 'before', 'after', 'reason'],
        properties: { action: { enum: [...ACTIONS] } },
        allOf: ACTIONS.map((action) => ({
          if: { properties: { action: { const: action } }, required: ['action'] },
          then: { additionalProperties: false, properties: { ...changeBase, action: { const: action }, before: SHAPES[action][0], after: SHAPES[action][1] } },
        })),
      },
    },
    summary: {
      type: 'object',
      required: ['total'],
      properties: { total: { type: 'integer', minimum: 0 } },
      additionalProperties: { type: 'integer', minimum: 0 },
    },
  },
};

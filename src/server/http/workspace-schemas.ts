/** JSON Schemas of the workspace routes' bodies and queries (projects, groups, overview). Every object is closed. */
import { emailSchema, MAX_BATCH } from './schemas.js';

/** 1..200 characters, no leading or trailing whitespace. */
const name = { type: 'string', minLength: 1, maxLength: 200, pattern: '^\\S(.*\\S)?$' };
const orgName = { type: 'string', minLength: 1, maxLength: 63 };
const description = { type: 'string', maxLength: 1000 };
const completion = { type: 'number', minimum: 0, maximum: 100 };
const projectRole = { type: 'string', enum: ['manager', 'annotator', 'reviewer'] };

export const projectCreateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name, organization: orgName },
};

export const payingOrganizationBody = {
  type: 'object',
  additionalProperties: false,
  required: ['organization'],
  properties: { organization: orgName },
};

export const projectMemberBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'role'],
  properties: { email: emailSchema, role: projectRole },
};

export const datasetCreateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name },
};

export const taskCreateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name, datasetId: { type: 'integer', minimum: 1 }, completion, assignee: emailSchema },
};

export const taskUpdateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['completion'],
  properties: { completion },
};

export const groupCreateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name, description },
};

export const groupUpdateBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { name, description },
};

export const groupMembersBody = {
  type: 'object',
  additionalProperties: false,
  required: ['emails'],
  properties: { emails: { type: 'array', maxItems: MAX_BATCH, items: emailSchema } },
};

export const overviewUsersQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { format: { type: 'string', enum: ['json', 'csv'] } },
};

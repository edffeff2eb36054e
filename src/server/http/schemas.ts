/** JSON Schemas of request bodies and queries. Every object is closed: unknown fields are a 400. */

const str = (max = 200) => ({ type: 'string', maxLength: max });
export const roleSchema = { type: 'string', enum: ['owner', 'admin', 'member', 'worker'] };
// Surrounding spaces are allowed: the platform trims and lower-cases addresses itself.
export const emailSchema = { type: 'string', minLength: 3, maxLength: 320, pattern: '^\\s*[^@\\s]+@[^@\\s]+\\.[^@\\s]+\\s*$' };
const projectRole = { type: 'string', enum: ['manager', 'annotator', 'reviewer'] };
export const MAX_BATCH = 1000;

export const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    cursor: str(2000),
    limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
  },
};

const profile = { firstName: str(100), lastName: str(100), description: str(1000) };
const projects = {
  type: 'array',
  maxItems: 100,
  items: { type: 'object', additionalProperties: false, required: ['project', 'role'], properties: { project: str(200), role: projectRole } },
};

export const inviteBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'role'],
  properties: { email: emailSchema, role: roleSchema, ...profile, projects, expiresInDays: { type: 'integer', minimum: 1, maximum: 365 } },
};

const inviteItem = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'role'],
  properties: { email: emailSchema, role: roleSchema, ...profile, projects },
};

export const inviteBatchBody = {
  type: 'object',
  additionalProperties: false,
  required: ['invites'],
  properties: { invites: { type: 'array', items: inviteItem }, expiresInDays: { type: 'integer', minimum: 1, maximum: 365 } },
};

const resendItem = {
  type: 'object',
  additionalProperties: false,
  required: ['email'],
  properties: { email: emailSchema, role: roleSchema, ...profile, projects },
};
export const resendBody = {
  type: 'object',
  additionalProperties: false,
  properties: { role: roleSchema, ...profile, projects, expiresInDays: { type: 'integer', minimum: 1, maximum: 365 } },
};
export const resendBatchBody = {
  type: 'object',
  additionalProperties: false,
  required: ['invites'],
  properties: { invites: { type: 'array', items: resendItem }, expiresInDays: { type: 'integer', minimum: 1, maximum: 365 } },
};

export const emailsBody = {
  type: 'object',
  additionalProperties: false,
  required: ['emails'],
  properties: { emails: { type: 'array', items: emailSchema } },
};

export const memberUpdateBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { role: roleSchema, ...profile },
};
export const memberBatchBody = {
  type: 'object',
  additionalProperties: false,
  required: ['members'],
  properties: {
    members: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['email'], properties: { email: emailSchema, role: roleSchema, ...profile } },
    },
  },
};

export const orgCreateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: str(63),
    displayName: { type: 'string', minLength: 1, maxLength: 200 },
    plan: { type: 'string', enum: ['freemium', 'premium'] },
    creator: emailSchema,
  },
};
export const orgUpdateBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    displayName: { type: 'string', minLength: 1, maxLength: 200 },
    plan: { type: 'string', enum: ['freemium', 'premium'] },
    cache: {
      type: 'object',
      additionalProperties: false,
      required: ['enabled'],
      properties: { enabled: { type: 'boolean' }, podType: { type: 'string', enum: ['small', 'medium', 'high'] } },
    },
  },
};

const options = { type: 'object', maxProperties: 50, additionalProperties: { anyOf: [str(2000), { type: 'array', maxItems: 50, items: str(2000) }, { type: 'boolean' }] } };
const credentials = { type: 'object', maxProperties: 50, additionalProperties: { type: 'string', maxLength: 65536 } };
export const integrationCreateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    type: { type: 'string', enum: ['s3', 'gcs', 'azureblob', 'minio', 'key_value', 'aws-sts', 'aws-cross', 'gcp-cross', 'private-registry'] },
    options,
    credentials,
  },
};
export const verifyCredentialsBody = {
  type: 'object',
  additionalProperties: false,
  required: ['credentials'],
  properties: { credentials },
};
export const integrationUpdateBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { options, credentials },
};

/** The caller's own settings: the active organization, and their profile (theirs alone to change). */
export const meUpdateBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { activeOrganization: str(63), ...profile },
};

export const acceptBody = {
  type: 'object',
  additionalProperties: false,
  required: ['token'],
  properties: { token: str(200) },
};

/** `?fields=`: which item fields a list page holds (see fieldsOpt). */
export const fieldsQuery = { type: 'string', minLength: 1, maxLength: 500 };

/**
 * Response schema of a list page: items of these properties, the cursor of the next page and the state version.
 * fast-json-stringify serialises 1000 items far faster than JSON.stringify.
 */
function pageResponse(itemProperties: Record<string, unknown>) {
  return {
    type: 'object',
    properties: {
      items: { type: 'array', items: { type: 'object', properties: itemProperties } },
      nextCursor: { type: ['string', 'null'] },
      stateVersion: { type: 'integer' },
    },
  };
}

/** An invite list page (fields absent from `?fields=` are left out). */
export const invitePageResponse = pageResponse({
  id: { type: 'integer' },
  email: { type: 'string' },
  role: { type: 'string' },
  status: { type: 'string' },
  firstName: { type: 'string' },
  lastName: { type: 'string' },
  description: { type: 'string' },
  projects: { type: 'array', items: { type: 'object', properties: { project: { type: 'string' }, role: { type: 'string' } } } },
  expiresAt: { type: 'string' },
  sendCount: { type: 'integer' },
  createdAt: { type: 'string' },
  lastSentAt: { type: 'string' },
  createdBy: { type: 'string' },
});

/** A member list page (fields absent from `?fields=` are left out). */
export const memberPageResponse = pageResponse({
  email: { type: 'string' },
  role: { type: 'string' },
  firstName: { type: 'string' },
  lastName: { type: 'string' },
  description: { type: 'string' },
  creator: { type: 'boolean' },
  joinedAt: { type: 'string' },
  lastConnectionAt: { type: ['string', 'null'] },
});

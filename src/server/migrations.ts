/**
 * The platform's schema, as an append-only list of migrations: entry N brings a database from
 * `PRAGMA user_version = N` to N+1. Never edit a migration that has shipped; add one.
 */
export const MIGRATIONS: readonly string[] = [
  /* 1: the organization model */ `
  CREATE TABLE users (
    id                 INTEGER PRIMARY KEY,
    email              TEXT NOT NULL UNIQUE,            -- normalised: trimmed, lower case
    first_name         TEXT NOT NULL DEFAULT '',
    last_name          TEXT NOT NULL DEFAULT '',
    description        TEXT NOT NULL DEFAULT '',
    superuser          INTEGER NOT NULL DEFAULT 0,      -- platform operator (Dataloop's "superuser")
    active_org_id      INTEGER,
    created_at         INTEGER NOT NULL,
    last_connection_at INTEGER
  );

  CREATE TABLE orgs (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    plan           TEXT NOT NULL CHECK (plan IN ('freemium', 'premium')),
    creator_id     INTEGER NOT NULL REFERENCES users(id),
    cache_state    TEXT NOT NULL DEFAULT 'none' CHECK (cache_state IN ('none', 'pending', 'destroyed')),
    cache_pod_type TEXT CHECK (cache_pod_type IN ('small', 'medium', 'high')),
    cache_ready_at INTEGER,                             -- a pending cache is ready from this time on
    version        INTEGER NOT NULL DEFAULT 1,          -- bumped by every change inside the organization
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
  );

  CREATE TABLE memberships (
    org_id    INTEGER NOT NULL REFERENCES orgs(id),
    email     TEXT NOT NULL,                            -- copied from users: keyset pagination by email
    user_id   INTEGER NOT NULL REFERENCES users(id),
    role      TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'worker')),
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, email)
  ) WITHOUT ROWID;
  CREATE INDEX memberships_by_user ON memberships(user_id);

  CREATE TABLE invites (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    email        TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'worker')),
    first_name   TEXT NOT NULL DEFAULT '',
    last_name    TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    projects     TEXT NOT NULL DEFAULT '[]',            -- JSON [{projectId, role}] added on acceptance
    status       TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'cancelled')), -- expired: derived
    token_hash   TEXT NOT NULL UNIQUE,
    expires_at   INTEGER NOT NULL,
    send_count   INTEGER NOT NULL DEFAULT 1,
    created_by   INTEGER NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    last_sent_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX invites_one_open ON invites(org_id, email) WHERE status = 'pending';
  CREATE INDEX invites_by_org ON invites(org_id, status, email);

  -- The platform's outgoing mail (invites), readable by superusers: the demo's and tests' mailbox.
  CREATE TABLE outbox (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    to_email  TEXT NOT NULL,
    org_id    INTEGER NOT NULL REFERENCES orgs(id),
    invite_id INTEGER NOT NULL REFERENCES invites(id),
    token     TEXT NOT NULL
  );
  CREATE INDEX outbox_by_email ON outbox(to_email, id);

  CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,                  -- sha256 of the bearer token; the token is never stored
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
  );

  CREATE TABLE integrations (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    options     TEXT NOT NULL DEFAULT '{}',
    credentials BLOB,                                   -- AES-256-GCM; never returned
    fingerprint TEXT,                                   -- lets clients tell whether credentials changed
    created_by  INTEGER NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (org_id, name)
  );

  CREATE TABLE groups (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (org_id, name)
  );
  CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (group_id, user_id)
  ) WITHOUT ROWID;

  CREATE TABLE projects (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES orgs(id),
    name          TEXT NOT NULL,
    paying_org_id INTEGER NOT NULL REFERENCES orgs(id),
    created_by    INTEGER NOT NULL REFERENCES users(id),
    created_at    INTEGER NOT NULL,
    UNIQUE (org_id, name)
  );
  CREATE TABLE project_members (
    project_id INTEGER NOT NULL REFERENCES projects(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    role       TEXT NOT NULL CHECK (role IN ('manager', 'annotator', 'reviewer')),
    PRIMARY KEY (project_id, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX project_members_by_user ON project_members(user_id);
  CREATE TABLE datasets (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, name)
  );
  CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    dataset_id  INTEGER REFERENCES datasets(id),
    name        TEXT NOT NULL,
    completion  REAL NOT NULL DEFAULT 0 CHECK (completion >= 0 AND completion <= 100),
    assignee_id INTEGER REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  CREATE INDEX tasks_by_project ON tasks(project_id);

  CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    org_id  INTEGER REFERENCES orgs(id),
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,                              -- email of who did it
    action  TEXT NOT NULL,                              -- e.g. member.invite, member.role, integration.update
    target  TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{}'                  -- JSON; never holds secret values
  );
  CREATE INDEX audit_by_org ON audit(org_id, id);
  `,
  /* 2: idempotent writes */ `
  -- A write sent with an Idempotency-Key is recorded with its answer; the same key again (a client's retry)
  -- gets that answer back instead of the write being done twice. Keys are per user.
  CREATE TABLE idempotency (
    user_id      INTEGER NOT NULL REFERENCES users(id),
    key          TEXT NOT NULL,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
  );
  CREATE INDEX idempotency_by_age ON idempotency(created_at);
  `,
  /* 3: apply leases */ `
  -- One apply at a time per organization: a lease names its holder and runs out unless renewed, so a lock
  -- left by a killed process frees itself. Keyed by name: an organization can be locked before it exists.
  CREATE TABLE leases (
    org         TEXT PRIMARY KEY,
    id          TEXT NOT NULL,                        -- chosen by the holder; needed to renew or release
    holder      TEXT NOT NULL,                        -- who, for the error another apply gets
    user_id     INTEGER NOT NULL REFERENCES users(id),
    acquired_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
  );
  `,
  /* 4: profiles as each organization shows them */ `
  -- A person's profile (users.first_name, ...) is theirs; what an organization's owners and admins set is kept
  -- on the membership and shown by that organization only. NULL: the organization shows the person's own.
  ALTER TABLE memberships ADD COLUMN first_name TEXT;
  ALTER TABLE memberships ADD COLUMN last_name TEXT;
  ALTER TABLE memberships ADD COLUMN description TEXT;
  `,
  /* 5: the outbox keeps no invite tokens */ `
  -- An invite's link is a bearer credential: it is stored hashed (invites.token_hash) and handed to the mailer
  -- only; the outbox keeps that a mail was sent, and to whom.
  ALTER TABLE outbox DROP COLUMN token;
  `,
  /* 6: token scopes, expiry; platform settings */ `
  -- read: every GET the user's role allows, no write; write: all the role allows (every token made before).
  ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'write' CHECK (scope IN ('read', 'write'));
  ALTER TABLE tokens ADD COLUMN expires_at INTEGER;                   -- NULL: never
  CREATE INDEX tokens_by_user ON tokens(user_id, name);

  -- The operator's settings (e.g. the default lifetime of new tokens).
  CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
];

import { keyedFingerprint, sameCredentials, type SecretBox } from '../crypto.js';
import { badRequest, conflict, notFound } from '../errors.js';
import type { Actor, Context, OrgRow } from './context.js';
import type { Identity } from './identity.js';

export const INTEGRATION_TYPES = ['s3', 'gcs', 'azureblob', 'minio', 'key_value', 'aws-sts', 'aws-cross', 'gcp-cross', 'private-registry'] as const;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];

export interface IntegrationView {
  id: number;
  name: string;
  type: IntegrationType;
  options: Record<string, unknown>;
  /**
   * `hmac-sha256-v2:<mac>` of the credentials, keyed by the platform (see keyedFingerprint); shown to owners
   * and admins only, null for others and when there are none. The values never leave.
   */
  credentialsFingerprint: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

interface IntegrationRow {
  id: number;
  org_id: number;
  name: string;
  type: IntegrationType;
  options: string;
  credentials: Buffer | null;
  fingerprint: string | null;
  created_by: number;
  created_at: number;
  updated_at: number;
}

/**
 * Storage integrations. Credentials are sealed at rest and never returned; whether given values are the
 * stored ones is answered only to those who may manage integrations (`verifyCredentials`), and so is the
 * keyed fingerprint that tells whether they changed.
 */
export class Integrations {
  constructor(
    private readonly ctx: Context,
    private readonly identity: Identity,
    private readonly box: SecretBox,
    private readonly fingerprintKey: Buffer,
  ) {}

  list(actor: Actor, ref: string): { items: IntegrationView[]; stateVersion: number } {
    return this.ctx.db.transaction(() => {
      const org = this.ctx.orgByName(ref);
      const role = this.ctx.require(org, actor, ['owner', 'admin', 'member'], 'list integrations');
      const rows = this.ctx.stmt('SELECT * FROM integrations WHERE org_id = ? ORDER BY name').all(org.id) as IntegrationRow[];
      return { items: rows.map((r) => this.view(r, role !== 'member')), stateVersion: org.version };
    })();
  }

  get(actor: Actor, ref: string, name: string): IntegrationView {
    const org = this.ctx.orgByName(ref);
    const role = this.ctx.require(org, actor, ['owner', 'admin', 'member'], 'see integrations');
    return this.view(this.row(org, name), role !== 'member');
  }

  /**
   * Whether `credentials` are the values stored for an integration: how a client finds drift without ever
   * seeing them. Only for those who may change them anyway (owners, admins); nothing is written.
   */
  verifyCredentials(actor: Actor, ref: string, name: string, credentials: Record<string, string>): { match: boolean } {
    const org = this.ctx.orgByName(ref);
    this.ctx.require(org, actor, ['owner', 'admin'], 'compare integration credentials');
    const row = this.row(org, name);
    if (!row.credentials) return { match: false };
    return { match: sameCredentials(JSON.parse(this.box.open(row.credentials)) as Record<string, string>, credentials) };
  }

  /**
   * Fingerprints made before they were keyed (`hmac-sha256:<salt>:<mac>`, whose salt was shown, so a guessed
   * secret could be tested offline) are made again with the platform's key. Rows sealed with another key are
   * left, and shown to managers only, as every fingerprint now is.
   */
  upgradeFingerprints(): number {
    const rows = this.ctx.stmt("SELECT * FROM integrations WHERE credentials IS NOT NULL AND fingerprint LIKE 'hmac-sha256:%'").all() as IntegrationRow[];
    let upgraded = 0;
    for (const r of rows) {
      let values: Record<string, string>;
      try {
        values = JSON.parse(this.box.open(r.credentials!)) as Record<string, string>;
      } catch {
        continue;
      }
      this.ctx.stmt('UPDATE integrations SET fingerprint = ? WHERE id = ?').run(keyedFingerprint(this.fingerprintKey, values), r.id);
      upgraded++;
    }
    return upgraded;
  }

  create(
    actor: Actor,
    ref: string,
    body: { name: string; type: IntegrationType; options?: Record<string, unknown>; credentials?: Record<string, string> },
  ): IntegrationView {
    return this.ctx.write(() => {
      const org = this.ctx.orgByName(ref);
      this.ctx.require(org, actor, ['owner', 'admin'], 'create integrations');
      if (this.ctx.stmt('SELECT 1 FROM integrations WHERE org_id = ? AND name = ?').get(org.id, body.name)) {
        throw conflict('already_exists', `integration "${body.name}" already exists in "${org.name}"`);
      }
      const now = this.ctx.now();
      const sealed = this.seal(body.credentials);
      const info = this.ctx
        .stmt(
          `INSERT INTO integrations (org_id, name, type, options, credentials, fingerprint, created_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(org.id, body.name, body.type, JSON.stringify(body.options ?? {}), sealed.credentials, sealed.fingerprint, actor.id, now, now);
      this.ctx.audit(org.id, actor, 'integration.create', body.name, { type: body.type, credentials: body.credentials !== undefined });
      return this.view(this.byId(Number(info.lastInsertRowid)));
    });
  }

  update(actor: Actor, ref: string, name: string, body: { options?: Record<string, unknown>; credentials?: Record<string, string> }): IntegrationView {
    return this.ctx.write(() => {
      const org = this.ctx.orgByName(ref);
      this.ctx.require(org, actor, ['owner', 'admin'], 'change integrations');
      const row = this.row(org, name);
      const changed: string[] = [];
      if (body.options !== undefined && JSON.stringify(body.options) !== row.options) {
        this.ctx.stmt('UPDATE integrations SET options = ? WHERE id = ?').run(JSON.stringify(body.options), row.id);
        changed.push('options');
      }
      if (body.credentials !== undefined) {
        const sealed = this.seal(body.credentials);
        this.ctx.stmt('UPDATE integrations SET credentials = ?, fingerprint = ? WHERE id = ?').run(sealed.credentials, sealed.fingerprint, row.id);
        changed.push('credentials');
      }
      if (changed.length) {
        this.ctx.stmt('UPDATE integrations SET updated_at = ? WHERE id = ?').run(this.ctx.now(), row.id);
        this.ctx.audit(org.id, actor, 'integration.update', name, { changed });
      }
      return this.view(this.byId(row.id));
    });
  }

  delete(actor: Actor, ref: string, name: string): void {
    this.ctx.write(() => {
      const org = this.ctx.orgByName(ref);
      this.ctx.require(org, actor, ['owner', 'admin'], 'delete integrations');
      const row = this.row(org, name);
      this.ctx.stmt('DELETE FROM integrations WHERE id = ?').run(row.id);
      this.ctx.audit(org.id, actor, 'integration.delete', name, { type: row.type });
    });
  }

  private seal(credentials: Record<string, string> | undefined): { credentials: Buffer | null; fingerprint: string | null } {
    if (credentials === undefined) return { credentials: null, fingerprint: null };
    for (const [k, v] of Object.entries(credentials)) if (typeof v !== 'string') throw badRequest(`credentials.${k} must be a string`, `credentials.${k}`);
    return {
      credentials: this.box.seal(JSON.stringify(credentials)),
      fingerprint: keyedFingerprint(this.fingerprintKey, credentials),
    };
  }

  private row(org: OrgRow, name: string): IntegrationRow {
    const row = this.ctx.stmt('SELECT * FROM integrations WHERE org_id = ? AND name = ?').get(org.id, name) as IntegrationRow | undefined;
    if (!row) throw notFound(`integration "${name}" in "${org.name}"`);
    return row;
  }

  private byId(id: number): IntegrationRow {
    return this.ctx.stmt('SELECT * FROM integrations WHERE id = ?').get(id) as IntegrationRow;
  }

  /** What a caller sees of an integration; `manager`: they may manage integrations (and so see the fingerprint). */
  private view(r: IntegrationRow, manager = true): IntegrationView {
    return {
      id: r.id,
      name: r.name,
      type: r.type,
      options: JSON.parse(r.options) as Record<string, unknown>,
      credentialsFingerprint: manager ? r.fingerprint : null,
      createdBy: this.identity.userById(r.created_by).email,
      createdAt: new Date(r.created_at).toISOString(),
      updatedAt: new Date(r.updated_at).toISOString(),
    };
  }
}

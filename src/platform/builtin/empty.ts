import type { ActualOrg } from '../../model/actual.js';
import { emailProblem, normalizeEmail } from '../../model/email.js';
import { quote } from '../../util/quote.js';
import { PlatformError, type ItemResult, type Platform } from '../types.js';
import { BUILTIN_CAPABILITIES } from './capabilities.js';

/**
 * The embedded platform before its database exists, as plan and diff see it: no organization at all, the
 * local identity as its operator. It answers reads without opening SQLite or loading the store (start-up of
 * `plan` in a fresh checkout), and refuses writes: plan and diff make none, and apply creates the database.
 */
export class EmptyEmbeddedPlatform implements Platform {
  readonly capabilities = BUILTIN_CAPABILITIES;
  readonly batchSize = 1000;
  private readonly operator: string;

  /** `description` is the database file's, so a plan saved here applies to the database apply creates. */
  constructor(
    readonly description: string,
    localEmail: string,
  ) {
    // The operator is checked as the embedded platform checks it when it opens a database.
    const problem = emailProblem(localEmail.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, ''));
    if (problem) throw new Error(`invalid email address ${quote(localEmail)}: ${problem}`);
    this.operator = normalizeEmail(localEmail);
  }

  async actor(): Promise<string> {
    return this.operator;
  }

  async actsForOthers(): Promise<boolean> {
    return true;
  }

  async read(): Promise<ActualOrg | undefined> {
    return undefined;
  }

  async listProjects(): Promise<string[]> {
    return [];
  }

  async compareCredentials(): Promise<boolean | undefined> {
    return undefined;
  }

  private refuse(): never {
    throw new PlatformError(`${this.description} does not exist yet: nothing is written to it but by orgctl apply`);
  }

  async createOrganization(): Promise<void> {
    this.refuse();
  }
  async updateOrganization(): Promise<void> {
    this.refuse();
  }
  async invite(): Promise<ItemResult[]> {
    this.refuse();
  }
  async resendInvites(): Promise<ItemResult[]> {
    this.refuse();
  }
  async cancelInvites(): Promise<ItemResult[]> {
    this.refuse();
  }
  async updateMembers(): Promise<ItemResult[]> {
    this.refuse();
  }
  async removeMembers(): Promise<ItemResult[]> {
    this.refuse();
  }
  async createIntegration(): Promise<void> {
    this.refuse();
  }
  async updateIntegration(): Promise<void> {
    this.refuse();
  }
  async deleteIntegration(): Promise<void> {
    this.refuse();
  }
  async close(): Promise<void> {}
}

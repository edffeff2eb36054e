import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { canonicalJson } from '../model/canonical-json.js';

export { canonicalJson };

/** A new bearer or invite token: 32 random bytes, URL-safe, with a prefix that makes leaked ones greppable. */
export function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** Tokens are stored only as this hash; they are random enough that a plain SHA-256 is the right tool. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * `hmac-sha256:<salt>:<hex>` over the canonical credentials. The salt is public and per integration, so a
 * client holding the desired credentials can compute the same value and tell whether they changed, while
 * the fingerprint alone gives nothing away and cannot be matched across integrations.
 */
export function fingerprintCredentials(credentials: Record<string, string>, salt: string = randomBytes(12).toString('base64url')): string {
  const mac = createHmac('sha256', salt).update(canonicalJson(credentials)).digest('hex');
  return `hmac-sha256:${salt}:${mac}`;
}

/** Whether `credentials` are the ones a platform fingerprint was computed from. */
export function credentialsMatch(credentials: Record<string, string>, fingerprint: string): boolean {
  const [algorithm, salt] = fingerprint.split(':');
  if (algorithm !== 'hmac-sha256' || !salt) return false;
  return fingerprintCredentials(credentials, salt) === fingerprint;
}

/** AES-256-GCM sealing of credentials at rest: iv (12) | tag (16) | ciphertext. */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the platform encryption key must be 32 bytes');
  }
  seal(plain: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }
  open(sealed: Buffer): string {
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, 12));
    decipher.setAuthTag(sealed.subarray(12, 28));
    return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
  }
}

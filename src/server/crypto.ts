import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../model/canonical-json.js';

export { canonicalJson };

/** A new bearer or invite token: 32 random bytes, URL-safe, with a prefix that makes leaked ones greppable. */
export function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** `count` new tokens as newToken makes them, from one random draw (a batch of invites draws once, not per invite). */
export function newTokens(prefix: string, count: number): string[] {
  const bytes = randomBytes(32 * count);
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = `${prefix}_${bytes.toString('base64url', 32 * i, 32 * (i + 1))}`;
  return out;
}

/** Tokens are stored only as this hash; they are random enough that a plain SHA-256 is the right tool. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * A fingerprint of credentials that only the platform can compute: an HMAC keyed with a key derived from the
 * platform's own secret key. Shown to those who may manage integrations, it tells whether stored credentials
 * changed, but, unlike a salted hash with a published salt, it cannot be used to test guessed secrets offline.
 */
export function keyedFingerprint(fingerprintKey: Buffer, credentials: Record<string, string>): string {
  return `hmac-sha256-v2:${createHmac('sha256', fingerprintKey).update(canonicalJson(credentials)).digest('hex')}`;
}

/** The key fingerprints are made with, derived from the platform's sealing key (never stored, never shown). */
export function deriveFingerprintKey(platformKey: Buffer): Buffer {
  return createHmac('sha256', platformKey).update('orgctl integration credential fingerprint, v2').digest();
}

/** Whether two credential sets are equal, compared in constant time over their canonical form. */
export function sameCredentials(a: Record<string, string>, b: Record<string, string>): boolean {
  const key = randomBytes(32); // compare MACs, so neither the lengths nor the contents leak through timing
  const mac = (c: Record<string, string>) => createHmac('sha256', key).update(canonicalJson(c)).digest();
  return timingSafeEqual(mac(a), mac(b));
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

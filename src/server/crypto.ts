import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../model/canonical-json.js';

export { canonicalJson };

/** A new bearer or invite token: 32 random bytes, URL-safe, with a prefix that makes leaked ones greppable. */
export function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/**
 * Invite links for a batch, from one random draw: `invite_<group>.<secret>`, the 11-character group (8 random
 * bytes) shared by the batch, the 43-character secret (32 random bytes) each link's own. What is stored is
 * inviteTokenHash: the group, then the SHA-256 of the whole link. A batch's stored hashes thus sit together in
 * the unique index of them, so writing a batch touches a few of its pages; plain hashes, random, put every
 * invite of a batch on a page of its own, and applying 1,000,000 invites grew faster than their number. The
 * group tells nothing (it is random) and guessing a link is as hard as before (the secret is).
 */
export function newInviteTokens(count: number): string[] {
  const bytes = randomBytes(8 + 32 * count);
  const group = bytes.toString('base64url', 0, 8);
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = `invite_${group}.${bytes.toString('base64url', 8 + 32 * i, 8 + 32 * (i + 1))}`;
  return out;
}

/** What an invite link is stored as (see newInviteTokens); a link made before groups, as its plain hash. */
export function inviteTokenHash(token: string): string {
  const dot = token.indexOf('.');
  return token.startsWith('invite_') && dot > 7 ? `${token.slice(7, dot)}.${hashToken(token)}` : hashToken(token);
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

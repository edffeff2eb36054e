import { describe, expect, it } from 'vitest';
import { canonicalJson, deriveFingerprintKey, keyedFingerprint, sameCredentials, SecretBox } from '../../src/server/crypto.js';
import { createHash, createHmac, randomBytes } from 'node:crypto';

describe('credential fingerprints', () => {
  it('are keyed by the platform: the same for the same credentials and key, whatever the key order, and nothing else', () => {
    const key = deriveFingerprintKey(randomBytes(32));
    const fp = keyedFingerprint(key, { accessKeyId: 'AKIA', secretAccessKey: 's3cr3t' });
    expect(fp).toMatch(/^hmac-sha256-v2:[0-9a-f]{64}$/);
    expect(fp).not.toContain('s3cr3t');
    expect(keyedFingerprint(key, { secretAccessKey: 's3cr3t', accessKeyId: 'AKIA' })).toBe(fp);
    expect(keyedFingerprint(key, { accessKeyId: 'AKIA', secretAccessKey: 's3cr3T' })).not.toBe(fp);
    // Another platform (another key) gets another fingerprint: nothing published lets a guess be tested.
    expect(keyedFingerprint(deriveFingerprintKey(randomBytes(32)), { accessKeyId: 'AKIA', secretAccessKey: 's3cr3t' })).not.toBe(fp);
    const canonical = canonicalJson({ accessKeyId: 'AKIA', secretAccessKey: 's3cr3t' });
    for (const guess of [createHash('sha256').update(canonical).digest('hex'), createHmac('sha256', '').update(canonical).digest('hex')]) {
      expect(fp).not.toContain(guess);
    }
  });

  it('compare credentials exactly', () => {
    expect(sameCredentials({ a: '1', b: '2' }, { b: '2', a: '1' })).toBe(true);
    expect(sameCredentials({ a: '1' }, { a: '1', b: '' })).toBe(false);
    expect(sameCredentials({ a: '1' }, { a: '2' })).toBe(false);
  });

  it('canonical JSON sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
  });
});

describe('SecretBox', () => {
  it('round-trips, never stores the plain text, and refuses a tampered or foreign ciphertext', () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal('{"secret":"CANARY-1234"}');
    expect(sealed.toString('latin1')).not.toContain('CANARY');
    expect(box.open(sealed)).toBe('{"secret":"CANARY-1234"}');
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => box.open(tampered)).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed)).toThrow();
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});

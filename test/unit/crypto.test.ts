import { describe, expect, it } from 'vitest';
import { canonicalJson, credentialsMatch, fingerprintCredentials, SecretBox } from '../../src/server/crypto.js';
import { randomBytes } from 'node:crypto';

describe('credential fingerprints', () => {
  it('match the same credentials whatever the key order, and nothing else', () => {
    const fp = fingerprintCredentials({ accessKeyId: 'AKIA', secretAccessKey: 's3cr3t' });
    expect(fp).toMatch(/^hmac-sha256:[A-Za-z0-9_-]+:[0-9a-f]{64}$/);
    expect(fp).not.toContain('s3cr3t');
    expect(credentialsMatch({ secretAccessKey: 's3cr3t', accessKeyId: 'AKIA' }, fp)).toBe(true);
    expect(credentialsMatch({ accessKeyId: 'AKIA', secretAccessKey: 's3cr3T' }, fp)).toBe(false);
    expect(credentialsMatch({ accessKeyId: 'AKIA' }, fp)).toBe(false);
    expect(credentialsMatch({ accessKeyId: 'AKIA', secretAccessKey: 's3cr3t' }, 'sha1:x:y')).toBe(false);
  });

  it('differ between integrations holding the same secret (per-integration salt)', () => {
    const a = fingerprintCredentials({ value: 'same' });
    const b = fingerprintCredentials({ value: 'same' });
    expect(a).not.toBe(b);
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

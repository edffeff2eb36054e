import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../src/manifest/suggest.js';

describe('did-you-mean', () => {
  it('finds typos, case slips and nothing for unrelated words', () => {
    expect(closest('rol', ['role', 'email', 'firstName'])).toBe('role');
    expect(closest('displayname', ['displayName', 'plan'])).toBe('displayName');
    expect(closest('Memberships', ['Organization', 'Membership', 'Integration'])).toBe('Membership');
    expect(closest('zzz', ['role', 'email'])).toBeUndefined();
    expect(closest('x', ['role'])).toBeUndefined();
  });
  it('bounds the edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('abc', 'abcdefgh', 2)).toBe(3);
  });
});

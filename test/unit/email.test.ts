import { describe, expect, it } from 'vitest';
import { emailProblem, normalizeEmail } from '../../src/model/email.js';

describe('email addresses (one rule for validate and the platform)', () => {
  it('accepts ASCII and single-script internationalized addresses, in NFC or NFD', () => {
    for (const ok of [
      'ada@acme.example',
      'a.b+tag@sub.acme.example',
      '\u0438\u0432\u0430\u043d@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444',
      '\u5c71\u7530\u305f\u308d\u3046@acme.example',
      'kim\ubbfc\uc218@acme.example',
      'm\u00fcller@acme.example',
      'mu\u0308ller@acme.example',
      'ada@xn--mller-kva.example',
    ]) {
      expect(emailProblem(ok), ok).toBeUndefined();
    }
  });

  it('refuses look-alikes: controls, invisibles, replacement characters, mixed scripts', () => {
    const cases: [string, string][] = [
      ['a\u200bda@acme.example', 'has an invisible character U+200B at character 2'],
      ['ada\u200d@acme.example', 'has an invisible character U+200D at character 4'],
      ['ada\ufeff@acme.example', 'has an invisible character U+FEFF at character 4'],
      ['ada\u0000@acme.example', 'has a control character U+0000 at character 4'],
      ['ada\u007f@acme.example', 'has a control character U+007F at character 4'],
      ['ada\u0085@acme.example', 'has a control character U+0085 at character 4'],
      ['ada\u00a0x@acme.example', 'has an invisible character U+00A0 at character 4'],
      ['ada\ud800@acme.example', 'has U+D800 at character 4, which is not a character addresses may hold'],
      ['ada\ue000@acme.example', 'has U+E000 at character 4, which is not a character addresses may hold'],
      ['ada\ufffd@acme.example', 'has U+FFFD at character 4, the replacement of bytes that were not valid UTF-8'],
      ['p\u0430ul@acme.example', 'mixes scripts before "@": U+0430 at character 2 is Cyrillic, after Latin letters'],
      ['\u03b1lpha@acme.example', 'mixes scripts before "@": U+006C at character 2 is Latin, after Greek letters'],
      ['paul@\u0430cme.example', 'mixes scripts in the domain label "\u0430cme": U+0063 at character 7 is Latin, after Cyrillic letters'],
      ['\u0301ada@acme.example', 'starts with a combining mark'],
    ];
    for (const [email, message] of cases) expect(emailProblem(email), JSON.stringify(email)).toBe(message);
  });

  it('normalizes to trimmed, NFC, lower case', () => {
    expect(normalizeEmail(' Jose\u0301@Acme.Example ')).toBe('jos\u00e9@acme.example');
    expect(normalizeEmail('JOS\u00c9@acme.example')).toBe(normalizeEmail('jose\u0301@ACME.example'));
    expect(normalizeEmail('Ada@Acme.Example')).toBe('ada@acme.example');
  });
});

import { describe, expect, it } from 'vitest';
import { checkPlatformAddress } from '../../src/cli/platform-url.js';
import { builtinClient } from '../../src/platform/builtin/http.js';

const SECRET = 'hunter2-not-to-be-shown';

describe('platform addresses', () => {
  it('takes http(s) URLs, file: paths and the empty default as they are', () => {
    for (const ok of ['http://127.0.0.1:8080', 'https://orgs.example.com/base/', 'file:.orgctl/platform.db', 'file::memory:', '']) {
      expect(checkPlatformAddress(ok, '--platform')).toBe(ok);
    }
  });

  it('refuses credentials in the URL without quoting them, naming where the address came from', () => {
    for (const bad of [`http://ci:${SECRET}@127.0.0.1:8080`, `https://${SECRET}@orgs.example.com`, `HTTPS://u:${SECRET}@h`]) {
      let message = '';
      try {
        checkPlatformAddress(bad, 'ORGCTL_PLATFORM');
      } catch (err) {
        message = (err as Error).message;
        expect((err as { exitCode?: number }).exitCode).toBe(2);
      }
      expect(message).toMatch(/^ORGCTL_PLATFORM carries credentials/);
      expect(message).not.toContain(SECRET);
    }
  });

  it('refuses other schemes and malformed URLs, never echoing a user:password part', () => {
    expect(() => checkPlatformAddress('ftp://h', '--platform')).toThrow(/must be http\(s\):\/\/HOST:PORT or file:PATH, not "ftp:\/\/h"/);
    expect(() => checkPlatformAddress(`ftp://u:${SECRET}@h`, '--platform')).toThrow(/not "ftp:\/\/…@h"/);
    expect(() => checkPlatformAddress('http://[::1', '--platform')).toThrow(/not a valid URL/);
  });

  it('the HTTP adapter refuses the same on its own: a token unfit for a header, credentials in the address', () => {
    const catchMessage = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    };
    for (const token of [`${SECRET}\nsecond-line`, `${SECRET}\u20ac`, `${SECRET} x`, '']) {
      const m = catchMessage(() => builtinClient('http://127.0.0.1:1', token));
      expect(m).toContain('it is not shown');
      expect(m).not.toContain(SECRET);
    }
    const m = catchMessage(() => builtinClient(`http://u:${SECRET}@127.0.0.1:1`, 'tok'));
    expect(m).toContain('carries credentials');
    expect(m).not.toContain(SECRET);
    expect(catchMessage(() => builtinClient('file:x.db', 'tok'))).toContain('not an http(s) URL');
  });
});

import { describe, expect, it } from 'vitest';
import { checkPlatformAddress } from '../../src/cli/platform-url.js';
import { platformKind } from '../../src/platform/registry.js';
import { parseSaasAddress } from '../../src/platform/saas/address.js';

describe('hosted platform addresses', () => {
  it('dataloop and ango alone are the default regions; +URL overrides them', () => {
    expect(parseSaasAddress('dataloop')).toEqual({ kind: 'dataloop', base: 'https://gate.dataloop.ai/api/v1', description: 'dataloop+https://gate.dataloop.ai/api/v1' });
    expect(parseSaasAddress('ango')).toEqual({ kind: 'ango', base: 'https://imeritapi.ango.ai', description: 'ango+https://imeritapi.ango.ai' });
    expect(parseSaasAddress('dataloop+https://rc-gate.dataloop.ai/api/v1/')).toMatchObject({ base: 'https://rc-gate.dataloop.ai/api/v1' });
    // The Ango docs list servers with /v2; the adapter's paths carry it.
    expect(parseSaasAddress('ango+https://us-api.ango.ai/v2')).toMatchObject({ base: 'https://us-api.ango.ai', description: 'ango+https://us-api.ango.ai' });
    expect(parseSaasAddress('Ango')).toMatchObject({ kind: 'ango' });
    expect(parseSaasAddress('https://orgs.example')).toBeUndefined();
    expect(parseSaasAddress('dataloopish')).toBeUndefined();
  });

  it('the same platform under two spellings is one plan target', () => {
    expect((parseSaasAddress('dataloop') as { description: string }).description).toBe((parseSaasAddress('dataloop+https://gate.dataloop.ai/api/v1') as { description: string }).description);
  });

  it('refuses a URL that is not http(s) or carries credentials, without quoting it', () => {
    expect(parseSaasAddress('ango+ftp://x')).toMatch(/not an http\(s\) URL \(it is not shown/);
    const withSecret = parseSaasAddress('dataloop+https://me:s3cret@gate.dataloop.ai/api/v1');
    expect(withSecret).toMatch(/carries credentials/);
    expect(withSecret).not.toContain('s3cret');
    expect(() => checkPlatformAddress('dataloop+https://me:s3cret@h/api/v1', '--platform')).toThrow(/--platform: the Dataloop address carries credentials/);
    expect(() => checkPlatformAddress('ftp://h', '--platform')).toThrow(/hosted platforms: dataloop \| dataloop\+https:\/\/HOST\/api\/v1, ango \| ango\+https:\/\/HOST/);
  });

  it('the CLI and the registry take the forms', () => {
    for (const a of ['dataloop', 'dataloop+http://127.0.0.1:9/api/v1', 'ango', 'ango+https://in-api.ango.ai']) {
      expect(checkPlatformAddress(a, '--platform')).toBe(a);
    }
    expect(platformKind('dataloop')?.name).toBe('Dataloop');
    expect(platformKind('ango+https://us-api.ango.ai')?.name).toBe('Ango Hub');
    expect(platformKind('https://orgs.example')?.name).toBe('orgctl platform (HTTP)');
  });
});

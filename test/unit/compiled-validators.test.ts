import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CRD_DIR, crdDigest } from '../../src/manifest/crds.js';
import { loadManifests } from '../../src/manifest/load.js';
import { readSources } from '../../src/manifest/sources.js';
import { SchemaValidator } from '../../src/manifest/validate-schema.js';

// The CRD validators are compiled at build time (ajv standalone, scripts/build-validators.mjs, into dist/);
// the sources compile them at run time. Both must find the same problems, at the same places.
const ROOT = join(import.meta.dirname, '../..');
type Dist = {
  compiled: { crdDigest: string } | undefined;
  loadManifests: typeof loadManifests;
  SchemaValidator: typeof SchemaValidator;
};

async function dist(): Promise<Dist> {
  const [{ compiled }, { loadManifests: load }, { SchemaValidator: V }] = await Promise.all([
    import(join(ROOT, 'dist/manifest/compiled-validators.js')),
    import(join(ROOT, 'dist/manifest/load.js')),
    import(join(ROOT, 'dist/manifest/validate-schema.js')),
  ]);
  return { compiled, loadManifests: load, SchemaValidator: V };
}

describe('CRD validators compiled at build time', () => {
  it('the build compiled them from crds/ as they are, and the CLI uses them', async () => {
    const d = await dist();
    expect(d.compiled?.crdDigest).toBe(crdDigest());
    expect(d.SchemaValidator.forCrds().origin).toBe('build');
    // The sources have none: they compile the CRDs themselves.
    expect(SchemaValidator.forCrds().origin).toBe('runtime');
  });

  it('find exactly what compiling at run time finds, on every broken fixture and the examples', async () => {
    const d = await dist();
    const fixtures = readdirSync(join(ROOT, 'test/fixtures/invalid')).map((f) => join('test/fixtures/invalid', f));
    for (const path of [...fixtures, 'examples']) {
      const read = readSources([path], { cwd: ROOT });
      const strip = (r: ReturnType<typeof loadManifests>) => ({ diagnostics: r.diagnostics, objects: r.objects.map((o) => o.object) });
      expect(strip(d.loadManifests(read.sources)), path).toEqual(strip(loadManifests(read.sources)));
    }
  });

  it('CRDs changed since the build are compiled again: crds/ stays the source of truth', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgctl-crds-'));
    try {
      cpSync(CRD_DIR, dir, { recursive: true });
      expect(crdDigest(dir)).toBe(crdDigest());
      const file = join(dir, 'organization.yaml');
      const text = readFileSync(file, 'utf8');
      expect(text).toContain('enum: [freemium, premium]');
      writeFileSync(file, text.replace('enum: [freemium, premium]', 'enum: [freemium, premium, enterprise]'));
      expect(crdDigest(dir)).not.toBe(crdDigest());
      const changed = SchemaValidator.forCrds(dir);
      expect(changed.origin).toBe('runtime');
      const org = { apiVersion: 'orgctl.dev/v1alpha1', kind: 'Organization', metadata: { name: 'acme' }, spec: { plan: 'enterprise' } };
      expect(changed.validate('Organization', structuredClone(org))).toEqual([]);
      expect(SchemaValidator.forCrds().validate('Organization', structuredClone(org))).not.toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { orgctl, ROOT, tempDir } from './cli.js';

const ORG = 'apiVersion: orgctl.dev/v1alpha1\nkind: Organization\nmetadata:\n  name: acme\nspec:\n  plan: premium\n';

describe('orgctl validate and schema, as a child process', () => {
  it('exits 0 on valid manifests and 1 with file:line:column: path: message on invalid ones', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'ok'));
    writeFileSync(join(dir, 'ok/org.yaml'), ORG);
    const ok = await orgctl(['validate', '-f', 'ok'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('valid: 1 object in 1 file: 1 Organization\n');

    mkdirSync(join(dir, 'bad'));
    writeFileSync(join(dir, 'bad/org.yaml'), ORG.replace('premium', 'premum'));
    const bad = await orgctl(['validate', '-f', 'bad'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('bad/org.yaml:6:9: spec.plan: unsupported value "premum"');
    expect(bad.stderr).toContain('error: 1 problem in 1 file');

    const json = await orgctl(['validate', '-f', 'bad', '-o', 'json'], { cwd: dir });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual([
      { file: 'bad/org.yaml', line: 6, column: 9, path: 'spec.plan', message: expect.stringContaining('did you mean "premium"?') },
    ]);
    const jsonOk = await orgctl(['validate', '-f', 'ok', '-o', 'json'], { cwd: dir });
    expect([jsonOk.code, JSON.parse(jsonOk.stdout)]).toEqual([0, []]);
  });

  it('reads standard input, reports missing paths, refuses bad flags, and skips other kinds unless --strict', async () => {
    const dir = tempDir();
    const stdin = await orgctl(['validate', '-f', '-'], { cwd: dir, input: ORG.replace('premium', 'gold') });
    expect(stdin.code).toBe(1);
    expect(stdin.stderr).toContain('<stdin>:6:9: spec.plan');
    expect((await orgctl(['validate', '-f', '-'], { cwd: dir, input: ORG })).code).toBe(0);

    const missing = await orgctl(['validate', '-f', 'nope.yaml'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.yaml: no such file or directory');

    const flag = await orgctl(['validate', '-f', '.', '-o', 'yaml'], { cwd: dir });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("'yaml' is invalid");
    expect((await orgctl(['validate'], { cwd: dir })).code).toBe(2);

    writeFileSync(join(dir, 'mixed.yaml'), `${ORG}---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n`);
    const mixed = await orgctl(['validate', '-f', 'mixed.yaml'], { cwd: dir });
    expect(mixed.code).toBe(0);
    expect(mixed.stderr).toContain('note: mixed.yaml:8:1: skipped apps/v1 Deployment "web": not an orgctl kind');
    const strict = await orgctl(['validate', '-f', 'mixed.yaml', '--strict'], { cwd: dir });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('mixed.yaml:8:13: apiVersion: apps/v1 Deployment "web" is not an orgctl object (--strict)');
  });

  it('validates every example', async () => {
    const r = await orgctl(['validate', '-f', 'examples'], { cwd: ROOT });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('2 Organizations, 4 Memberships (320 people), 5 Integrations');
  });

  it('prints JSON Schemas generated from the CRDs, for editors', async () => {
    const dir = tempDir();
    const all = await orgctl(['schema'], { cwd: dir });
    expect(all.code).toBe(0);
    const schema = JSON.parse(all.stdout);
    expect(Object.keys(schema.definitions).sort()).toEqual(['Integration', 'Membership', 'Organization']);
    const one = JSON.parse((await orgctl(['schema', 'mem'], { cwd: dir })).stdout);
    expect(one.title).toBe('Membership (orgctl.dev/v1alpha1)');
    expect(one.properties.spec.properties.members.items.properties.role.enum).toEqual(['owner', 'admin', 'member', 'worker']);
    expect(one.properties.spec.additionalProperties).toBe(false);
    const nope = await orgctl(['schema', 'Membershp'], { cwd: dir });
    expect(nope.code).toBe(2);
    expect(nope.stderr).toContain('did you mean "Membership"?');
    const out = await orgctl(['schema', '--out', 'schemas'], { cwd: dir });
    expect(out.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'schemas/orgctl.json'), 'utf8')).title).toBe('orgctl manifests');
  });

  it('prints its version', async () => {
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    // One form, whichever way it is asked.
    expect((await orgctl(['--version'], { cwd: ROOT })).stdout.trim()).toBe(`orgctl ${version}`);
    expect((await orgctl(['version'], { cwd: ROOT })).stdout.trim()).toBe(`orgctl ${version}`);
  });
});

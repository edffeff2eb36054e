/**
 * Manifests larger than 64 MiB (issue 22): a regular file may be allowed more with --max-manifest-size (or
 * $ORGCTL_MAX_MANIFEST_SIZE); standard input keeps 64 MiB; a refused file brings no follow-on errors about
 * what it would have declared.
 */
import { closeSync, mkdirSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadManifests } from '../../src/manifest/load.js';
import { readSources } from '../../src/manifest/sources.js';
import { orgctl, tempDir } from './cli.js';

const ORG = `apiVersion: orgctl.dev/v1alpha1
kind: Organization
metadata:
  name: big
spec:
  members:
    policy: authoritative
`;

const PEOPLE = `apiVersion: orgctl.dev/v1alpha1
kind: Membership
metadata:
  name: big-people
spec:
  organization: big
  members:
    - email: owner@big.example
      role: owner
`;

/** The Membership padded with comment lines to just over 65 MiB. */
function writePadded(file: string): void {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, PEOPLE);
    const line = `# ${'x'.repeat(1022)}\n`.repeat(1024); // 1 MiB
    for (let i = 0; i < 65; i++) writeSync(fd, line);
  } finally {
    closeSync(fd);
  }
}

describe('manifests over 64 MiB', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    mkdirSync(join(dir, 'm'));
    writeFileSync(join(dir, 'm/org.yaml'), ORG);
    writePadded(join(dir, 'm/people.yaml'));
  });

  it('are refused by default, naming the flag, with no follow-on error about the owner they declare', async () => {
    const r = await orgctl(['validate', '-f', 'm'], { cwd: dir });
    expect(r.code).toBe(1);
    const size = statSync(join(dir, 'm/people.yaml')).size;
    expect(r.stderr).toContain(`m/people.yaml: file is ${size} bytes (66 MiB); the limit is 67108864 (64 MiB); to read it, raise the limit: --max-manifest-size 66MiB`);
    expect(r.stderr).not.toContain('owner');
    expect(r.stderr).toContain('error: 1 problem in 1 file');
    const plan = await orgctl(['plan', '-f', 'm'], { cwd: dir });
    expect(plan.code).toBe(1);
    expect(plan.stderr).not.toContain('owner');
  });

  it('are read with --max-manifest-size or $ORGCTL_MAX_MANIFEST_SIZE', async () => {
    const r = await orgctl(['validate', '-f', 'm', '--max-manifest-size', '80MiB'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('valid: 2 objects in 2 files');
    const env = await orgctl(['plan', '-f', 'm'], { cwd: dir, env: { ORGCTL_MAX_MANIFEST_SIZE: '66MiB' } });
    expect(env.code, env.stderr).toBe(0);
    expect(env.stdout).toContain('create-organization big');
    const small = await orgctl(['validate', '-f', 'm', '--max-manifest-size', '65MiB'], { cwd: dir });
    expect(small.code).toBe(1);
    expect(small.stderr).toContain('the limit is 68157440 (65 MiB)');
  });

  it('a size that is not one, or more than Node can hold, is a usage error', async () => {
    const bad = await orgctl(['validate', '-f', 'm', '--max-manifest-size', 'lots'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-manifest-size must be a size such as 256MiB or 1GiB, not "lots"');
    const huge = await orgctl(['validate', '-f', 'm', '--max-manifest-size', '2GiB'], { cwd: dir });
    expect(huge.code).toBe(2);
    expect(huge.stderr).toContain('--max-manifest-size may be at most 512MiB');
    const most = await orgctl(['validate', '-f', 'm', '--max-manifest-size', '512MiB'], { cwd: dir });
    expect(most.code, most.stderr).toBe(0);
  });

  it('standard input keeps the 64 MiB limit', () => {
    const read = readSources(['-'], { maxFileBytes: 80 * 1024 * 1024, stdin: () => new Uint8Array(64 * 1024 * 1024 + 1) });
    expect(read.sources).toEqual([]);
    expect(read.diagnostics.map((d) => d.message)).toEqual([
      'input is 67108865 bytes; the limit is 67108864 for standard input (save it to a file: a file may be allowed more with --max-manifest-size)',
    ]);
  });
});

describe('no follow-on errors after an input that could not be read', () => {
  const src = (name: string, text: string) => ({ name, bytes: new TextEncoder().encode(text), dir: '.' });

  it('a Membership that does not parse: its syntax error only, not "no owner" or "not declared"', () => {
    const broken = `${PEOPLE}    - email: [unclosed\n`;
    const other = PEOPLE.replace('big-people', 'other-people').replace('organization: big', 'organization: elsewhere');
    const result = loadManifests([src('org.yaml', ORG), src('people.yaml', broken), src('other.yaml', other)]);
    expect(result.diagnostics.map((d) => `${d.file}: ${d.message}`)).toEqual([expect.stringMatching(/^people\.yaml: YAML syntax error/)]);
  });

  it('with every input read, both are reported as before', () => {
    const other = PEOPLE.replace('big-people', 'other-people').replace('organization: big', 'organization: elsewhere').replace('role: owner', 'role: member');
    const result = loadManifests([src('org.yaml', ORG), src('other.yaml', other)]);
    expect(result.diagnostics.map((d) => d.message)).toEqual([
      expect.stringContaining('is authoritative but no Membership declares an owner'),
      expect.stringContaining('organization "elsewhere" is not declared'),
    ]);
  });
});

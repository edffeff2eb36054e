import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { orgctl, tempDir, writeOrg } from './cli.js';

// Files named by manifests and flags are read with limits, and never quoted (issue 21, items 10 and 11).

function withFileCredentials(dir: string, file: string): void {
  writeOrg(join(dir, 'm'), { name: 'acme', members: [['root@acme.example', 'owner']] });
  writeFileSync(
    join(dir, 'm', 'int.yaml'),
    `apiVersion: orgctl.dev/v1alpha1\nkind: Integration\nmetadata:\n  name: kv\nspec:\n  organization: acme\n  name: kv\n  type: key_value\n  credentialsRef:\n    file: ${file}\n`,
  );
}

describe('credential files', () => {
  it('are never quoted in errors, whatever their shape', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    const secret = 'root:$6$CANARYsalt$CANARYhashvalue';
    writeFileSync(join(dir, 'shadow'), `${JSON.stringify(secret)}: {expires: 19000}\nbin: "*"\n`);
    withFileCredentials(dir, '../shadow');
    const r = await orgctl(['plan', '-f', 'm'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('credentialsRef.file ../shadow: entry 1 is not a field with a string value');
    expect(r.stdout + r.stderr).not.toContain('CANARY');
  });

  it('are read up to a small limit, by reading: a device that never ends is refused', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    withFileCredentials(dir, '/dev/zero');
    const r = await orgctl(['plan', '-f', 'm'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('credentialsRef.file /dev/zero: larger than 64 KiB; a credentials file holds a few fields');
  });
});

describe('manifest inputs', () => {
  it('a device that never ends is refused at the manifest limit, not read until memory runs out', async () => {
    const dir = tempDir();
    const r = await orgctl(['validate', '-f', '/dev/zero'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/dev/zero: more than 67108864 bytes; the limit is 67108864');
  });
});

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { orgctl, tempDir, writeOrg } from './cli.js';

describe('orgctl config contexts', () => {
  it('creates, lists, switches and uses contexts like kubeconfig', async () => {
    const dir = tempDir();
    const env = { ORGCTL_CONFIG: join(dir, 'config.yaml') };
    const run = (args: string[]) => orgctl(args, { cwd: dir, env });
    expect((await run(['config', 'current-context'])).code).toBe(1);
    expect((await run(['config', 'set-context', 'local', '--platform', 'file:local.db', '--organization', 'acme'])).code).toBe(0);
    expect((await run(['config', 'set-context', 'prod', '--platform', 'https://orgs.example', '--token-file', join(dir, 'tok')])).code).toBe(0);
    expect((await run(['config', 'set-context', 'bad', '--platform', 'ftp://x'])).code).toBe(2);
    // As kubectl: set-context never switches; use-context does.
    expect((await run(['config', 'current-context'])).code).toBe(1);
    expect((await run(['config', 'use-context', 'local'])).code).toBe(0);
    const list = await run(['config', 'get-contexts']);
    expect(list.stdout).toMatch(/\*\s+local\s+file:local\.db\s+acme/);
    expect((await run(['config', 'current-context'])).stdout).toBe('local\n');
    expect(readFileSync(env.ORGCTL_CONFIG, 'utf8')).not.toContain('token:');

    // The current context picks the platform (file:local.db) and export's organization.
    mkdirSync(join(dir, 'm'));
    writeOrg(join(dir, 'm'), { name: 'acme', members: [['root@acme.example', 'owner']] });
    expect((await run(['apply', '-f', 'm', '--yes'])).code).toBe(0);
    const exported = await run(['export']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain('name: acme');

    const unknown = await run(['config', 'use-context', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('known: local, prod');
    expect((await run(['config', 'use-context', 'prod'])).code).toBe(0);
    const noToken = await run(['plan', '-f', 'm']);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('token file');
  });
});

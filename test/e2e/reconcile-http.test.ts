import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgctl, tempDir, writeOrg } from './cli.js';
import { serve, type Served } from './server.js';

describe('orgctl plan / apply against `orgctl platform serve` over HTTP', () => {
  let server: Served;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir();
    mkdirSync(join(dir, 'm'));
    server = await serve(dir);
  });
  afterAll(async () => server?.stop());

  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    orgctl(args, { cwd: dir, env: { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token, S3_KEY: 'k', S3_SECRET: 'CANARY-http-1', ...env } });

  it('converges, is idempotent, honours saved and stale plans, and reports drift', async () => {
    writeOrg(join(dir, 'm'), {
      name: 'globex',
      displayName: 'Globex',
      policy: 'authoritative',
      members: [
        ['boss@globex.example', 'owner'],
        ['ann@globex.example', 'admin'],
        ['bob@globex.example', 'worker'],
      ],
      integrations: [{ name: 'raw', type: 's3', options: { bucket: 'raw' }, env: { accessKeyId: 'S3_KEY', secretAccessKey: 'S3_SECRET' } }],
    });
    const plan = await run(['plan', '-f', 'm', '--detailed-exitcode']);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toContain(`(${server.url})`);
    // The platform token is a superuser's, so the organization is created for its first declared owner.
    expect(plan.stdout).toContain('creator boss@globex.example');

    const apply = await run(['apply', '-f', 'm', '--yes']);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect((await run(['plan', '-f', 'm', '--detailed-exitcode'])).code).toBe(0);
    expect((await run(['diff', '-f', 'm'])).code).toBe(0);

    // Someone accepts over HTTP; nothing to do for orgctl.
    expect((await run(['platform', 'invites', 'accept', '--org', 'globex', '--email', 'ann@globex.example'])).code).toBe(0);
    expect((await run(['plan', '-f', 'm', '--detailed-exitcode'])).code).toBe(0);

    // Saved plan, then the platform moves: stale.
    writeOrg(join(dir, 'm'), {
      name: 'globex',
      displayName: 'Globex Inc',
      policy: 'authoritative',
      members: [
        ['boss@globex.example', 'owner'],
        ['ann@globex.example', 'member'],
        ['bob@globex.example', 'worker'],
      ],
      integrations: [{ name: 'raw', type: 's3', options: { bucket: 'raw' }, env: { accessKeyId: 'S3_KEY', secretAccessKey: 'S3_SECRET' } }],
    });
    expect((await run(['plan', '-f', 'm', '--out', 'p.json'])).code).toBe(0);
    expect((await run(['diff', '-f', 'm'])).code).toBe(1);
    expect((await run(['platform', 'invites', 'accept', '--org', 'globex', '--email', 'bob@globex.example'])).code).toBe(0);
    const stale = await run(['apply', 'p.json', '--yes']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('stale');
    expect((await run(['plan', '-f', 'm', '--out', 'p.json'])).code).toBe(0);
    const applied = await run(['apply', 'p.json', '--yes']);
    expect(applied.code, applied.stderr).toBe(0);
    expect((await run(['plan', '-f', 'm', '--detailed-exitcode'])).code).toBe(0);

    // A saved plan is bound to its platform.
    const elsewhere = await orgctl(['apply', 'p.json', '--yes'], { cwd: dir, env: {} });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain('is for');

    for (const r of [plan, apply, stale, applied]) expect(r.stdout + r.stderr).not.toContain('CANARY-http-1');
  });

  it('explains a missing or wrong token and an unreachable platform', async () => {
    writeOrg(join(dir, 'm'), { name: 'globex', members: [['boss@globex.example', 'owner']] });
    const noToken = await orgctl(['plan', '-f', 'm'], { cwd: dir, env: { ORGCTL_PLATFORM: server.url } });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('ORGCTL_TOKEN');
    const badToken = await orgctl(['plan', '-f', 'm'], { cwd: dir, env: { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: 'orgctl_wrong' } });
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toContain('401');
    expect(badToken.stderr).not.toContain('orgctl_wrong');
    const down = await orgctl(['plan', '-f', 'm'], { cwd: dir, env: { ORGCTL_PLATFORM: 'http://127.0.0.1:9', ORGCTL_TOKEN: 'x' } });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach');
  });
});

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgctl, tempDir, writeOrg } from './cli.js';
import { serve, type Served } from './server.js';

/**
 * Issue 18 with the real CLI against `orgctl platform serve`: the pull-request job's read-only token plans,
 * diffs and exports, and cannot apply; tokens are listed (never their secrets) and revoked by name, on the
 * database and over REST; a revoked token is refused at once.
 */
describe('orgctl platform token and least-privilege pipelines', () => {
  let server: Served;
  let dir: string;
  let readToken = '';
  let writeToken = '';
  beforeAll(async () => {
    dir = tempDir('orgctl-tokens-');
    mkdirSync(join(dir, 'm'));
    server = await serve(dir);
    const db = join(dir, 'server.db');
    const create = async (args: string[]) => {
      const r = await orgctl(['platform', 'token', 'create', '--db', db, ...args], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      return { token: r.stdout.trim(), stderr: r.stderr };
    };
    // ci@ is a superuser, so a new organization is created for its first declared owner.
    const read = await create(['--user', 'ci@platform.example', '--superuser', '--name', 'pull-requests', '--scope', 'read', '--expires-in', '90d']);
    expect(read.stderr).toMatch(/token "pull-requests" \(id \d+, scope read, expires \d{4}-.*\) created for ci@platform\.example \(superuser\); it is shown once/);
    readToken = read.token;
    writeToken = (await create(['--user', 'ci@platform.example', '--name', 'main'])).token;
    writeOrg(join(dir, 'm'), { name: 'globex', members: [['boss@globex.example', 'owner'], ['ann@globex.example', 'member']] });
  });
  afterAll(async () => server?.stop());

  const as = (token: string) => (args: string[]) => orgctl(args, { cwd: dir, env: { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: token } });

  it('a read-only token plans, diffs and exports; apply is refused (403 insufficient_scope) and writes nothing', async () => {
    const pr = as(readToken);
    const plan = await pr(['plan', '-f', 'm', '--detailed-exitcode']);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toContain('create-organization');
    expect((await pr(['diff', '-f', 'm'])).code).toBe(1);
    const apply = await pr(['apply', '-f', 'm', '--yes']);
    expect(apply.code).toBe(1);
    expect(apply.stdout + apply.stderr).toContain('insufficient_scope');
    expect(apply.stdout + apply.stderr).toContain('this token is read-only; apply needs a write token');
    // Nothing was written: the plan is what it was.
    expect((await pr(['plan', '-f', 'm', '--detailed-exitcode'])).stdout).toBe(plan.stdout);

    const main = as(writeToken);
    const applied = await main(['apply', '-f', 'm', '--yes']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect((await pr(['plan', '-f', 'm', '--detailed-exitcode'])).code).toBe(0);
    const exported = await pr(['export', '--org', 'globex']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain('boss@globex.example');
  });

  it('token list shows names, scopes, use and expiry, never a secret; on the database and over REST', async () => {
    const onDb = await orgctl(['platform', 'token', 'list', '--db', join(dir, 'server.db')], { cwd: dir });
    expect(onDb.code, onDb.stderr).toBe(0);
    expect(onDb.stdout.split('\n')[0]).toMatch(/^ID +NAME +USER +SCOPE +CREATED +LAST USED +EXPIRES +STATUS$/);
    expect(onDb.stdout).toMatch(/pull-requests +ci@platform\.example +read +\S+ +\S+ +\d{4}-\S+ +active/);
    expect(onDb.stdout).toMatch(/main +ci@platform\.example +write +\S+ +\S+ +never +active/);
    const overRest = await as(readToken)(['platform', 'token', 'list', '-o', 'json']);
    expect(overRest.code, overRest.stderr).toBe(0);
    const items = JSON.parse(overRest.stdout) as { name: string; current: boolean; lastUsedAt: string | null }[];
    expect(items.map((i) => i.name).sort()).toEqual(['main', 'pull-requests']);
    expect(items.find((i) => i.current)?.name).toBe('pull-requests');
    expect(items.every((i) => i.lastUsedAt !== null)).toBe(true);
    for (const out of [onDb.stdout, onDb.stderr, overRest.stdout, overRest.stderr]) {
      expect(out).not.toContain(readToken);
      expect(out).not.toContain(writeToken);
      expect(out).not.toContain(server.token);
    }
  });

  it('token revoke by name: over REST (read tokens may not) and on the database; the revoked token is refused at once', async () => {
    const refused = await as(readToken)(['platform', 'token', 'revoke', 'main']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('this token is read-only');
    const revoked = await as(writeToken)(['platform', 'token', 'revoke', 'pull-requests']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(/^revoked token "pull-requests" \(id \d+\) of ci@platform\.example\n$/);
    const plan = await as(readToken)(['plan', '-f', 'm']);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain('revoked');

    const onDb = await orgctl(['platform', 'token', 'revoke', 'main', '--db', join(dir, 'server.db'), '--user', 'ci@platform.example'], { cwd: dir });
    expect(onDb.code, onDb.stderr).toBe(0);
    expect((await as(writeToken)(['plan', '-f', 'm'])).code).toBe(1);
    const all = await orgctl(['platform', 'token', 'list', '--db', join(dir, 'server.db'), '--all'], { cwd: dir });
    expect(all.stdout).toMatch(/main .* revoked/);
    const live = await orgctl(['platform', 'token', 'list', '--db', join(dir, 'server.db')], { cwd: dir });
    expect(live.stdout).not.toContain('pull-requests');
  });

  it('bad input is refused before anything is written: scope, expiry, digit-only names, unknown tokens', async () => {
    const db = join(dir, 'server.db');
    const run = (args: string[]) => orgctl(['platform', 'token', ...args, '--db', db], { cwd: dir });
    const scope = await run(['create', '--user', 'x@y.example', '--scope', 'admin']);
    expect(scope.code).toBe(2);
    const expiry = await run(['create', '--user', 'x@y.example', '--expires-in', '1y']);
    expect(expiry.code).toBe(2);
    expect(expiry.stderr).toContain('--expires-in must be a duration from 1m to 3650d');
    const digits = await run(['create', '--user', 'x@y.example', '--name', '42']);
    expect(digits.code).toBe(1);
    expect(digits.stderr).toContain('a name of digits only would read as a token id');
    const missing = await run(['revoke', 'no-such-token']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('live token named "no-such-token" not found');
    const listed = await run(['list', '--user', 'x@y.example']);
    expect(listed.code).toBe(1); // no such user: nothing was created by the refused commands
  });

  it('default-expiry: new tokens get it unless --expires-in says otherwise', async () => {
    const db = join(dir, 'server.db');
    const set = await orgctl(['platform', 'token', 'default-expiry', '30d', '--db', db], { cwd: dir });
    expect(set.stdout).toBe('new tokens expire after 30d unless created with --expires-in\n');
    const made = await orgctl(['platform', 'token', 'create', '--db', db, '--user', 'later@platform.example'], { cwd: dir });
    const forever = await orgctl(['platform', 'token', 'create', '--db', db, '--user', 'later@platform.example', '--expires-in', 'never'], { cwd: dir });
    expect(made.stderr).toMatch(/token "cli" \(id \d+, scope write, expires /);
    expect(forever.stderr).toMatch(/token "cli-2" \(id \d+, scope write, never expires\)/);
    const reset = await orgctl(['platform', 'token', 'default-expiry', 'never', '--db', db], { cwd: dir });
    expect(reset.stdout).toBe('new tokens never expire unless created with --expires-in\n');
  });
});

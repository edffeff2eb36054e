import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgctl, tempDir, writeOrg, type OrgSpec } from './cli.js';
import { startOrgctl, until } from './proc.js';
import { onTerminal } from './pty.js';
import { serve, type Served } from './server.js';

// A new user's first hour, part 2 (issue 20): guards that count every loss of access, clean interrupts,
// reports that stay readable.

const people = (n: number, role = 'member'): [string, string][] => Array.from({ length: n }, (_, i): [string, string] => [`p${i}@acme.example`, role]);

describe('guards that count every loss of access', () => {
  it('--max-removals counts cancelled invites with removals, against members plus open invites', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    const org = (members: [string, string][]): OrgSpec => ({ name: 'acme', policy: 'authoritative', members: [['root@acme.example', 'owner'], ...members] });
    writeOrg(join(dir, 'm'), org(people(20)));
    expect((await orgctl(['apply', '-f', 'm', '--yes'], { cwd: dir })).code).toBe(0);
    // 20 pending invites and one member: cutting to 5 people cancels 15 invites.
    writeOrg(join(dir, 'm'), org(people(5)));
    const r = await orgctl(['plan', '-f', 'm'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('guard max-removals: the plan cancels 15 invites of "acme": 15 of 21 people with access (members plus open invites), more than --max-removals allows (25% of 21 = 5)');
    expect((await orgctl(['plan', '-f', 'm', '--max-removals', '15'], { cwd: dir })).code).toBe(0);
  });
});

describe('a credential variable that is not set', () => {
  it('is a warning naming the variables, counted in the summary, and an error with --strict', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    const spec: OrgSpec = {
      name: 'acme',
      members: [['root@acme.example', 'owner']],
      integrations: [{ name: 'raw', type: 's3', options: { bucket: 'raw' }, env: { accessKeyId: 'S3_KEY', secretAccessKey: 'S3_SECRET' } }],
    };
    writeOrg(join(dir, 'm'), spec);
    expect((await orgctl(['apply', '-f', 'm', '--yes'], { cwd: dir, env: { S3_KEY: 'k', S3_SECRET: 's' } })).code).toBe(0);
    const r = await orgctl(['plan', '-f', 'm'], { cwd: dir, env: { S3_KEY: 'k' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: integration "raw" of "acme": credentialsRef.env: environment variable S3_SECRET not set; its credentials are not compared');
    expect(r.stdout).toContain("No changes. The platform matches the manifests. 1 integration's credentials not compared (acme/raw).");
    const strict = await orgctl(['plan', '-f', 'm', '--strict'], { cwd: dir, env: { S3_KEY: 'k' } });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('error: 1 warning with --strict; nothing was planned');
  });
});

describe('interrupts and reports', () => {
  let server: Served;
  let slow: Served;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir();
    mkdirSync(join(dir, 'm'));
    server = await serve(dir, { db: 'fail.db', extraArgs: ['--faults', 'POST /api/v1/orgs/*/invites/batch: 5xx=1'] });
    slow = await serve(dir, {
      db: 'slow.db',
      extraArgs: ['--faults', 'POST /api/v1/orgs/slowly/invites/batch: latency=5000ms; POST /api/v1/orgs/progress/invites/batch: latency=1200ms'],
    });
  });
  afterAll(async () => {
    await server?.stop();
    await slow?.stop();
  });

  it('failures are grouped by action and error with counts, the summary last; --verbose lists every person', async () => {
    writeOrg(join(dir, 'm'), { name: 'acme', members: [['ops@platform.example', 'owner'], ...people(30)] });
    const env = { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token, ORGCTL_BATCH_SIZE: '30' };
    const r = await orgctl(['apply', '-f', 'm', '--yes'], { cwd: dir, env });
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('Apply incomplete: 1 applied, 30 failed, 0 not attempted.');
    expect(r.stdout).toMatch(/failed \(30\):\n {2}invite x 30: POST \/api\/v1\/orgs\/acme\/invites\/batch: injected 503 \(503 unavailable\) \[acme\/p0@acme\.example, acme\/p10@acme\.example, acme\/p11@acme\.example, and 27 more\]\n/);
    expect(r.stdout.match(/injected 503/g)).toHaveLength(1);
    const verbose = await orgctl(['apply', '-f', 'm', '--yes', '--verbose'], { cwd: dir, env });
    expect(verbose.stdout).toContain('    acme/p29@acme.example\n');
  });

  it('a second Ctrl-C stops at once, gives the lock back and exits non-zero', async () => {
    const m = join(dir, 'slowly');
    mkdirSync(m);
    writeOrg(m, { name: 'slowly', members: [['ops@platform.example', 'owner'], ...people(20)] });
    const env = { ORGCTL_PLATFORM: slow.url, ORGCTL_TOKEN: slow.token, ORGCTL_BATCH_SIZE: '1' };
    const get = async (path: string) => (await fetch(`${slow.url}/api/v1/orgs/slowly${path}`, { headers: { authorization: `Bearer ${slow.token}` } })).status;
    const lease = () => get('/lease');
    const run = startOrgctl(['apply', '-f', m, '--yes'], { cwd: dir, env });
    // Once the organization exists, the apply is in its first invite call, which takes 5 s.
    await until(async () => (await get('')) === 200, 'the apply to be writing');
    run.child.kill('SIGINT');
    await until(() => run.stderr().includes('interrupt again to stop at once'), 'the first interrupt to be acknowledged');
    run.child.kill('SIGINT');
    const end = await run.done;
    expect(end.code).toBe(130);
    expect(end.stderr).toContain('second interrupt: stopping now; the change in flight may or may not have been applied (run plan to see)');
    expect(await lease()).toBe(404);
    // The next apply takes the lock at once (no --lock-timeout): nothing was left behind.
    const next = await orgctl(['apply', '-f', m, '--yes', '--batch-size', '100'], { cwd: dir, env });
    expect(next.stderr).not.toContain('is locked by');
    expect(next.stdout).toContain('Apply ');
  });

  it('on a terminal, slow work shows progress with elapsed time', async () => {
    const m = join(dir, 'progress');
    mkdirSync(m);
    writeOrg(m, { name: 'progress', members: [['ops@platform.example', 'owner'], ...people(3)] });
    const r = await onTerminal(['apply', '-f', m, '--yes', '--batch-size', '1'], { cwd: dir, env: { ORGCTL_PLATFORM: slow.url, ORGCTL_TOKEN: slow.token } });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/applied \d\/4 \([\d.]+\/s, about \d+s left, \d+s elapsed\)/);
  });
});

describe('what a plan shows', () => {
  it('an integration update shows which options change, before and after', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    const spec = (bucket: string): OrgSpec => ({ name: 'acme', members: [['root@acme.example', 'owner']], integrations: [{ name: 'arch', type: 'aws-cross', options: { roleArn: 'arn:aws:iam::1:role/r', bucket } }] });
    writeOrg(join(dir, 'm'), spec('old'));
    expect((await orgctl(['apply', '-f', 'm', '--yes'], { cwd: dir })).code).toBe(0);
    writeOrg(join(dir, 'm'), spec('new'));
    const r = await orgctl(['plan', '-f', 'm'], { cwd: dir });
    expect(r.stdout).toContain('~ update-integration arch (aws-cross) options.bucket: "old" -> "new"');
  });
});

describe('the platform\'s own commands', () => {
  it('token create says when it made an "Untitled Organization", needs an existing database, and takes only email addresses', async () => {
    const dir = tempDir();
    expect((await orgctl(['platform', 'init', '--db', 'p.db', '--org', 'acme', '--owner', 'root@acme.example'], { cwd: dir })).code).toBe(0);
    const bot = await orgctl(['platform', 'token', 'create', '--db', 'p.db', '--user', 'bot@ci.example'], { cwd: dir });
    expect(bot.code, bot.stderr).toBe(0);
    // Nobody may be in no organization (the platform's rule): one is made, and said.
    expect(bot.stderr).toMatch(/note: bot@ci\.example was in no organization; the platform made "untitled-\d+" \(Untitled Organization\) for them/);
    const again = await orgctl(['platform', 'token', 'create', '--db', 'p.db', '--user', 'bot@ci.example'], { cwd: dir });
    expect(again.stderr).not.toContain('Untitled');

    const missing = await orgctl(['platform', 'token', 'create', '--db', 'typo.db', '--user', 'bot@ci.example'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no platform database at typo.db: create one with orgctl platform init --db typo.db');
    const { existsSync } = await import('node:fs');
    expect(existsSync(join(dir, 'typo.db'))).toBe(false);
    expect(existsSync(join(dir, 'typo.db.key'))).toBe(false);

    for (const args of [
      ['platform', 'token', 'create', '--db', 'p.db', '--user', 'not-an-email'],
      ['platform', 'init', '--db', 'q.db', '--org', 'beta', '--owner', 'root'],
    ]) {
      const r = await orgctl(args, { cwd: dir });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/must be an email address: "(not-an-email|root)" has no "@"/);
    }
    expect(existsSync(join(dir, 'q.db'))).toBe(false);
  });
});

describe('a machine with neither $ORGCTL_USER nor a git email', () => {
  it('acts as admin@localhost.localdomain on the embedded platform, an address the platform takes', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    writeOrg(join(dir, 'm'), { name: 'acme', members: [['root@acme.example', 'owner']] });
    // HOME is the temp directory (no ~/.gitconfig), no system git config, and not inside a repository.
    const env = { ORGCTL_USER: undefined, GIT_CONFIG_NOSYSTEM: '1', GIT_CEILING_DIRECTORIES: dir };
    const r = await orgctl(['apply', '-f', 'm', '--yes'], { cwd: dir, env });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
  });
});

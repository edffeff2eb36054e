import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgctl, tempDir, writeOrg } from './cli.js';
import { onTerminal } from './pty.js';
import { serve, type Served } from './server.js';

// A new user's first hour, as someone who knows kubectl and Terraform makes the usual mistakes (issue 17).

const ORG = (name: string, members: [string, string][]) => ({ name, displayName: name, members });

describe('exit codes CI can trust', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'm'));
  writeOrg(join(dir, 'm'), ORG('acme', [['root@acme.example', 'owner']]));
  const run = (args: string[]) => orgctl(args, { cwd: dir });

  it('plan --detailed-exitcode uses 2 only for "changes present"; every error, bad flags included, is 1', async () => {
    expect((await run(['plan', '-f', 'm', '--detailed-exitcode'])).code).toBe(2);
    for (const bad of [['--max-removals', 'abc'], ['--max-removal', '3'], ['--lock-ttl', '1s']]) {
      const r = await run(['plan', '-f', 'm', '--detailed-exitcode', ...bad]);
      expect(r.code, `${bad.join(' ')}: ${r.stderr}`).toBe(1);
    }
    // Without it, bad flags are 2 as documented; diff keeps kubectl's table (2: error).
    expect((await run(['plan', '-f', 'm', '--max-removals', 'abc'])).code).toBe(2);
    expect((await run(['diff', '-f', 'm', '--max-removal', '3'])).code).toBe(2);
  });

  it('a misspelt option gets a "did you mean"', async () => {
    const r = await run(['plan', '--file', 'm']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--file'; did you mean --filename (-f)?");
    const m = await run(['plan', '-f', 'm', '--max-removal', '3']);
    expect(m.stderr).toContain('did you mean --max-removals?');
  });

  it('Terraform-habit flags get a hint to orgctl\'s own', async () => {
    for (const [args, hint] of [
      [['plan', '-f', 'm', '-out=plan.json'], '-out is Terraform\'s spelling; orgctl takes --out FILE'],
      [['plan', '-f', 'm', '-no-color'], 'orgctl takes --no-color'],
      [['apply', '-f', 'm', '-auto-approve'], 'orgctl takes --yes'],
      [['apply', '-f', 'm', '--auto-approve'], 'did you mean --yes (-y)?'],
    ] as const) {
      const r = await run([...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(hint);
    }
    expect(existsSync(join(dir, 'plan.json'))).toBe(false);
  });

  it('empty input is an error, as kubectl\'s "no objects passed", for validate, plan and apply alike', async () => {
    writeFileSync(join(dir, 'comments.yaml'), '# nothing here yet\n---\n');
    for (const [args, input] of [
      [['validate', '-f', '-'], ''],
      [['plan', '-f', '-'], ''],
      [['apply', '-f', '-', '--yes'], ''],
      [['plan', '-f', 'comments.yaml'], ''],
    ] as const) {
      const r = await orgctl([...args], { cwd: dir, input });
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(1);
      expect(r.stderr).toContain('no objects passed: no Organization, Membership or Integration found');
    }
  });

  it('says "1 problem", once, after the details', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: orgctl.dev/v1alpha1\nkind: Organization\nmetadata:\n  name: acme\nspec:\n  plan: gold\n');
    const r = await run(['plan', '-f', 'bad.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml:6:9: spec\.plan: unsupported value "gold".*\nerror: 1 problem in the manifests; nothing was planned\n$/);
    expect(r.stderr).not.toContain('problem(s)');
  });

  it('plan -o json says why it failed on standard output, as JSON', async () => {
    const r = await run(['plan', '-f', 'bad.yaml', '-o', 'json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { error: string; diagnostics: { file: string; line: number; column: number; path: string }[] };
    expect(doc.error).toBe('1 problem in the manifests; nothing was planned');
    expect(doc.diagnostics).toMatchObject([{ file: 'bad.yaml', line: 6, column: 9, path: 'spec.plan' }]);
  });

  it('refuses a lock timeout without a unit and a batch size over the documented limit', async () => {
    const t = await run(['apply', '-f', 'm', '--yes', '--lock-timeout', '5']);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain('--lock-timeout must be a duration with a unit, such as 30s');
    const b = await run(['apply', '-f', 'm', '--yes', '--batch-size', '5000']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('the batch size must be a whole number from 1 to 1000, not "5000"');
  });

  it('prints one version form, whichever way it is asked', async () => {
    const a = await run(['--version']);
    const b = await run(['version']);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toMatch(/^orgctl \d+\.\d+\.\d+\n$/);
  });
});

describe('what a plan promises', () => {
  it('plan on a machine where nothing was applied creates nothing, and says it plans against an empty platform', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    writeOrg(join(dir, 'm'), ORG('acme', [['root@acme.example', 'owner']]));
    const plan = await orgctl(['plan', '-f', 'm', '--out', 'p.json'], { cwd: dir });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toContain('note: no embedded platform at .orgctl/platform.db yet: planning against an empty one (orgctl apply creates it)');
    expect(plan.stdout).toContain('+ create-organization acme');
    expect(existsSync(join(dir, '.orgctl'))).toBe(false);
    // The saved plan names the real file, so it applies there; apply creates it and says so.
    const apply = await orgctl(['apply', 'p.json'], { cwd: dir });
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stderr).toContain('note: created the embedded platform at .orgctl/platform.db');
    expect(existsSync(join(dir, '.orgctl/platform.db'))).toBe(true);
  });

  it('a file: platform that is not a database is refused, and nothing is left beside it', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    writeOrg(join(dir, 'm'), ORG('acme', [['root@acme.example', 'owner']]));
    writeFileSync(join(dir, 'notes.txt'), 'not a database\n');
    const r = await orgctl(['apply', '-f', 'm', '--yes', '--platform', 'file:notes.txt'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not an orgctl platform database (not an SQLite file)');
    expect(existsSync(join(dir, 'notes.txt.key'))).toBe(false);
    const p = await orgctl(['plan', '-f', 'm', '--platform', `file:${join(dir, 'new/dir/x.db')}`], { cwd: dir });
    expect(p.code).toBe(0);
    expect(existsSync(join(dir, 'new'))).toBe(false);
  });

  it('demoting the creator is refused at plan time, as removing them is', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    writeOrg(join(dir, 'm'), ORG('acme', [['root@acme.example', 'owner'], ['b@acme.example', 'owner']]));
    expect((await orgctl(['apply', '-f', 'm', '--yes'], { cwd: dir })).code).toBe(0);
    writeOrg(join(dir, 'm'), ORG('acme', [['root@acme.example', 'admin']]));
    const r = await orgctl(['plan', '-f', 'm', '--allow-owner-changes'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('guard creator: the plan would demote (owner -> admin) root@acme.example, who created "acme"');
  });
});

describe('kubectl and Terraform habits', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'm'));
  writeOrg(join(dir, 'm'), ORG('acme', [['root@acme.example', 'owner']]));
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => orgctl(args, { cwd: dir, env });

  it('a saved plan is applied without asking, off a terminal, as Terraform does', async () => {
    expect((await run(['plan', '-f', 'm', '--out', 'p.json'])).code).toBe(0);
    const r = await run(['apply', 'p.json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Apply complete: 1 applied');
    // Manifests still need --yes off a terminal.
    writeOrg(join(dir, 'm'), ORG('acme', [['root@acme.example', 'owner'], ['n@acme.example', 'member']]));
    const refused = await run(['apply', '-f', 'm']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('standard input is not a terminal; pass --yes');
  });

  it('apply FILE.yaml hints -f; a plan after -f is refused clearly', async () => {
    const yaml = await run(['apply', 'm/acme.yaml']);
    expect(yaml.code).toBe(2);
    expect(yaml.stderr).toContain('m/acme.yaml holds manifests, not a saved plan: pass manifests with -f (orgctl apply -f m/acme.yaml)');
    expect((await run(['plan', '-f', 'm', '--out', 'p2.json'])).code).toBe(0);
    const mixed = await run(['apply', '-f', 'm', 'p2.json']);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('p2.json is a saved plan, passed with -f among manifests: apply a saved plan alone (orgctl apply p2.json)');
  });

  it('set-context never switches the current context', async () => {
    const env = { ORGCTL_CONFIG: join(dir, 'config.yaml') };
    const set = await run(['config', 'set-context', 'prod', '--platform', 'https://orgs.example', '--token-file', 'tok'], env);
    expect(set.code).toBe(0);
    expect(set.stderr).toContain('"prod" is not the current context; switch with: orgctl config use-context prod');
    expect((await run(['config', 'current-context'], env)).code).toBe(1);
    // The plan still goes to the embedded platform, not to prod.
    const plan = await run(['plan', '-f', 'm'], env);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('(embedded:');
    // The token file is stored absolute: the config is read from wherever orgctl runs next.
    expect(readFileSync(env.ORGCTL_CONFIG, 'utf8')).toContain(`tokenFile: ${join(dir, 'tok')}`);
    const view = await run(['config', 'view'], env);
    expect(view.stdout).toContain('name: prod');
    expect((await run(['config', 'delete-context', 'prod'], env)).code).toBe(0);
    expect((await run(['config', 'get-contexts'], env)).stdout).not.toContain('prod');
    expect((await run(['config', 'delete-context', 'prod'], env)).code).toBe(1);
  });
});

describe('errors that say what is wrong', () => {
  let html: Server;
  let htmlUrl: string;
  let server: Served;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir();
    mkdirSync(join(dir, 'm'));
    writeOrg(join(dir, 'm'), ORG('acme', [['root@acme.example', 'owner']]));
    html = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<!doctype html><html><body><h1>Welcome to nginx!</h1>SECRET-PAGE-BODY</body></html>');
    });
    await new Promise<void>((r) => html.listen(0, '127.0.0.1', r));
    htmlUrl = `http://127.0.0.1:${(html.address() as AddressInfo).port}`;
    server = await serve(dir);
  });
  afterAll(async () => {
    html?.close();
    await server?.stop();
  });

  it('a server that is not orgctl is named as such, its page not echoed, and nothing is planned', async () => {
    const r = await orgctl(['plan', '-f', 'm'], { cwd: dir, env: { ORGCTL_PLATFORM: htmlUrl, ORGCTL_TOKEN: 't' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not an orgctl platform API: HTTP 404');
    expect(r.stderr).not.toContain('SECRET-PAGE-BODY');
    expect(r.stdout).not.toContain('create-organization');
  });

  it('https:// to a plain-HTTP port says what is likely wrong', async () => {
    const r = await orgctl(['plan', '-f', 'm'], { cwd: dir, env: { ORGCTL_PLATFORM: server.url.replace('http:', 'https:'), ORGCTL_TOKEN: server.token } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('TLS handshake failed: is the server plain HTTP? (try http://)');
  });

  it('an organization the token cannot see is not planned as new: the plan fails and says why', async () => {
    const env = { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token };
    expect((await orgctl(['apply', '-f', 'm', '--yes'], { cwd: dir, env })).code).toBe(0);
    const outsider = await orgctl(['platform', 'token', 'create', '--db', 'server.db', '--user', 'outsider@other.example'], { cwd: dir });
    expect(outsider.code, outsider.stderr).toBe(0);
    const r = await orgctl(['plan', '-f', 'm', '--detailed-exitcode'], { cwd: dir, env: { ...env, ORGCTL_TOKEN: outsider.stdout.trim() } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`organization "acme" exists on ${server.url}, but outsider@other.example cannot see it (not a member)`);
    expect(r.stdout).not.toContain('create-organization');
  });

  it('the saved-plan hint gives the command that works, --platform included', async () => {
    const r = await orgctl(['plan', '-f', 'm', '--out', 'p.json', '--platform', server.url], { cwd: dir, env: { ORGCTL_TOKEN: server.token } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`apply exactly it with: orgctl apply --platform ${server.url} p.json`);
  });

  it('diff exits 2 on errors, a missing token included', async () => {
    const r = await orgctl(['diff', '-f', 'm'], { cwd: dir, env: { ORGCTL_PLATFORM: server.url } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no token for');
  });

  it('paths the user names that cannot be written are user errors, not internal ones', async () => {
    writeFileSync(join(dir, 'a-file'), 'x');
    for (const [args, message] of [
      [['plan', '-f', 'm', '--out', 'missing-dir/plan.json'], 'cannot write the plan to missing-dir/plan.json: the directory does not exist'],
      [['schema', '--out', 'a-file'], 'cannot write schemas into a-file: a file is in the way'],
      [['export', '--org', 'acme', '--out', 'a-file'], 'cannot write the export into a-file: a file is in the way'],
    ] as const) {
      const r = await orgctl([...args], { cwd: dir, env: { ORGCTL_PLATFORM: server.url, ORGCTL_TOKEN: server.token } });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toContain('internal error');
    }
    const abs = join(dir, 'abs-schemas');
    const s = await orgctl(['schema', '--out', abs], { cwd: join(dir, 'm') });
    expect(s.code).toBe(0);
    expect(existsSync(join(abs, 'orgctl.json'))).toBe(true);
  });
});

describe('on a terminal', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'm'));
  writeOrg(join(dir, 'm'), ORG('acme', [['root@acme.example', 'owner'], ...Array.from({ length: 60 }, (_, i): [string, string] => [`w${i}@acme.example`, 'worker'])]));

  it('Ctrl-C or Ctrl-D at the confirmation cancels cleanly: nothing written, exit 1', async () => {
    for (const key of ['\u0003', '\u0004']) {
      const r = await onTerminal(['apply', '-f', 'm'], { cwd: dir, prompt: /Only 'yes' will be accepted: /, keys: key });
      expect(r.code, r.output).toBe(1);
      expect(r.output).toContain('apply cancelled; nothing was written');
      expect(r.output).not.toContain('internal error');
    }
    expect((await orgctl(['plan', '-f', 'm', '--detailed-exitcode'], { cwd: dir })).code).toBe(2);
  });

  it('a long run of one action is cut to 20 with a count; --full and pipes show all', async () => {
    const cut = await onTerminal(['plan', '-f', 'm'], { cwd: dir });
    expect(cut.output).toContain('... and 40 more invites as worker; -o json, --out or --full for all');
    expect(cut.output.match(/\+ invite/g)).toHaveLength(20);
    const full = await onTerminal(['plan', '-f', 'm', '--full'], { cwd: dir });
    expect(full.output.match(/\+ invite/g)).toHaveLength(60);
    const piped = await orgctl(['plan', '-f', 'm'], { cwd: dir });
    expect(piped.stdout.match(/\+ invite/g)).toHaveLength(60);
  });

  it('says it is retrying when the platform refuses connections, instead of seeming to hang', async () => {
    const r = await onTerminal(['plan', '-f', 'm'], { cwd: dir, env: { ORGCTL_PLATFORM: 'http://127.0.0.1:1', ORGCTL_TOKEN: 't' } });
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/GET \/api\/v1\/me: .*ECONNREFUSED.*; retrying in \d+\.\ds \(attempt 2\)/);
    expect(r.output).toContain('cannot reach http://127.0.0.1:1');
  });

  it('colours on a terminal, none with NO_COLOR or TERM=dumb', async () => {
    expect((await onTerminal(['plan', '-f', 'm'], { cwd: dir })).output).toContain('\u001b[32m');
    expect((await onTerminal(['plan', '-f', 'm'], { cwd: dir, env: { NO_COLOR: '1' } })).output).not.toContain('\u001b[32m');
    expect((await onTerminal(['plan', '-f', 'm'], { cwd: dir, env: { TERM: 'dumb' } })).output).not.toContain('\u001b[32m');
  });

  it('asks when standard input is a terminal, even with standard output redirected to a log', async () => {
    const r = await onTerminal(['apply', '-f', 'm'], { cwd: dir, prompt: /Only 'yes' will be accepted: /, keys: 'yes\r', redirect: join(dir, 'apply.log') });
    expect(r.code, r.output).toBe(0);
    expect(readFileSync(join(dir, 'apply.log'), 'utf8')).toContain('Apply complete: 61 applied');
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveFingerprintKey, keyedFingerprint, SecretBox } from '../../src/server/crypto.js';
import { Database } from '../../src/server/sqlite.js';
import { BIN, orgctl, tempDir, writeOrg, type Run } from './cli.js';

/**
 * Secrets never leave where they were put. Every command of the CLI runs with canary values (unique random
 * strings) as integration credentials (env and file), as the platform API token (ORGCTL_TOKEN and
 * ORGCTL_TOKEN_FILE), as ORGCTL_PLATFORM_KEY, and with the tokens `platform init` and `token create` print;
 * on the embedded platform and over HTTP (plain, with request stats, and with injected faults); on success
 * and error paths. Then every output, every file orgctl or the server wrote (plans, exports, config, logs,
 * SQLite files with their -wal) and every database row is scanned for each canary, raw, base64 and hex.
 */

// ---- canaries and the scanner ----

interface Canary {
  label: string;
  value: string;
  /** Byte strings whose presence is a leak: the value and its encodings. */
  needles: { encoding: string; bytes: Buffer }[];
}

const canaries: Canary[] = [];

function needlesOf(value: string, extra: { encoding: string; bytes: Buffer }[] = []): Canary['needles'] {
  const raw = Buffer.from(value, 'utf8');
  return [
    { encoding: 'raw', bytes: raw },
    { encoding: 'base64', bytes: Buffer.from(raw.toString('base64').replace(/=+$/, '')) },
    { encoding: 'base64url', bytes: Buffer.from(raw.toString('base64url')) },
    { encoding: 'hex', bytes: Buffer.from(raw.toString('hex')) },
    { encoding: 'HEX', bytes: Buffer.from(raw.toString('hex').toUpperCase()) },
    { encoding: 'utf16le', bytes: Buffer.from(value, 'utf16le') },
    ...extra,
  ];
}

function addCanary(label: string, value: string, extra: { encoding: string; bytes: Buffer }[] = []): string {
  canaries.push({ label, value, needles: needlesOf(value, extra) });
  return value;
}

const canary = (label: string) => addCanary(label, `CANARY-${randomBytes(12).toString('hex')}`);

interface Finding {
  where: string;
  canary: string;
  encoding: string;
}

/** Every canary (but `except`) found in `content`, by where and how it was encoded; never the value itself. */
function scan(where: string, content: string | Buffer, except: ReadonlySet<string> = new Set()): Finding[] {
  const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const found: Finding[] = [];
  for (const c of canaries) {
    if (except.has(c.value)) continue;
    for (const n of c.needles) if (buf.includes(n.bytes)) found.push({ where, canary: c.label, encoding: n.encoding });
  }
  return found;
}

// ---- what was seen ----

interface Seen {
  label: string;
  run: Run;
  /** The token this command exists to print: allowed (only) on its standard output. */
  prints?: string;
}

const runs: Seen[] = [];
/** Files written on purpose holding canaries (credential and token files, leaky manifests): not scanned. */
const sources = new Set<string>();
/** Byte snapshots taken while processes still ran (SQLite -wal files vanish on a clean close). */
const snapshots: { where: string; bytes: Buffer }[] = [];
const roots: string[] = [];
const databases: { file: string; strict: boolean }[] = [];

const baseEnv = (): NodeJS.ProcessEnv => ({ ...credsA });

async function cli(label: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; input?: string }, prints?: (r: Run) => string): Promise<Run> {
  const run = await orgctl(args, opts);
  runs.push({ label, run, prints: prints?.(run) });
  return run;
}

function source(path: string, text: string): string {
  writeFileSync(path, text);
  sources.add(path);
  return path;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function snapshotDatabases(dir: string, when: string): void {
  for (const f of walk(dir)) {
    if (/\.db(-wal|-shm|-journal)?$|\.key$/.test(f) && statSync(f).size > 0) snapshots.push({ where: `${f} (${when})`, bytes: readFileSync(f) });
  }
}

// ---- the canaries ----

const ENV = {
  s3Id: 'ACME_S3_ACCESS_KEY_ID',
  s3Secret: 'ACME_S3_SECRET_ACCESS_KEY',
  azSecret: 'ACME_AZ_CLIENT_SECRET',
  kvValue: 'ACME_KV_VALUE',
  regPassword: 'ACME_REGISTRY_PASSWORD',
} as const;

function credentialSet(tag: string) {
  return {
    env: {
      [ENV.s3Id]: canary(`${tag} s3 accessKeyId (env)`),
      [ENV.s3Secret]: canary(`${tag} s3 secretAccessKey (env)`),
      [ENV.azSecret]: canary(`${tag} azureblob clientSecret (env)`),
      [ENV.kvValue]: canary(`${tag} key_value value (env)`),
      [ENV.regPassword]: canary(`${tag} private-registry password (env)`),
    } as Record<string, string>,
    gcsKey: canary(`${tag} gcs private key inside serviceAccountJson (file)`),
    minioId: canary(`${tag} minio accessKeyId (file)`),
    minioSecret: canary(`${tag} minio secretAccessKey (file)`),
  };
}

const setA = credentialSet('set A');
const setB = credentialSet('set B (rotated)');
const credsA = setA.env;
const credsB = setB.env;
/** 43 base64 characters: ORGCTL_PLATFORM_KEY decodes it to the 32 bytes the platform takes. */
const keyText = `CANARY-${randomBytes(18).toString('hex')}`;
const keyBytes = Buffer.from(keyText, 'base64');
addCanary('ORGCTL_PLATFORM_KEY', keyText, [{ encoding: 'decoded key bytes', bytes: keyBytes }]);
const apiToken = canary('platform API token (a valid one)');
const badToken = canary('wrong platform API token');
const flagToken = canary('token passed as a (nonexistent) flag');
/** Tokens that cannot go into a header: a token file with a second line, a non-ASCII character. */
const twoLineToken = `${canary('token with a line break, first line')}\n${canary('token with a line break, second line')}`;
const nonAsciiToken = `${canary('token with a non-ASCII character')}\u20ac`;
const urlPassword = canary('password written into the platform URL');
const inline = {
  option: canary('inline options.secret'),
  credentials: canary('inline spec.credentials'),
  refToken: canary('inline credentialsRef.token'),
  envValue: canary('value written as credentialsRef.env variable name'),
  sessionToken: canary('inline options.sessionToken'),
  stdin: canary('inline secret on standard input'),
};
const badFile = {
  yaml: canary('value in a credentials file that is not YAML'),
  scalar: canary('credentials file holding a bare value'),
  nested: canary('nested value in a credentials file'),
};

const ORG = 'acme-secrets';
const PEOPLE: [string, string][] = [
  [`boss@${ORG}.example`, 'owner'],
  [`ann@${ORG}.example`, 'admin'],
  [`bob@${ORG}.example`, 'worker'],
];

function writeCredentialFiles(dir: string, set: ReturnType<typeof credentialSet>): void {
  mkdirSync(join(dir, 'secrets'), { recursive: true });
  const serviceAccountJson = JSON.stringify({ type: 'service_account', project_id: 'acme', private_key: `-----BEGIN PRIVATE KEY-----\n${set.gcsKey}\n-----END PRIVATE KEY-----\n` });
  source(join(dir, 'secrets/gcs.yaml'), `serviceAccountJson: ${JSON.stringify(serviceAccountJson)}\n`);
  source(join(dir, 'secrets/minio.json'), `${JSON.stringify({ accessKeyId: set.minioId, secretAccessKey: set.minioSecret })}\n`);
}

/** The organization with an integration of each credentialed type: env references and file references. */
function writeManifests(dir: string): void {
  mkdirSync(join(dir, 'm'), { recursive: true });
  const file = writeOrg(join(dir, 'm'), {
    name: ORG,
    displayName: 'Acme Secrets',
    policy: 'authoritative',
    integrationsPolicy: 'authoritative',
    members: PEOPLE,
    integrations: [
      { name: 'raw', type: 's3', options: { bucket: 'raw', region: 'eu-west-1' }, env: { accessKeyId: ENV.s3Id, secretAccessKey: ENV.s3Secret } },
      { name: 'blobs', type: 'azureblob', options: { container: 'c', accountName: 'acct', tenantId: 't', clientId: 'cid' }, env: { clientSecret: ENV.azSecret } },
      { name: 'kv', type: 'key_value', env: { value: ENV.kvValue } },
      { name: 'registry', type: 'private-registry', options: { server: 'registry.example', username: 'robot' }, env: { password: ENV.regPassword } },
    ],
  });
  const fileIntegration = (name: string, type: string, options: Record<string, string>, ref: string) =>
    [
      '---',
      'apiVersion: orgctl.dev/v1alpha1',
      'kind: Integration',
      `metadata: {name: ${ORG}-${name}}`,
      'spec:',
      `  organization: ${ORG}`,
      `  name: ${name}`,
      `  type: ${type}`,
      `  options: ${JSON.stringify(options)}`,
      `  credentialsRef: {file: ${ref}}`,
      '',
    ].join('\n');
  writeFileSync(
    file,
    readFileSync(file, 'utf8') +
      fileIntegration('models', 'gcs', { bucket: 'models', projectId: 'acme' }, '../secrets/gcs.yaml') +
      fileIntegration('lake', 'minio', { bucket: 'lake', endpoint: 'https://minio.example' }, '../secrets/minio.json'),
  );
  writeCredentialFiles(dir, setA);

  // Mistakes: secret values written into manifests (refused without echoing them).
  mkdirSync(join(dir, 'bad'), { recursive: true });
  source(
    join(dir, 'bad/inline.yaml'),
    [
      'apiVersion: orgctl.dev/v1alpha1',
      'kind: Organization',
      `metadata: {name: ${ORG}}`,
      'spec: {displayName: Acme}',
      '---',
      'apiVersion: orgctl.dev/v1alpha1',
      'kind: Integration',
      'metadata: {name: leaky}',
      'spec:',
      `  organization: ${ORG}`,
      '  name: leaky',
      '  type: s3',
      `  options: {bucket: b, secret: ${inline.option}, sessionToken: "${inline.sessionToken}"}`,
      `  credentials: {secretAccessKey: ${inline.credentials}}`,
      '  credentialsRef:',
      `    token: ${inline.refToken}`,
      '---',
      'apiVersion: orgctl.dev/v1alpha1',
      'kind: Integration',
      'metadata: {name: leaky-env}',
      'spec:',
      `  organization: ${ORG}`,
      '  name: leaky-env',
      '  type: s3',
      '  credentialsRef:',
      `    env: {accessKeyId: ${ENV.s3Id}, secretAccessKey: "${inline.envValue}"}`,
      '',
    ].join('\n'),
  );

  // A credentials variable that is not set, next to all the others that are.
  mkdirSync(join(dir, 'missing'), { recursive: true });
  writeOrg(join(dir, 'missing'), {
    name: 'acme-missing',
    members: [[`boss@acme-missing.example`, 'owner']],
    integrations: [
      { name: 'raw', type: 's3', env: { accessKeyId: ENV.s3Id, secretAccessKey: 'ACME_NOT_SET_SECRET' } },
      { name: 'kv', type: 'key_value', env: { value: ENV.kvValue } },
    ],
  });

  // Credential files orgctl cannot use: their content must not be quoted in the errors.
  mkdirSync(join(dir, 'badfile'), { recursive: true });
  source(join(dir, 'secrets/broken.yaml'), `secretAccessKey: ${badFile.yaml}: [unclosed\n  "${badFile.yaml}\n`);
  source(join(dir, 'secrets/scalar.yaml'), `${badFile.scalar}\n`);
  source(join(dir, 'secrets/nested.yaml'), `accessKeyId: {inner: ${badFile.nested}}\nsecretAccessKey: [${badFile.nested}]\n`);
  const badRef = (name: string, ref: string) =>
    ['---', 'apiVersion: orgctl.dev/v1alpha1', 'kind: Integration', `metadata: {name: bf-${name}}`, 'spec:', '  organization: acme-badfile', `  name: ${name}`, '  type: s3', `  credentialsRef: {file: ${ref}}`, ''].join('\n');
  const bf = writeOrg(join(dir, 'badfile'), { name: 'acme-badfile', members: [[`boss@acme-badfile.example`, 'owner']] });
  writeFileSync(bf, readFileSync(bf, 'utf8') + badRef('broken', '../secrets/broken.yaml') + badRef('scalar', '../secrets/scalar.yaml') + badRef('nested', '../secrets/nested.yaml'));
}

/** Mistyped "token" flags: an unknown option must not be echoed with its value. */
async function wrongFlags(dir: string, env: NodeJS.ProcessEnv, tag: string): Promise<void> {
  const cases: string[][] = [
    ['plan', '-f', 'm', `--token=${flagToken}`],
    ['apply', '-f', 'm', '--yes', '--token', flagToken],
    ['diff', '-f', 'm', `--api-key=${flagToken}`],
    ['config', 'set-context', 'x', '--platform', 'http://127.0.0.1:9', `--token=${flagToken}`],
    ['platform', 'invites', 'accept', '--org', ORG, '--email', 'a@b.example', `--token=${flagToken}`],
    ['export', '--org', ORG, `-t${flagToken}`],
  ];
  for (const args of cases) {
    const r = await cli(`${tag}: wrong flag: orgctl ${args.slice(0, 2).join(' ')} ...`, args, { cwd: dir, env });
    expect(r.code, r.stderr).toBe(2);
    // The option is still named, so the user knows what was wrong.
    expect(r.stderr).toMatch(/unknown option '(--token|--api-key|-t)'/);
  }
}

// ---- the server ----

interface Server {
  url: string;
  child: ChildProcess;
  out: () => string;
  err: () => string;
  stop: () => Promise<void>;
}

const servers: Server[] = [];

async function startServer(dir: string, db: string, extraArgs: string[]): Promise<Server> {
  const child = spawn(process.execPath, [BIN, 'platform', 'serve', '--db', db, '--port', '0', '--log', ...extraArgs], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir, ORGCTL_PLATFORM_KEY: keyText },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const server: Server = {
    url: '',
    child,
    out: () => out,
    err: () => err,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  servers.push(server);
  server.url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`platform serve exited with ${code} before listening: ${err}`)));
  });
  return server;
}

/** Registers a canary bearer token for `email` directly in the database: tokens are stored as their SHA-256. */
function registerToken(db: string, email: string, token: string): void {
  const conn = new Database(db);
  try {
    const user = conn.prepare('SELECT id FROM users WHERE email = ?').get(email) as { id: number };
    conn.prepare('INSERT INTO tokens (user_id, name, hash, created_at) VALUES (?, ?, ?, ?)').run(user.id, 'canary', createHash('sha256').update(token).digest('hex'), Date.now());
  } finally {
    conn.close();
  }
}

// ---- scenarios ----

async function embeddedScenario(): Promise<void> {
  const dir = tempDir('orgctl-secrets-embedded-');
  roots.push(dir);
  databases.push({ file: join(dir, '.orgctl/platform.db'), strict: true }, { file: join(dir, 'other.db'), strict: true });
  writeManifests(dir);
  const env = { ...baseEnv(), ORGCTL_PLATFORM_KEY: keyText };
  const run = (label: string, args: string[], extra: NodeJS.ProcessEnv = {}, input?: string) => cli(`embedded: ${label}`, args, { cwd: dir, env: { ...env, ...extra }, input });

  expect((await run('validate', ['validate', '-f', 'm'])).code).toBe(0);
  await run('validate -o json', ['validate', '-f', 'm', '-o', 'json', '--strict']);
  await run('schema', ['schema']);
  await run('schema Integration', ['schema', 'Integration']);
  await run('schema --out', ['schema', '--out', 'schemas']);
  await run('version', ['version']);
  expect((await run('plan', ['plan', '-f', 'm', '--detailed-exitcode'])).code).toBe(2);
  await run('plan -o json', ['plan', '-f', 'm', '-o', 'json']);
  const saved = await run('plan --out', ['plan', '-f', 'm', '--out', 'plan.json']);
  expect(saved.code, saved.stderr).toBe(0);
  expect((await run('diff (drift)', ['diff', '-f', 'm'])).code).toBe(1);
  const applied = await run('apply plan.json', ['apply', 'plan.json', '--yes']);
  expect(applied.code, applied.stdout + applied.stderr).toBe(0);
  expect((await run('plan (converged)', ['plan', '-f', 'm', '--detailed-exitcode'])).code).toBe(0);
  snapshotDatabases(dir, 'after the first apply');

  // Rotated credentials: update-integration sends the new values.
  writeCredentialFiles(dir, setB);
  const rotated = await run('plan (rotated)', ['plan', '-f', 'm', '-o', 'json', '--out', 'rotated.json'], credsB);
  expect(rotated.stdout).toContain('update-integration');
  const rotate = await run('apply (rotated)', ['apply', '-f', 'm', '--yes'], credsB);
  expect(rotate.code, rotate.stdout + rotate.stderr).toBe(0);
  expect((await run('diff (rotated)', ['diff', '-f', 'm'], credsB)).code).toBe(0);
  // With the old values: the fingerprints say they differ.
  expect((await run('diff (old values)', ['diff', '-f', 'm'])).code).toBe(1);

  expect((await run('invites accept', ['platform', 'invites', 'accept', '--org', ORG, '--email', PEOPLE[1]![0]])).code).toBe(0);
  await run('export (stdout)', ['export', '--org', ORG]);
  expect((await run('export --out', ['export', '--org', ORG, '--out', 'exported'])).code).toBe(0);
  await run('plan of the export', ['plan', '-f', 'exported']);
  await run('force-unlock', ['force-unlock', ORG]);
  // Tokens on the embedded database: made, listed (never shown again), revoked; the default expiry.
  const embeddedToken = (
    await cli('embedded: platform token create --scope read', ['platform', 'token', 'create', '--user', 'pr@acme.example', '--scope', 'read', '--expires-in', '90d'], { cwd: dir, env }, (r) => {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${r.stdout.trim()}\n`);
      return addCanary('token printed by embedded: platform token create --scope read', r.stdout.trim());
    })
  ).stdout.trim();
  expect(embeddedToken).toMatch(/^orgctl_/);
  expect((await run('token list', ['platform', 'token', 'list'])).code).toBe(0);
  expect((await run('token list -o json --all', ['platform', 'token', 'list', '-o', 'json', '--all'])).code).toBe(0);
  expect((await run('token default-expiry 30d', ['platform', 'token', 'default-expiry', '30d'])).code).toBe(0);
  expect((await run('token revoke', ['platform', 'token', 'revoke', 'cli', '--user', 'pr@acme.example'])).code).toBe(0);
  expect((await run('token revoke (unknown)', ['platform', 'token', 'revoke', 'nope'])).code).toBe(1);
  const other = await run('apply to file:other.db', ['apply', '-f', 'm', '--yes'], { ORGCTL_PLATFORM: 'file:other.db', ...credsB });
  expect(other.code, other.stderr).toBe(0);

  // Error paths.
  expect((await run('validate (inline secrets)', ['validate', '-f', 'bad'])).code).toBe(1);
  await run('validate -o json (inline secrets)', ['validate', '-f', 'bad', '-o', 'json']);
  await run('validate stdin (inline secret)', ['validate', '-f', '-'], {}, readFileSync(join(dir, 'bad/inline.yaml'), 'utf8').replace(inline.option, inline.stdin));
  expect((await run('plan (inline secrets)', ['plan', '-f', 'bad'])).code).toBe(1);
  expect((await run('apply (inline secrets)', ['apply', '-f', 'bad', '--yes'])).code).toBe(1);
  const missing = await run('plan (variable not set)', ['plan', '-f', 'missing']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('ACME_NOT_SET_SECRET');
  expect((await run('apply (variable not set)', ['apply', '-f', 'missing', '--yes'])).code).toBe(1);
  const broken = await run('plan (unusable credential files)', ['plan', '-f', 'badfile']);
  expect(broken.code).toBe(1);
  expect(broken.stderr).toContain('broken.yaml');
  expect((await run('bad ORGCTL_PLATFORM_KEY', ['plan', '-f', 'm'], { ORGCTL_PLATFORM_KEY: `${keyText}AAAA` })).code).toBe(1);
  await wrongFlags(dir, env, 'embedded');
  snapshotDatabases(dir, 'at the end');
}

async function httpScenario(tag: string, serveArgs: string[], strict: boolean): Promise<void> {
  const dir = tempDir(`orgctl-secrets-${tag.replace(/\W+/g, '-')}-`);
  roots.push(dir);
  const db = join(dir, 'server.db');
  databases.push({ file: db, strict });
  writeManifests(dir);
  const keyEnv = { ORGCTL_PLATFORM_KEY: keyText };
  const admin = (label: string, args: string[]) =>
    cli(`${tag}: ${label}`, args, { cwd: dir, env: keyEnv }, (r) => {
      const token = r.stdout.trim();
      expect(r.code, r.stderr).toBe(0);
      // Exactly the token, nothing else, is allowed on this standard output.
      expect(r.stdout).toBe(`${token}\n`);
      addCanary(`token printed by ${tag}: ${label}`, token);
      return token;
    });
  await admin('platform init', ['platform', 'init', '--db', 'server.db', '--org', 'bootstrap', '--owner', 'ops@platform.example']);
  const ciToken = (await admin('platform token create', ['platform', 'token', 'create', '--db', 'server.db', '--user', 'ci@platform.example', '--name', 'ci', '--superuser'])).stdout.trim();
  const readToken = (
    await admin('platform token create --scope read', ['platform', 'token', 'create', '--db', 'server.db', '--user', 'ci@platform.example', '--name', 'ci-read', '--scope', 'read', '--expires-in', '90d'])
  ).stdout.trim();
  registerToken(db, 'ops@platform.example', apiToken);
  const tokenFile = source(join(dir, 'secrets/token'), `${apiToken}\n`);
  const badTokenFile = source(join(dir, 'secrets/bad-token'), `${badToken}\n`);

  const server = await startServer(dir, 'server.db', serveArgs);
  const env = { ...baseEnv(), ...keyEnv, ORGCTL_PLATFORM: server.url };
  const run = (label: string, args: string[], extra: NodeJS.ProcessEnv = { ORGCTL_TOKEN: apiToken }) => cli(`${tag}: ${label}`, args, { cwd: dir, env: { ...env, ...extra } });
  const ok = (r: Run) => {
    if (strict) expect(r.code, r.stdout + r.stderr).toBe(0);
  };
  const stats = { ORGCTL_TOKEN: apiToken, ORGCTL_REQUEST_STATS: '1' };

  ok(await run('validate', ['validate', '-f', 'm']));
  const first = await run('plan', ['plan', '-f', 'm', '--detailed-exitcode'], stats);
  if (strict) expect(first.code, first.stderr).toBe(2);
  await run('plan -o json', ['plan', '-f', 'm', '-o', 'json'], { ORGCTL_TOKEN_FILE: tokenFile });
  ok(await run('plan --out', ['plan', '-f', 'm', '--out', 'plan.json']));
  await run('diff', ['diff', '-f', 'm'], stats);
  ok(await run('apply plan.json', ['apply', 'plan.json', '--yes', '--batch-size', '2'], stats));
  if (!strict) await run('apply (finish what faults stopped)', ['apply', '-f', 'm', '--yes'], stats);
  snapshotDatabases(dir, `${tag}, after the first apply`);

  writeCredentialFiles(dir, setB);
  await run('plan (rotated)', ['plan', '-f', 'm'], { ...credsB, ORGCTL_TOKEN_FILE: tokenFile });
  ok(await run('apply (rotated, token file)', ['apply', '-f', 'm', '--yes'], { ...credsB, ORGCTL_TOKEN_FILE: tokenFile, ORGCTL_REQUEST_STATS: '1' }));
  const diff = await run('diff (rotated)', ['diff', '-f', 'm', '-o', 'json'], { ...credsB, ...stats });
  if (strict) expect(diff.code, diff.stdout + diff.stderr).toBe(0);
  ok(await run('invites accept', ['platform', 'invites', 'accept', '--org', ORG, '--email', PEOPLE[1]![0]], { ORGCTL_TOKEN: ciToken }));
  ok(await run('export --out', ['export', '--org', ORG, '--out', 'exported'], { ORGCTL_TOKEN: ciToken, ORGCTL_REQUEST_STATS: '1' }));
  // Tokens: listed on the database and over REST (never a secret), the read-only token plans but cannot write.
  ok(await run('token list (database)', ['platform', 'token', 'list', '--db', 'server.db', '--all']));
  ok(await run('token list (REST)', ['platform', 'token', 'list', '-o', 'json'], { ORGCTL_TOKEN: ciToken }));
  ok(await run('token list --user (REST)', ['platform', 'token', 'list', '--user', 'ops@platform.example'], { ORGCTL_TOKEN: ciToken }));
  ok(await run('plan (read-only token)', ['plan', '-f', 'm'], { ORGCTL_TOKEN: readToken, ORGCTL_REQUEST_STATS: '1' }));
  ok(await run('diff (read-only token)', ['diff', '-f', 'm'], { ...credsB, ORGCTL_TOKEN: readToken }));
  expect((await run('apply (read-only token)', ['apply', '-f', 'm', '--yes'], { ORGCTL_TOKEN: readToken })).code).toBe(1);
  expect((await run('token revoke (read-only token)', ['platform', 'token', 'revoke', 'ci'], { ORGCTL_TOKEN: readToken })).code).toBe(1);
  ok(await run('token default-expiry', ['platform', 'token', 'default-expiry', '90d', '--db', 'server.db']));
  snapshotDatabases(dir, `${tag}, after the rotation`);

  // Errors: wrong tokens, inline secrets, a variable not set, unusable credential files.
  expect((await run('plan (wrong token)', ['plan', '-f', 'm'], { ORGCTL_TOKEN: badToken, ORGCTL_REQUEST_STATS: '1' })).code).toBe(1);
  expect((await run('apply (wrong token file)', ['apply', '-f', 'm', '--yes'], { ORGCTL_TOKEN_FILE: badTokenFile })).code).toBe(1);
  expect((await run('invites accept (wrong token)', ['platform', 'invites', 'accept', '--org', ORG, '--email', PEOPLE[2]![0]], { ORGCTL_TOKEN: badToken })).code).toBe(1);
  expect((await run('export (wrong token)', ['export', '--org', ORG], { ORGCTL_TOKEN: badToken })).code).toBe(1);
  const twoLineFile = source(join(dir, 'secrets/two-line-token'), `${twoLineToken}\n`);
  for (const [label, args, extra] of [
    ['plan (token with a line break)', ['plan', '-f', 'm'], { ORGCTL_TOKEN: twoLineToken }],
    ['plan (token file with two lines)', ['plan', '-f', 'm'], { ORGCTL_TOKEN_FILE: twoLineFile }],
    ['apply (non-ASCII token)', ['apply', '-f', 'm', '--yes'], { ORGCTL_TOKEN: nonAsciiToken }],
    ['invites accept (token with a line break)', ['platform', 'invites', 'accept', '--org', ORG, '--email', PEOPLE[2]![0]], { ORGCTL_TOKEN: twoLineToken }],
    ['invites accept (non-ASCII token)', ['platform', 'invites', 'accept', '--org', ORG, '--email', PEOPLE[2]![0]], { ORGCTL_TOKEN: nonAsciiToken }],
  ] as const) {
    const r = await run(label, [...args], extra);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('it is not shown');
  }
  // A platform URL with credentials in it is refused: the address is printed in plans and errors.
  const credentialUrl = server.url.replace('://', `://ci:${urlPassword}@`);
  for (const [label, args, extra] of [
    ['plan (credentials in --platform)', ['plan', '-f', 'm', '--platform', credentialUrl], { ORGCTL_TOKEN: apiToken }],
    ['apply (credentials in ORGCTL_PLATFORM)', ['apply', '-f', 'm', '--yes'], { ORGCTL_TOKEN: apiToken, ORGCTL_PLATFORM: credentialUrl }],
  ] as const) {
    const r = await run(label, [...args], extra);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('carries credentials');
  }
  expect((await run('plan (inline secrets)', ['plan', '-f', 'bad'])).code).toBe(1);
  expect((await run('plan (variable not set)', ['plan', '-f', 'missing'], stats)).code).toBe(1);
  expect((await run('apply (unusable credential files)', ['apply', '-f', 'badfile', '--yes'])).code).toBe(1);

  if (strict) {
    // Contexts: the token file's path goes into the config, never the token.
    const config = { ORGCTL_CONFIG: join(dir, 'config/config.yaml') };
    const ctx = (label: string, args: string[]) => cli(`${tag}: ${label}`, args, { cwd: dir, env: { ...baseEnv(), ...config } });
    ok(await ctx('config set-context', ['config', 'set-context', 'prod', '--platform', server.url, '--organization', ORG, '--token-file', tokenFile]));
    ok(await ctx('config set-context (wrong token)', ['config', 'set-context', 'wrong', '--platform', server.url, '--token-file', badTokenFile]));
    expect((await ctx('config set-context (credentials in the URL)', ['config', 'set-context', 'leaky', '--platform', credentialUrl])).code).toBe(2);
    ok(await ctx('config use-context', ['config', 'use-context', 'prod']));
    ok(await ctx('config get-contexts', ['config', 'get-contexts']));
    ok(await ctx('config current-context', ['config', 'current-context']));
    ok(await ctx('plan (context)', ['plan', '-f', 'm']));
    ok(await ctx('export (context)', ['export']));
    const unlock = await ctx('force-unlock (context)', ['force-unlock', '--force', ORG]);
    if (strict) expect(unlock.stderr).toContain(`"${ORG}" is not locked`); // not locked: exit 1, by design
    ok(await ctx('config view', ['config', 'view']));
    ok(await ctx('config use-context wrong', ['config', 'use-context', 'wrong']));
    expect((await ctx('plan (context, wrong token)', ['plan', '-f', 'm'])).code).toBe(1);
    await wrongFlags(dir, { ...env, ORGCTL_TOKEN: apiToken }, tag);
  }

  // Revocation, over REST and on the database; the revoked tokens are refused.
  ok(await run('token revoke (REST)', ['platform', 'token', 'revoke', 'ci-read'], { ORGCTL_TOKEN: ciToken }));
  expect((await run('plan (revoked token)', ['plan', '-f', 'm'], { ORGCTL_TOKEN: readToken })).code).toBe(1);
  ok(await run('token revoke (database)', ['platform', 'token', 'revoke', 'canary', '--db', 'server.db', '--user', 'ops@platform.example']));
  expect((await run('plan (token revoked on the database)', ['plan', '-f', 'm'])).code).toBe(1);
  snapshotDatabases(dir, `${tag}, server running`);
  await server.stop();
  runs.push({ label: `${tag}: platform serve (server log)`, run: { code: server.child.exitCode, stdout: server.out(), stderr: server.err() } });
  if (strict) expect(server.out() + server.err()).toContain('"url"'); // --log logged the requests
  snapshotDatabases(dir, `${tag}, server stopped`);
}

describe('no secret ever leaves where it was put', () => {
  beforeAll(async () => {
    // Concurrently (they share nothing but the canaries); each runs to its end before servers are stopped.
    const results = await Promise.allSettled([
      embeddedScenario(),
      httpScenario('http', [], true),
      httpScenario('http --faults', ['--faults', 'seed=5; *: 5xx=0.15, 429=0.02, drop=0.05'], false),
    ]);
    await Promise.all(servers.map((s) => s.stop()));
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }, 120_000);
  afterAll(async () => Promise.all(servers.map((s) => s.stop())));

  it('the scanner finds a planted canary, raw and encoded', () => {
    const c = canaries.find((x) => x.label === 'set A s3 secretAccessKey (env)')!;
    expect(scan('planted', `plan: ok\n${c.value}\n`)).toEqual([{ where: 'planted', canary: c.label, encoding: 'raw' }]);
    expect(scan('planted', Buffer.concat([randomBytes(64), Buffer.from(Buffer.from(c.value).toString('base64')), randomBytes(64)])).map((f) => f.encoding)).toContain('base64');
    expect(scan('planted', `x${Buffer.from(c.value).toString('hex')}x`).map((f) => f.encoding)).toContain('hex');
    expect(scan('planted', Buffer.concat([Buffer.from('junk'), keyBytes])).map((f) => f.encoding)).toContain('decoded key bytes');
    expect(scan('planted', `${c.value}`, new Set([c.value]))).toEqual([]);
  });

  it('the canaries reached the platform: sealed with ORGCTL_PLATFORM_KEY, fingerprinted, tokens accepted', () => {
    const box = new SecretBox(keyBytes);
    for (const { file } of databases.filter((d) => d.strict)) {
      const conn = new Database(file, { readonly: true });
      try {
        const rows = conn.prepare('SELECT name, credentials, fingerprint FROM integrations ORDER BY name').all() as { name: string; credentials: Buffer; fingerprint: string }[];
        expect(rows.map((r) => r.name), file).toEqual(['blobs', 'kv', 'lake', 'models', 'raw', 'registry']);
        const raw = rows.find((r) => r.name === 'raw')!;
        const opened = JSON.parse(box.open(raw.credentials)) as Record<string, string>;
        expect(opened.secretAccessKey, file).toBe(credsB[ENV.s3Secret]);
        // The fingerprint is keyed by the platform's key: only the platform can compute it.
        expect(raw.fingerprint).toBe(keyedFingerprint(deriveFingerprintKey(keyBytes), opened));
        const lake = JSON.parse(box.open(rows.find((r) => r.name === 'lake')!.credentials)) as Record<string, string>;
        expect(lake).toEqual({ accessKeyId: setB.minioId, secretAccessKey: setB.minioSecret });
      } finally {
        conn.close();
      }
    }
    // The valid canary token and the token file worked over HTTP.
    const http = runs.find((r) => r.label === 'http: apply (rotated, token file)')!;
    expect(http.run.code, http.run.stderr).toBe(0);
    expect(runs.find((r) => r.label === 'http: plan (wrong token)')!.run.stderr).toMatch(/401|token/);
    // Over HTTP, request stats were printed, and the faulty server made the client retry.
    expect(runs.some((r) => r.label.startsWith('http: ') && r.run.stderr.includes('request stats: '))).toBe(true);
    expect(runs.some((r) => r.label.startsWith('http --faults: ') && /"retries":\d/.test(r.run.stderr))).toBe(true);
  });

  it('no canary in any standard output or error, of any command or server', () => {
    expect(runs.length).toBeGreaterThan(80);
    const findings = runs.flatMap((r) => [
      ...scan(`${r.label}: stdout`, r.run.stdout, r.prints ? new Set([r.prints]) : undefined),
      ...scan(`${r.label}: stderr`, r.run.stderr),
    ]);
    expect(findings).toEqual([]);
  });

  it('no canary in any file written: plans, exports, schemas, config, database files (with -wal), logs', () => {
    const files = roots.flatMap(walk).filter((f) => !sources.has(f));
    // The scan covers what was meant to be covered.
    for (const want of [/plan\.json$/, /rotated\.json$/, /exported\/integrations\.yaml$/, /config\/config\.yaml$/, /platform\.db$/, /server\.db$/, /schemas\/orgctl\.json$/]) {
      expect(files.some((f) => want.test(f)), String(want)).toBe(true);
    }
    expect(snapshots.some((s) => /-wal \(/.test(s.where))).toBe(true);
    const findings = [...files.flatMap((f) => scan(f, readFileSync(f))), ...snapshots.flatMap((s) => scan(s.where, s.bytes))];
    expect(findings).toEqual([]);
  });

  it('no canary in any database row, the audit log included', () => {
    const findings: Finding[] = [];
    let auditRows = 0;
    const integrationAudit = new Set<string>();
    for (const { file } of databases) {
      const conn = new Database(file, { readonly: true });
      try {
        const tables = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
        for (const { name } of tables) {
          const rows = conn.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[];
          if (name === 'audit') auditRows += rows.length;
          rows.forEach((row, i) => {
            for (const [col, value] of Object.entries(row)) {
              if (value === null || value === undefined) continue;
              findings.push(...scan(`${file} ${name}[${i}].${col}`, Buffer.isBuffer(value) ? value : String(value)));
            }
          });
        }
        const audit = conn.prepare("SELECT action FROM audit WHERE action LIKE 'integration.%'").all() as { action: string }[];
        for (const a of audit) integrationAudit.add(a.action);
      } finally {
        conn.close();
      }
    }
    expect(auditRows).toBeGreaterThan(0);
    expect([...integrationAudit].sort()).toEqual(['integration.create', 'integration.update']);
    expect(findings).toEqual([]);
  });
});

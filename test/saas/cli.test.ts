import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgctl, tempDir, type Run } from '../e2e/cli.js';
import { FakeAngo, type FakeAngoOrg } from '../fakes/ango.js';
import { FakeDataloop, type FakeOrg } from '../fakes/dataloop.js';

/**
 * The real CLI (bin/orgctl.js, a child process) against each fake: plan, apply, export, with canary secrets
 * (the platform token, a refresh token, integration credentials) that must appear in no output.
 */

const canaries: string[] = [];
const canary = (label: string) => {
  const value = `CANARY${label}${Math.random().toString(36).slice(2, 12)}`;
  canaries.push(value);
  return value;
};

/** Every output so far, scanned at the end for every canary, raw and base64. */
const outputs: { what: string; text: string }[] = [];
function record(what: string, run: Run): Run {
  outputs.push({ what: `${what} stdout`, text: run.stdout }, { what: `${what} stderr`, text: run.stderr });
  return run;
}

afterAll(() => {
  const leaks: string[] = [];
  for (const o of outputs) {
    for (const c of canaries) {
      for (const needle of [c, Buffer.from(c).toString('base64').replace(/=+$/, '')]) if (o.text.includes(needle)) leaks.push(`${o.what} holds a canary`);
    }
  }
  expect(leaks).toEqual([]);
});

function yaml(lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

function manifests(opts: { name: string; externalId?: string; plan?: string; policy?: string; members: [string, string, string[]?][]; integration?: string[] }): string {
  const out = [
    'apiVersion: orgctl.dev/v1alpha1',
    'kind: Organization',
    'metadata:',
    `  name: ${opts.name}`,
    ...(opts.externalId ? ['  annotations:', `    orgctl.dev/external-id: "${opts.externalId}"`] : []),
    'spec:',
    ...(opts.plan ? [`  plan: ${opts.plan}`] : []),
    '  members:',
    `    policy: ${opts.policy ?? 'additive'}`,
    '---',
    'apiVersion: orgctl.dev/v1alpha1',
    'kind: Membership',
    'metadata:',
    `  name: ${opts.name}-people`,
    'spec:',
    `  organization: ${opts.name}`,
    '  members:',
    ...opts.members.flatMap(([email, role, projects]) => [
      `    - email: ${email}`,
      `      role: ${role}`,
      ...(projects?.length ? ['      projects:', ...projects.map((p) => `        - {project: ${p}, role: annotator}`)] : []),
    ]),
  ];
  if (opts.integration) out.push('---', 'apiVersion: orgctl.dev/v1alpha1', 'kind: Integration', 'metadata:', `  name: ${opts.name}-raw`, 'spec:', `  organization: ${opts.name}`, ...opts.integration);
  return yaml(out);
}

describe('orgctl against Dataloop (fake), as a child process', () => {
  let fake: FakeDataloop;
  let org: FakeOrg;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const OWNER = 'owner@acme.example';

  beforeAll(async () => {
    fake = await new FakeDataloop().start();
    org = fake.addOrg('acme-vision', OWNER, 'freemium');
    dir = tempDir('orgctl-dataloop-');
    // A superuser's JWT and refresh token carrying canaries, and canary S3 credentials.
    const token = fake.token('root@dataloop.example', { superuser: true, signature: canary('JWTSIG') });
    env = {
      ORGCTL_PLATFORM: `dataloop+${fake.base}`,
      ORGCTL_TOKEN: token,
      ORGCTL_REFRESH_TOKEN: canary('REFRESH'),
      S3_KEY: canary('S3KEY'),
      S3_SECRET: canary('S3SECRET'),
    };
    writeFileSync(
      join(dir, 'acme.yaml'),
      manifests({
        name: 'acme-vision',
        plan: 'premium',
        members: [
          [OWNER, 'owner'],
          ['ann@acme.example', 'admin'],
          ['bob@acme.example', 'worker'],
        ],
        integration: ['  name: raw', '  type: s3', '  credentialsRef:', '    env: {accessKeyId: S3_KEY, secretAccessKey: S3_SECRET}'],
      }),
    );
  });
  afterAll(() => fake?.stop());

  const run = async (args: string[], extra: NodeJS.ProcessEnv = {}) => record(args.join(' '), await orgctl(args, { cwd: dir, env: { ...env, ...extra } }));

  it('plans, applies, says what it cannot see, converges once people accept, and exports what plans clean', async () => {
    const plan = await run(['plan', '-f', 'acme.yaml', '--detailed-exitcode']);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toContain(`(dataloop+${fake.base})`);
    expect(plan.stdout).toMatch(/update-plan/);
    expect(plan.stdout).toMatch(/invite ann@acme\.example/);
    expect(plan.stderr).toMatch(/note: organization "acme-vision": dataloop\+\S+ cannot list pending invites/);

    const apply = await run(['apply', '-f', 'acme.yaml', '--yes']);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stderr).toMatch(/has no lock: concurrent applies to one organization are not prevented/);
    expect(org.plan).toBe('premium');
    expect([...org.invites]).toEqual([
      ['ann@acme.example', 'admin'],
      ['bob@acme.example', 'worker'],
    ]);
    const raw = [...org.integrations.values()].find((i) => i.name === 'raw')!;
    expect(raw.options).toEqual({ key: env.S3_KEY, secret: env.S3_SECRET });

    // Pending invites are invisible: they are planned again until accepted.
    const again = await run(['plan', '-f', 'acme.yaml', '--detailed-exitcode']);
    expect(again.code).toBe(2);
    expect(again.stdout).toMatch(/Plan: 2 to add, 0 to change, 0 to remove/);
    fake.acceptAll(org);
    const clean = await run(['plan', '-f', 'acme.yaml', '--detailed-exitcode']);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);

    const exported = await run(['export', '--org', 'acme-vision', '--out', 'exported']);
    expect(exported.code, exported.stderr).toBe(0);
    const text = readdirSync(join(dir, 'exported')).map((f) => readFileSync(join(dir, 'exported', f), 'utf8')).join('\n');
    expect(text).toContain(`orgctl.dev/external-id: ${org.id}`);
    expect(text).toContain('plan: premium');
    expect(text).not.toContain('displayName');
    const replan = await run(['plan', '-f', 'exported', '--detailed-exitcode'], { ACME_VISION_RAW_ACCESS_KEY_ID: 'x', ACME_VISION_RAW_SECRET_ACCESS_KEY: 'y' });
    expect(replan.code, replan.stdout + replan.stderr).toBe(0);
  });

  it('a refused token is an error naming the status, never the token', async () => {
    const bad = await run(['plan', '-f', 'acme.yaml'], { ORGCTL_TOKEN: canary('BADTOKEN') });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/error: GET \/orgs: Unauthorized \(401\)/);
  });

  it('takes the forms dataloop and dataloop+URL in a context', async () => {
    const cfg = { ORGCTL_CONFIG: join(dir, 'config.yaml'), ORGCTL_PLATFORM: undefined };
    writeFileSync(join(dir, 'token'), `${env.ORGCTL_TOKEN}\n`);
    expect((await run(['config', 'set-context', 'dl', '--platform', 'dataloop', '--organization', 'acme-vision', '--token-file', join(dir, 'token')], cfg)).code).toBe(0);
    expect((await run(['config', 'set-context', 'local', '--platform', `dataloop+${fake.base}`, '--organization', 'acme-vision', '--token-file', join(dir, 'token')], cfg)).code).toBe(0);
    expect((await run(['config', 'use-context', 'local'], cfg)).code).toBe(0);
    const contexts = await run(['config', 'get-contexts'], cfg);
    expect(contexts.stdout).toMatch(/dl\s+dataloop\s+acme-vision/);
    const viaContext = await run(['export'], { ...cfg, ORGCTL_TOKEN: undefined });
    expect(viaContext.code, viaContext.stderr).toBe(0);
    expect(viaContext.stdout).toContain('name: acme-vision');
    const wrong = await run(['plan', '-f', 'acme.yaml', '--platform', 'dataloop+ftp://x']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--platform: the Dataloop address after "dataloop\+" is not an http\(s\) URL/);
    const creds = await run(['plan', '-f', 'acme.yaml', '--platform', 'dataloop+https://u:pw@gate.example/api/v1']);
    expect(creds.code).toBe(2);
    expect(creds.stderr).not.toContain('pw@');
  });
});

describe('orgctl against Ango Hub (fake), as a child process', () => {
  let fake: FakeAngo;
  let org: FakeAngoOrg;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const ADMIN = 'admin@acme.example';

  beforeAll(async () => {
    fake = await new FakeAngo().start();
    org = fake.addOrg(ADMIN);
    dir = tempDir('orgctl-ango-');
    const key = fake.apiKey(ADMIN, org);
    canaries.push(key);
    env = { ORGCTL_PLATFORM: `ango+${fake.base}`, ORGCTL_TOKEN: key, ORGCTL_USER: ADMIN, ORGCTL_RATE_LIMIT: '6000', S3_KEY: canary('AKEY'), S3_SECRET: canary('ASECRET') };
    writeFileSync(
      join(dir, 'acme.yaml'),
      manifests({
        name: 'acme',
        externalId: org.id,
        members: [
          [ADMIN, 'admin'],
          ['ann@acme.example', 'admin'],
          ['bob@acme.example', 'member', ['road-signs']],
        ],
        integration: ['  name: raw', '  type: s3', '  options: {bucket: acme-raw, region: eu-west-1}', '  credentialsRef:', '    env: {accessKeyId: S3_KEY, secretAccessKey: S3_SECRET}'],
      }),
    );
  });
  afterAll(() => fake?.stop());

  const run = async (args: string[], extra: NodeJS.ProcessEnv = {}) => record(args.join(' '), await orgctl(args, { cwd: dir, env: { ...env, ...extra } }));

  it('plans, applies, sees its own invites on the next plan, and exports what plans clean', async () => {
    // The first plan keeps the default client limit (100 a minute): three list calls.
    const plan = await run(['plan', '-f', 'acme.yaml', '--detailed-exitcode'], { ORGCTL_RATE_LIMIT: undefined });
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toContain(`(ango+${fake.base})`);
    expect(plan.stdout).toMatch(/Plan: 3 to add/);

    const apply = await run(['apply', '-f', 'acme.yaml', '--yes']);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(org.invites.get('bob@acme.example')!.projectAssignments).toEqual([{ projectId: 'road-signs', projectRole: 'Labeler' }]);
    expect([...fake.storages.values()].map((s) => `${s.name} ${s.type} ${s.bucket} ${s.region}`)).toEqual(['raw aws acme-raw eu-west-1']);
    expect((await run(['plan', '-f', 'acme.yaml', '--detailed-exitcode'])).code).toBe(0);

    fake.acceptAll(org);
    expect((await run(['plan', '-f', 'acme.yaml', '--detailed-exitcode'])).code).toBe(0);

    const cfg = { ORGCTL_CONFIG: join(dir, 'config.yaml'), ORGCTL_PLATFORM: undefined, ORGCTL_TOKEN: undefined };
    writeFileSync(join(dir, 'key'), env.ORGCTL_TOKEN!);
    expect((await run(['config', 'set-context', 'ango', '--platform', `ango+${fake.base}`, '--organization', org.id, '--token-file', join(dir, 'key')], cfg)).code).toBe(0);
    expect((await run(['config', 'use-context', 'ango'], cfg)).code).toBe(0);
    const exported = await run(['export', '--org', 'acme', '--out', 'exported'], cfg);
    expect(exported.code, exported.stderr).toBe(0);
    const text = readdirSync(join(dir, 'exported')).map((f) => readFileSync(join(dir, 'exported', f), 'utf8')).join('\n');
    expect(text).toContain(`orgctl.dev/external-id: ${org.id}`);
    expect(text).not.toMatch(/plan:|displayName/);
    const replan = await run(['plan', '-f', 'exported', '--detailed-exitcode'], { ...cfg, ACME_RAW_ACCESS_KEY_ID: 'x', ACME_RAW_SECRET_ACCESS_KEY: 'y' });
    expect(replan.code, replan.stdout + replan.stderr).toBe(0);
  });

  it('refuses roles and fields Ango does not have, naming the field and the platform', async () => {
    writeFileSync(join(dir, 'bad.yaml'), manifests({ name: 'acme', externalId: org.id, plan: 'premium', members: [[ADMIN, 'owner'], ['w@acme.example', 'worker']] }));
    const bad = await run(['plan', '-f', 'bad.yaml']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`organization "acme": spec.plan: the billing plan cannot be managed: Ango Hub's API has no billing plan on ango+${fake.base}`);
    expect(bad.stderr).toContain(`organization "acme": spec.members[].role: role "owner" (1 person) does not exist; roles there: admin, member on ango+${fake.base}`);
    expect(bad.stderr).toContain('role "worker" (1 person) does not exist');
  });

  it('a manifest without the organization id says how to give it', async () => {
    writeFileSync(join(dir, 'noid.yaml'), manifests({ name: 'acme', members: [[ADMIN, 'admin']] }));
    const r = await run(['plan', '-f', 'noid.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Ango Hub addresses organizations by id, and none is given: set metadata.annotations\["orgctl.dev\/external-id"\]/);
  });
});

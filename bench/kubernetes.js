// bench/kubernetes: 500 Organization resources with 200 members each (one Membership per organization),
// reconciled by `orgctl controller --kubernetes` (a real child process) against the kube-API test server
// (test/kube, run in this process) and `orgctl platform serve`. Measures the time from all resources created
// to all Ready, the controller's peak RSS, and its requests to the kube server: informers must list and watch
// once per kind, with no polling.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ORGCTL, ROOT, verdict } from './lib/measure.js';
import { startServer } from './platform.js';

const ORGS = Number(process.env.BENCH_K8S_ORGS ?? 500);
const MEMBERS = Number(process.env.BENCH_K8S_MEMBERS ?? 200);
const NS = 'bench';
const TARGET_READY_MS = Number(process.env.BENCH_K8S_TARGET_MS ?? 120_000);
const TARGET_RSS_MIB = 400;

/** The kube-API test server is TypeScript under test/; compile it (types stripped) for this plain-JS benchmark. */
async function loadKubeServer(dir) {
  const out = join(dir, 'kube');
  mkdirSync(out, { recursive: true });
  const src = join(ROOT, 'test/kube');
  for (const f of readdirSync(src).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    const js = ts.transpileModule(readFileSync(join(src, f), 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(join(out, f.replace(/\.ts$/, '.js')), js);
  }
  return import(join(out, 'server.js'));
}

function request(kube, method, path, body) {
  return fetch(`${kube.url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${kube.token}` }, body: body && JSON.stringify(body) }).then(async (r) => {
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json();
  });
}

function ready(o) {
  const c = o.status?.conditions?.find((x) => x.type === 'Ready');
  return c?.status === 'True' && o.status.observedGeneration === o.metadata.generation;
}

export async function benchKubernetes() {
  const dir = join(ROOT, 'bench/.data/kubernetes');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const { KubeApiServer } = await loadKubeServer(dir);
  const kube = await KubeApiServer.start({ namespaces: [NS], historyLimit: 100_000 });
  kube.loadCrds(join(ROOT, 'crds'));
  const kubeconfig = kube.writeKubeconfig(join(dir, 'kubeconfig'), { namespace: NS });

  const db = join(dir, 'platform.db');
  const init = spawnSync(process.execPath, [ORGCTL, 'platform', 'init', '--db', db, '--org', 'bootstrap', '--owner', 'ops@bench.example'], { cwd: ROOT, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`platform init failed: ${init.stderr}`);
  const token = init.stdout.trim();
  const platform = await startServer(db, join(dir, 'platform-rusage.json'));

  const rusage = join(dir, 'controller-rusage.json');
  const controller = spawn(process.execPath, ['--import', join(ROOT, 'bench/lib/rusage.js'), ORGCTL, 'controller', '--kubernetes', '--metrics-addr', '127.0.0.1:0', '--log-format', 'json'], {
    cwd: ROOT,
    env: { ...process.env, KUBECONFIG: kubeconfig, ORGCTL_PLATFORM: platform.url, ORGCTL_TOKEN: token, ORGCTL_BENCH_RUSAGE: rusage },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  controller.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => controller.on('exit', (code) => resolve(code)));
  try {
    const until = async (check, what, ms) => {
      const end = Date.now() + ms;
      while (!(await check())) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${log.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await until(() => /informers synced/.test(log), 'the controller to start', 60_000);

    console.log(`bench/kubernetes: ${ORGS} Organizations x ${MEMBERS} members (one Membership each), orgctl platform serve`);
    const firstCreate = performance.now();
    const gv = `/apis/orgctl.dev/v1alpha1/namespaces/${NS}`;
    for (let i = 0; i < ORGS; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, ORGS - i) }, async (_, k) => {
          const name = `org-${String(i + k).padStart(4, '0')}`;
          await request(kube, 'POST', `${gv}/organizations`, { apiVersion: 'orgctl.dev/v1alpha1', kind: 'Organization', metadata: { name }, spec: { plan: 'premium', members: { policy: 'authoritative' } } });
          const members = [{ email: 'ops@bench.example', role: 'owner' }];
          for (let j = 1; j < MEMBERS; j++) members.push({ email: `user${j}@${name}.example`, role: j % 10 === 0 ? 'admin' : 'member', firstName: `First${j}`, lastName: `Last${j}` });
          await request(kube, 'POST', `${gv}/memberships`, { apiVersion: 'orgctl.dev/v1alpha1', kind: 'Membership', metadata: { name: `${name}-people` }, spec: { organization: name, members } });
        }),
      );
    }
    const created = performance.now();
    console.log(`  created ${ORGS * 2} resources in ${((created - firstCreate) / 1000).toFixed(1)} s`);
    const all = (plural) => kube.objects('orgctl.dev/v1alpha1', plural, NS);
    await until(() => all('organizations').filter(ready).length === ORGS, 'every Organization to be Ready', 30 * 60_000);
    await until(() => all('memberships').filter(ready).length === ORGS, 'every Membership to be Ready', 10 * 60_000);
    const done = performance.now();
    const readyMs = done - created;

    controller.kill('SIGTERM');
    await exited;
    const peak = JSON.parse(readFileSync(rusage, 'utf8'));
    const peakMiB = peak.maxRssKiB / 1024;
    const byController = (r) => r.userAgent.startsWith('orgctl-controller') || r.userAgent.startsWith('node-fetch');
    const counts = kube.counts(byController);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const kinds = ['organizations.orgctl.dev', 'memberships.orgctl.dev', 'integrations.orgctl.dev', 'secrets'];
    const informersOk = kinds.every((k) => counts[`list ${k}`] === 1 && counts[`watch ${k}`] === 1) && !Object.keys(counts).some((k) => /^get (organizations|memberships|integrations)/.test(k));
    console.log(`  all ${ORGS * 2} Ready ${(readyMs / 1000).toFixed(1)} s after all were created (${((done - firstCreate) / 1000).toFixed(1)} s after the first) [target < ${TARGET_READY_MS / 1000} s: ${verdict(readyMs, TARGET_READY_MS)}]`);
    console.log(`  controller peak RSS ${peakMiB.toFixed(0)} MiB [target < ${TARGET_RSS_MIB} MB: ${verdict(peakMiB, TARGET_RSS_MIB)}], CPU ${((peak.userMs + peak.systemMs) / 1000).toFixed(1)} s`);
    console.log(`  kube API requests by the controller: ${total} in all`);
    for (const [k, n] of Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1))) console.log(`    ${k}: ${n}`);
    console.log(`  informers: one list and one watch per kind, no polling [${informersOk ? 'PASS' : 'FAIL'}]`);
    return readyMs <= TARGET_READY_MS && peakMiB <= TARGET_RSS_MIB && informersOk;
  } finally {
    if (controller.exitCode === null) controller.kill('SIGKILL');
    platform.child.kill('SIGTERM');
    await kube.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await benchKubernetes()) ? 0 : 1;

import { Command, CommanderError, Option } from 'commander';
import type { HeldLocks } from '../platform/locks.js';
import { ExitCode, UserError, type Io } from './io.js';
import { VERSION } from './version.js';

// Commands are imported when they run: `validate` must not pay for loading the HTTP server, the SQLite
// binding and the HTTP client (about 300 ms of start-up).
const commands = {
  config: () => import('./commands/config.js'),
  controller: () => import('./commands/controller.js'),
  export: () => import('./commands/export.js'),
  handoff: () => import('./commands/handoff.js'),
  platform: () => import('./commands/platform.js'),
  reconcile: () => import('./commands/reconcile.js'),
  report: () => import('./commands/report.js'),
  schema: () => import('./commands/schema.js'),
  validate: () => import('./commands/validate.js'),
};

/**
 * Commander echoes an unknown option as typed: `--token=VALUE` (or `-tVALUE`) would put VALUE, likely a
 * secret someone tried to pass as a flag, into the error and so into CI logs. Report the option's name only.
 * Subcommands are made by createCommand, so they behave the same.
 */
class OrgctlCommand extends Command {
  override createCommand(name?: string): Command {
    return new OrgctlCommand(name);
  }

  unknownOption(flag: string): void {
    const name = flag.startsWith('--') ? flag.replace(/=[\s\S]*$/, '') : flag.slice(0, 2);
    const hint = OPTION_HINTS[name] ?? this.options.find((o) => o.long && name.length > 3 && o.long.startsWith(name))?.long;
    if (hint) this.error(`error: unknown option '${name}'; did you mean ${hint}?`, { code: 'commander.unknownOption', exitCode: ExitCode.usage });
    (Command.prototype as unknown as { unknownOption(flag: string): void }).unknownOption.call(this, name);
  }
}

/** Options people type from habit (Terraform, kubectl), and orgctl's own. */
const OPTION_HINTS: Record<string, string> = {
  '--file': '--filename (-f)',
  '--auto-approve': '--yes (-y)',
  '--approve': '--yes (-y)',
  '--dry-run': 'orgctl plan (apply writes; plan never does)',
  '--json': '-o json',
  '--max-removal': '--max-removals',
  '--allow-owner-change': '--allow-owner-changes',
};

/**
 * Terraform's single-dash flags. Commander would read `-out=plan.json` as `-o ut=plan.json`, a confusing error
 * about the output format; say which orgctl flag is meant instead.
 */
const TERRAFORM_FLAGS: Record<string, string> = {
  out: '--out FILE',
  'no-color': '--no-color',
  'auto-approve': '--yes',
  'detailed-exitcode': '--detailed-exitcode',
  'lock-timeout': '--lock-timeout',
  json: '-o json',
};

function terraformHabit(argv: string[]): string | undefined {
  for (const arg of argv) {
    if (arg === '--') break;
    const m = /^-([a-z][a-z-]+)(=.*)?$/.exec(arg);
    const flag = m && TERRAFORM_FLAGS[m[1]!];
    if (flag) return `-${m[1]} is Terraform's spelling; orgctl takes ${flag}`;
  }
  return undefined;
}

const outputOption = () => new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text');
const manifestSizeOption = () =>
  new Option('--max-manifest-size <size>', 'largest manifest file read, e.g. 256MiB (regular files only, up to 512MiB; default $ORGCTL_MAX_MANIFEST_SIZE, else 64MiB)');
const parallelismOption = () => new Option('--parallelism <n>', 'organizations read from the platform at once, 1 to 100 (output order stays the manifests\'); default 10');

/**
 * Builds the command tree. Commands set `exitCode`; nothing here calls process.exit, so the same program
 * runs in tests and in the binary.
 */
export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new OrgctlCommand('orgctl')
    .description('Declarative organizations, members, invites and integrations for ML data platforms.')
    .version(`orgctl ${VERSION}`, '--version', 'print the orgctl version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();

  program
    .command('validate')
    .description('check manifests against the CRD schemas and each other; exit 0 when valid, 1 when not')
    .requiredOption('-f, --filename <path...>', 'files, directories (recursive) or - for stdin')
    .addOption(outputOption())
    .option('--strict', 'treat documents that are not orgctl kinds as errors instead of skipping them', false)
    .addOption(manifestSizeOption())
    .action(async (opts: { filename: string[]; output: 'text' | 'json'; strict: boolean; maxManifestSize?: string }) => setExit((await commands.validate()).runValidate(opts, io)));

  program
    .command('schema')
    .description('print the JSON Schema of the manifests (for editors and yaml-language-server)')
    .argument('[kind]', 'one kind (Organization, Membership, Integration); default: all kinds in one schema')
    .option('--out <dir>', 'write one file per kind (and orgctl.json for all) into this directory')
    .action(async (kind: string | undefined, opts: { out?: string }) => setExit((await commands.schema()).runSchema(kind, opts, io)));

  const reconcileOptions = (cmd: Command) =>
    cmd
      .option('-f, --filename <path...>', 'manifests: files, directories (recursive) or - for stdin')
      .option('--platform <url>', 'dataloop[+URL], ango[+URL], http(s)://... (orgctl platform serve) or file:PATH (embedded); default $ORGCTL_PLATFORM, else file:.orgctl/platform.db')
      .option('--max-removals <n|n%>', 'refuse plans removing more members than this, per organization', '25%')
      .option('--allow-owner-changes', 'allow promoting, demoting or removing owners', false)
      .option('--rate-limit <per-minute>', 'client-side limit of platform requests per minute (default $ORGCTL_RATE_LIMIT, else none)')
      .option('--strict', 'treat warnings (a credential variable not set) as errors', false)
      .option('--full', 'on a terminal, show every change (long runs of one action are cut to 20 otherwise)', false)
      .option('--no-color', 'no colours, even on a terminal (NO_COLOR and TERM=dumb also turn them off)');

  reconcileOptions(program.command('plan').description('show what apply would change; writes nothing'))
    .addOption(outputOption())
    .addOption(parallelismOption())
    .addOption(manifestSizeOption())
    .option('--out <file>', 'save the plan as JSON, to apply exactly it later with `orgctl apply FILE`')
    .option('--detailed-exitcode', 'exit 2 when there are changes (0 none, 1 error), as terraform', false)
    .option('--expiring-within <duration>', 'list declared access that ends within this long (text output)', '14d')
    .action(async (opts) => setExit(await (await commands.reconcile()).runPlan(opts, io)));

  reconcileOptions(program.command('apply').description('apply manifests (after confirmation) or a saved plan'))
    .argument('[plan]', 'a plan saved by `orgctl plan --out`')
    .option('-y, --yes', 'apply without asking (required when standard input is not a terminal; a saved plan is never asked about)', false)
    .option('-v, --verbose', 'list every person in failure reports (grouped with counts otherwise)', false)
    .option('--lock-timeout <duration>', 'wait this long for another apply\'s lock on an organization (e.g. 30s, 5m)', '0s')
    .option('--lock-ttl <duration>', 'lease length, renewed while applying; a killed apply\'s lock frees itself after this', '30s')
    .option('--batch-size <n>', 'items per batch request over HTTP, 1 to 1000 (default $ORGCTL_BATCH_SIZE, else 1000)')
    .addOption(parallelismOption())
    .addOption(manifestSizeOption())
    .action(async (planFile: string | undefined, opts) => {
      // The first SIGINT/SIGTERM finishes the call in flight, reports what was and was not applied, releases
      // the lock and exits non-zero. A second one stops at once: the lock is given back, the call in flight
      // may or may not have been done (Terraform's double Ctrl-C).
      let stopping = false;
      let held: HeldLocks | undefined;
      const stop = () => {
        if (stopping) {
          io.stderr('\nsecond interrupt: stopping now; the change in flight may or may not have been applied (run plan to see)\n');
          const released = held ? held.release().catch(() => undefined) : Promise.resolve();
          void Promise.race([released, new Promise((r) => setTimeout(r, 3000).unref())]).then(() => process.exit(130));
          return;
        }
        stopping = true;
        io.stderr('\ninterrupted: finishing the change in flight, then stopping and releasing the lock; interrupt again to stop at once\n');
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      try {
        const code = await (await commands.reconcile()).runApply({ ...opts, planFile }, io, {
          confirm: io.confirm,
          shouldStop: () => stopping,
          onLocked: (locks) => (held = locks),
        });
        setExit(stopping ? Math.max(code, ExitCode.failure) : code);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });

  reconcileOptions(program.command('controller').description('keep every declared organization reconciled, continuously, from watched manifest directories or (--kubernetes) custom resources'))
    .option('--kubernetes', 'read Organization, Membership and Integration custom resources from the cluster ($KUBECONFIG, else the pod\'s service account) instead of -f', false)
    .option('--namespace <ns>', 'with --kubernetes: the namespace to watch (default: the kubeconfig\'s or the pod\'s)')
    .option('--all-namespaces', 'with --kubernetes: watch every namespace', false)
    .option('--leader-elect', 'with --kubernetes: only the replica holding the orgctl-controller Lease reconciles', false)
    .option('--leader-elect-lease-duration <duration>', 'how long a standby waits after the leader\'s last renewal before taking over', '15s')
    .option('--leader-elect-renew-deadline <duration>', 'how long the leader tries to renew before it stops (and exits)', '10s')
    .option('--leader-elect-retry-period <duration>', 'how often candidates try to take or renew the Lease', '2s')
    .option('--leader-elect-namespace <ns>', 'namespace of the leader election Lease and the per-organization lock Leases (default $POD_NAMESPACE, else the controller\'s)')
    .option('--concurrency <n>', 'organizations reconciled at once', '4')
    .option('--resync <duration>', 'reconcile each organization again after this long, to put back drift made on the platform', '10m')
    .option('--debounce <duration>', 'quiet time after a file change before reading the manifests again', '200ms')
    .option('--deletion-grace <duration>', 'how long an organization must stay gone from the manifests before deletionPolicy Delete acts', '30s')
    .option('--lock-ttl <duration>', 'apply lease length while reconciling an organization', '30s')
    .option('--batch-size <n>', 'items per batch request over HTTP, 1 to 1000 (default $ORGCTL_BATCH_SIZE, else 1000)')
    .option('--metrics-addr <host:port>', 'serve /metrics, /healthz and /readyz here (:0 for any free port)', '127.0.0.1:9464')
    .option('--log-format <format>', 'text (one line per event) or json (JSON lines)', 'text')
    .option('--dry-run', 'report drift (logs and metrics), write nothing', false)
    .option('--once', 'reconcile every organization once, then exit with apply\'s exit codes (cron, tests)', false)
    .action(async (opts) => setExit(await (await commands.controller()).runController(opts, io)));

  program
    .command('force-unlock')
    .description("break the apply lock on organizations, e.g. one a killed apply left (it also runs out by itself after --lock-ttl)")
    .argument('<org...>', 'organizations to unlock')
    .option('--platform <url>', 'dataloop[+URL], ango[+URL], http(s)://... or file:PATH; default $ORGCTL_PLATFORM, else file:.orgctl/platform.db')
    .option('--force', 'break the lock without asking', false)
    .action(async (orgs: string[], opts: { platform?: string; force: boolean }) => setExit(await (await commands.reconcile()).runForceUnlock(orgs, opts, io, io.confirm)));

  reconcileOptions(program.command('diff').description('report drift between manifests and the platform: exit 0 none, 1 drift, 2 error'))
    .addOption(outputOption())
    .addOption(parallelismOption())
    .addOption(manifestSizeOption())
    .action(async (opts) => setExit(await (await commands.reconcile()).runDiff(opts, io)));

  program
    .command('export')
    .description('write the live organization as manifests, such that plan on them shows no changes')
    .option('--org <name>', 'organization to export (default: the current context\'s organization)')
    .option('--out <dir>', 'write organization.yaml, members.yaml, integrations.yaml here (default: stdout)')
    .option('--platform <url>', 'dataloop[+URL], ango[+URL], http(s)://... or file:PATH; default $ORGCTL_PLATFORM, else file:.orgctl/platform.db')
    .action(async (opts: { org?: string; out?: string; platform?: string }) => {
      const org = opts.org ?? (opts.platform || io.env.ORGCTL_PLATFORM ? undefined : (await import('./config.js')).currentContext(io.env)?.organization);
      if (!org) throw new UserError('which organization? pass --org NAME (or set one in the current context)', ExitCode.usage);
      setExit(await (await commands.export()).runExport({ ...opts, org }, io));
    });

  program
    .command('handoff')
    .description('for a platform without a user API (deepomatic): write the bulk-invite CSVs and the checklist an admin applies by hand')
    .argument('<platform>', 'deepomatic')
    .requiredOption('-f, --filename <path...>', 'manifests: files, directories (recursive) or - for stdin')
    .requiredOption('--out <dir>', 'write invite-<role>.csv files and checklist.md here')
    .option('--current <csv>', "the admin page's user table (columns Email, Role, Status), to diff against as plan does")
    .option('--org <name>', 'the organization, when the manifests declare several')
    .option('--role <orgctl=deepomatic...>', 'map a role, e.g. member="Project manager" (default owner, admin -> Org Admin; member -> Data scientist; worker -> Annotator)', [])
    .action(async (target: string, opts: { filename: string[]; out: string; current?: string; org?: string; role: string[] }) => setExit(await (await commands.handoff()).runHandoff(target, opts, io)));

  program
    .command('report')
    .description('who has access to an organization and why: members and invites, who invited them, where they are declared')
    .option('--org <name>', "the organization (default: the current context's organization)")
    .option('-f, --filename <path...>', 'manifests: shows where each person is declared, and who is not')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'csv']).default('text'))
    .option('--stale-after <duration>', 'pending invites older than this are stale', '14d')
    .option('--platform <url>', 'dataloop[+URL], ango[+URL], http(s)://... or file:PATH; default $ORGCTL_PLATFORM, else file:.orgctl/platform.db')
    .action(async (opts: { org?: string; filename?: string[]; output: 'text' | 'json' | 'csv'; staleAfter: string; platform?: string }) => {
      const org = opts.org ?? (opts.platform || io.env.ORGCTL_PLATFORM ? undefined : (await import('./config.js')).currentContext(io.env)?.organization);
      if (!org) throw new UserError('which organization? pass --org NAME (or set one in the current context)', ExitCode.usage);
      setExit(await (await commands.report()).runReport({ ...opts, org }, io));
    });

  const config = program.command('config').description('contexts: which platform and organization orgctl works on ($ORGCTL_CONFIG or ~/.config/orgctl/config.yaml)');
  config.command('get-contexts').description('list contexts').action(async () => setExit((await commands.config()).runGetContexts(io)));
  config.command('current-context').description('print the current context').action(async () => setExit((await commands.config()).runCurrentContext(io)));
  config.command('view').description('print the config (token files are paths; tokens are never stored)').action(async () => setExit((await commands.config()).runView(io)));
  config
    .command('delete-context')
    .argument('<name>')
    .description('delete a context (unsets current-context if it was the current one)')
    .action(async (name: string) => setExit((await commands.config()).runDeleteContext(name, io)));
  config
    .command('use-context')
    .argument('<name>')
    .description('make NAME the current context')
    .action(async (name: string) => setExit((await commands.config()).runUseContext(name, io)));
  config
    .command('set-context')
    .argument('<name>')
    .description('create or update a context (never switches to it: use use-context)')
    .option('--platform <url>', 'dataloop[+URL], ango[+URL], http(s)://... or file:PATH')
    .option('--organization <name>', 'the active organization in this context (default --org of export; on Ango Hub its id)')
    .option('--token-file <path>', 'file holding the bearer token (never the token itself)')
    .action(async (name: string, opts: { platform?: string; organization?: string; tokenFile?: string }) => setExit((await commands.config()).runSetContext(name, opts, io)));

  const platform = program.command('platform').description('run and administer the built-in organization platform');
  const dbOption = () => new Option('--db <file>', 'SQLite database file (":memory:" for a throwaway one)').default('.orgctl/platform.db');
  platform
    .command('serve')
    .description('serve the platform REST API until SIGINT/SIGTERM')
    .addOption(dbOption())
    .option('--port <n>', 'TCP port (0: any free port)', '8080')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--invite-expiry-days <n>', 'days before an invite expires', '7')
    .option('--log', 'log requests as JSON lines on stderr', false)
    .option('--faults <spec>', 'inject faults (default $ORGCTL_PLATFORM_FAULTS): "seed=N; rpm=N; [METHOD] PATH: 5xx=P, 429=P, drop=P, drop-after=P, latency=A-Bms"')
    .action(async (opts: { db: string; port: string; host: string; inviteExpiryDays: string; log: boolean; faults?: string }) => setExit(await (await commands.platform()).runServe(opts, io)));
  platform
    .command('init')
    .description('create the first organization, its owner and a token on a fresh database')
    .addOption(dbOption())
    .requiredOption('--org <name>', 'name of the first organization')
    .option('--owner <email>', 'owner (default: $ORGCTL_USER, git config user.email, admin@localhost.localdomain)')
    .option('--display-name <text>', 'display name of the organization')
    .option('--plan <plan>', 'freemium or premium')
    .action(async (opts: { db: string; org: string; owner?: string; displayName?: string; plan?: string }) => setExit((await commands.platform()).runPlatformInit(opts, io)));
  const token = platform.command('token').description('API tokens: create (on the database), list, revoke, default expiry');
  const tokenPlatformOption = () =>
    new Option('--platform <url>', 'act over REST on http(s)://... with $ORGCTL_TOKEN or $ORGCTL_TOKEN_FILE (default: $ORGCTL_PLATFORM, unless --db is given)');
  token
    .command('create')
    .description('create a bearer token for a user (the user is created if new); prints it once')
    .addOption(dbOption())
    .requiredOption('--user <email>', 'the user the token acts as')
    .option('--name <name>', 'a name, unique among the user\'s live tokens (default "cli", else "cli-2", ...)')
    .addOption(new Option('--scope <scope>', 'read: every read the user\'s role allows, no write (plan, diff, export); write: everything').choices(['read', 'write']).default('write'))
    .option('--expires-in <duration>', 'lifetime, e.g. 90d, 12h, or "never" (default: the platform\'s default expiry)')
    .option('--superuser', 'the user is a platform operator', false)
    .action(async (opts: { db: string; user: string; name?: string; scope: string; expiresIn?: string; superuser: boolean }) =>
      setExit((await commands.platform()).runTokenCreate(opts, io)),
    );
  token
    .command('list')
    .description('list tokens (id, name, user, scope, created, last used, expiry; never the secret)')
    .addOption(dbOption())
    .addOption(tokenPlatformOption())
    .option('--user <email>', 'only this user\'s tokens (over REST, default: your own)')
    .option('--all', 'include revoked tokens', false)
    .addOption(outputOption())
    .action(async (opts: { db: string; platform?: string; user?: string; all: boolean; output: string }, cmd: Command) =>
      setExit(await (await commands.platform()).runTokenList({ ...opts, dbGiven: cmd.getOptionValueSource('db') === 'cli' }, io)),
    );
  token
    .command('revoke')
    .description('revoke a token at once, by id or by name')
    .argument('<name|id>', 'the token: its id, or its name (names are never all digits)')
    .addOption(dbOption())
    .addOption(tokenPlatformOption())
    .option('--user <email>', 'whose token the name is (needed when two users have live tokens of that name)')
    .action(async (ref: string, opts: { db: string; platform?: string; user?: string }, cmd: Command) =>
      setExit(await (await commands.platform()).runTokenRevoke(ref, { ...opts, dbGiven: cmd.getOptionValueSource('db') === 'cli' }, io)),
    );
  token
    .command('default-expiry')
    .description('show, or set, how long new tokens live when created without --expires-in')
    .argument('[duration]', 'e.g. 90d, or "never"')
    .addOption(dbOption())
    .action(async (value: string | undefined, opts: { db: string }) => setExit((await commands.platform()).runTokenDefaultExpiry(value, opts, io)));
  platform
    .command('invites')
    .description('act on invites as the invited person (demos and tests)')
    .command('accept')
    .description('accept the open invite of EMAIL to ORG')
    .requiredOption('--org <name>', 'organization')
    .requiredOption('--email <email>', 'the invited address')
    .addOption(dbOption())
    .option('--platform <url>', 'platform URL (default: $ORGCTL_PLATFORM, else the --db file); needs ORGCTL_TOKEN')
    .action(async (opts: { org: string; email: string; db: string; platform?: string }) => setExit(await (await commands.platform()).runInviteAccept(opts, io)));

  program
    .command('version')
    .description('print the orgctl version')
    .action(() => {
      io.stdout(`orgctl ${VERSION}\n`);
      setExit(ExitCode.ok);
    });

  return program;
}

/** Runs the CLI with arguments (without `node` and the script); returns the exit code. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  let code: number = ExitCode.ok;
  // Under --detailed-exitcode, 2 means "changes present" and nothing else (Terraform): every error is 1.
  const usageCode = argv[0] === 'plan' && argv.includes('--detailed-exitcode') ? ExitCode.failure : ExitCode.usage;
  const habit = terraformHabit(argv);
  if (habit) {
    io.stderr(`error: ${habit}\n`);
    return usageCode;
  }
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? ExitCode.ok : usageCode;
    }
    if (err instanceof UserError) {
      io.stderr(`error: ${err.message}\n`);
      return err.exitCode === ExitCode.usage ? usageCode : err.exitCode;
    }
    throw err;
  }
}

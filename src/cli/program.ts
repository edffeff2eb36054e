import { Command, CommanderError, Option } from 'commander';
import { runSchema } from './commands/schema.js';
import { runValidate } from './commands/validate.js';
import { ExitCode, UserError, type Io } from './io.js';
import { VERSION } from './version.js';

const outputOption = () => new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text');

/**
 * Builds the command tree. Commands set `exitCode`; nothing here calls process.exit, so the same program
 * runs in tests and in the binary.
 */
export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('orgctl')
    .description('Declarative organizations, members, invites and integrations for ML data platforms.')
    .version(VERSION, '--version', 'print the orgctl version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();

  program
    .command('validate')
    .description('check manifests against the CRD schemas and each other; exit 0 when valid, 1 when not')
    .requiredOption('-f, --filename <path...>', 'files, directories (recursive) or - for stdin')
    .addOption(outputOption())
    .option('--strict', 'treat documents that are not orgctl kinds as errors instead of skipping them', false)
    .action((opts: { filename: string[]; output: 'text' | 'json'; strict: boolean }) => setExit(runValidate(opts, io)));

  program
    .command('schema')
    .description('print the JSON Schema of the manifests (for editors and yaml-language-server)')
    .argument('[kind]', 'one kind (Organization, Membership, Integration); default: all kinds in one schema')
    .option('--out <dir>', 'write one file per kind (and orgctl.json for all) into this directory')
    .action((kind: string | undefined, opts: { out?: string }) => setExit(runSchema(kind, opts, io)));

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
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (err instanceof UserError) {
      io.stderr(`error: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

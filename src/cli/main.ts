import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { runCli } from './program.js';

// The binary's shell: real streams and process state in, exit code out.
// If the event loop runs dry while a command still awaits (a promise nothing will ever settle), Node would
// end the process with the launcher's exit code 0 and no word: a "successful" apply that did not finish.
let finished = false;
process.once('beforeExit', () => {
  if (finished) return;
  process.stderr.write('orgctl: internal error: the command stopped before finishing (nothing left to wait for); treat its work as incomplete\n');
  process.exitCode = 70;
});
const code = await runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stdin: () => readFileSync(0),
  cwd: process.cwd(),
  env: process.env,
  isTTY: Boolean(process.stdout.isTTY && process.stdin.isTTY),
  confirm: async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return (await rl.question(question)).trim() === 'yes';
    } finally {
      rl.close();
    }
  },
}).catch((err: unknown) => {
  process.stderr.write(`orgctl: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 70;
});
finished = true;
process.exitCode = code;

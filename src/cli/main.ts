import { MAX_SOURCE_BYTES } from '../manifest/sources.js';
import { readBounded } from '../util/read-bounded.js';
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
  // Standard input is read up to the manifest limit: a pipe may never end.
  stdin: () => readBounded(0, MAX_SOURCE_BYTES),
  cwd: process.cwd(),
  env: process.env,
  isTTY: Boolean(process.stdout.isTTY),
  interactive: Boolean(process.stdin.isTTY),
  stderrTTY: Boolean(process.stderr.isTTY),
  confirm: (question) =>
    new Promise<boolean>((resolve) => {
      // Ctrl-C (SIGINT at the prompt) and Ctrl-D (end of input) are a "no", not a crash.
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      let answered = false;
      const answer = (yes: boolean) => {
        if (answered) return;
        answered = true;
        rl.close();
        resolve(yes);
      };
      rl.on('SIGINT', () => {
        process.stderr.write('\n');
        answer(false);
      });
      rl.on('close', () => answer(false));
      rl.question(question).then((text) => answer(text.trim() === 'yes'), () => answer(false));
    }),
}).catch((err: unknown) => {
  process.stderr.write(`orgctl: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 70;
});
finished = true;
process.exitCode = code;

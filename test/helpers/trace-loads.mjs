// Preloaded into a CLI child process (node --import) by tests: on exit, writes every module the process
// loaded (ES modules by URL, CommonJS by path) to the file named by ORGCTL_TRACE_LOADS.
import { writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const out = process.env.ORGCTL_TRACE_LOADS;
if (out) {
  const { port1, port2 } = new MessageChannel();
  const esm = [];
  port1.on('message', (url) => esm.push(url));
  port1.unref();
  register(
    `data:text/javascript,${encodeURIComponent(`
      let port;
      export function initialize(data) { port = data.port; }
      export async function load(url, context, next) { port.postMessage(url); return next(url, context); }
    `)}`,
    { data: { port: port2 }, transferList: [port2] },
  );
  process.on('exit', () => {
    const cjs = Object.keys(createRequire(import.meta.url).cache);
    writeFileSync(out, JSON.stringify({ esm, cjs }));
  });
}

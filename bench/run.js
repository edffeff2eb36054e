// Runs every benchmark and prints its figures; exits 1 if any misses its target.
import { benchController } from './controller.js';
import { benchKubernetes } from './kubernetes.js';
import { benchPlan } from './plan.js';
import { benchPlatform } from './platform.js';
import { benchRatelimit } from './ratelimit.js';
import { benchScale } from './scale.js';
import { benchStartup } from './startup.js';
import { benchValidate } from './validate.js';

const benches = {
  validate: benchValidate,
  platform: benchPlatform,
  plan: benchPlan,
  ratelimit: benchRatelimit,
  scale: benchScale,
  startup: benchStartup,
  controller: benchController,
  kubernetes: benchKubernetes,
};
const only = process.argv.slice(2);
let ok = true;
for (const [name, fn] of Object.entries(benches)) {
  if (only.length && !only.includes(name)) continue;
  ok = (await fn()) && ok;
}
process.exitCode = ok ? 0 : 1;

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { Target } from '../../platform/registry.js';
import type { PlanResult } from '../../plan/planner.js';
import { predictState } from '../../plan/predict.js';
import { UserError, type Io } from '../io.js';
import { exportManifests, renderManifests } from './export.js';

/** One organization for `orgctl diff`: its manifests live and after apply, and what YAML cannot show. */
export interface DiffSide {
  org: string;
  live: string;
  desired: string;
  hidden: string[];
}

/** Each organization as YAML, live and as it will be after apply, rendered the way export writes them. */
export function diffSides(result: PlanResult, platform: Target['platform']): DiffSide[] {
  const out: DiffSide[] = [];
  const byOrg = new Map<string, PlanResult['plan']['changes']>();
  for (const c of result.plan.changes) {
    let list = byOrg.get(c.organization);
    if (!list) byOrg.set(c.organization, (list = []));
    list.push(c);
  }
  for (const org of Object.keys(result.plan.observed)) {
    const actual = result.actual.get(org);
    const changes = byOrg.get(org) ?? [];
    const after = predictState(org, actual, changes);
    const text = (state: typeof actual) => (state ? exportManifests(state, platform.capabilities).map((f) => renderManifests(f.docs)).join('---\n') : '');
    // What YAML cannot show: credentials (never shown anywhere).
    const hidden = changes.filter((c) => c.action === 'update-integration' && /credentials differ/.test(c.reason)).map((c) => `integration "${c.target}": credentials differ from the platform's (secrets are not shown)`);
    out.push({ org, live: text(actual), desired: text(after), hidden });
  }
  return out;
}

/**
 * Runs `$ORGCTL_EXTERNAL_DIFF` (as kubectl's KUBECTL_EXTERNAL_DIFF: a command and its arguments, given two
 * directories `live` and `desired` with one file per organization). Its exit code above 1 is an error.
 */
export function externalDiff(command: string, sides: DiffSide[], io: Io, errorCode: number): void {
  const dir = mkdtempSync(join(tmpdir(), 'orgctl-diff-'));
  try {
    for (const side of ['live', 'desired'] as const) {
      mkdirSync(join(dir, side));
      for (const s of sides) writeFileSync(join(dir, side, `${s.org}.yaml`), s[side]);
    }
    const [program, ...args] = command.trim().split(/\s+/);
    const r = spawnSync(program!, [...args, join(dir, 'live'), join(dir, 'desired')], { encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.error) throw new UserError(`cannot run ORGCTL_EXTERNAL_DIFF (${program}): ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`, errorCode);
    io.stdout(r.stdout ?? '');
    io.stderr(r.stderr ?? '');
    if ((r.status ?? 2) > 1) throw new UserError(`ORGCTL_EXTERNAL_DIFF (${program}) exited with ${r.status ?? r.signal}`, errorCode);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** kubectl diff's unified form of one organization, three lines of context. */
export function unifiedDiff(s: DiffSide): string {
  return createTwoFilesPatch(`live/${s.org}.yaml`, `desired/${s.org}.yaml`, s.live, s.desired, undefined, undefined, { context: 3 }).replace(/^=+\n/, '');
}

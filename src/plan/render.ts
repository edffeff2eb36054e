import { canonicalJson } from '../model/canonical-json.js';
import { byOrganization, type Action, type Change, type Observed, type Plan } from '../model/plan.js';
import type { ApplyOutcome } from './apply.js';

export const ADDS: ReadonlySet<Action> = new Set(['create-organization', 'create-integration', 'invite']);
export const REMOVES: ReadonlySet<Action> = new Set(['remove-member', 'cancel-invite', 'delete-integration', 'cache-destroy']);

export function symbol(a: Action): '+' | '~' | '-' {
  return ADDS.has(a) ? '+' : REMOVES.has(a) ? '-' : '~';
}

const COLORS = { '+': '\u001b[32m', '~': '\u001b[33m', '-': '\u001b[31m', bold: '\u001b[1m', reset: '\u001b[0m' };

function detail(c: Change): string {
  switch (c.action) {
    case 'update-role':
      return `${c.before.role} -> ${c.after.role}`;
    case 'invite':
      return `as ${c.after.role}${c.after.projects ? ` (+${c.after.projects.length} project${c.after.projects.length === 1 ? '' : 's'})` : ''}`;
    case 'resend-invite':
      return `expired invite, as ${c.after.role}`;
    case 'reinvite':
      return `pending invite ${c.before.role} -> ${c.after.role}`;
    case 'remove-member':
    case 'cancel-invite':
      return `(${c.before.role})`;
    case 'update-profile': {
      const before: Record<string, string | undefined> = { ...c.before };
      return Object.entries(c.after)
        .map(([k, v]) => `${k}: ${JSON.stringify(before[k] ?? '')} -> ${JSON.stringify(v)}`)
        .join(', ');
    }
    case 'rename':
      return `${JSON.stringify(c.before.displayName)} -> ${JSON.stringify(c.after.displayName)}`;
    case 'update-plan':
      return `${c.before.plan} -> ${c.after.plan}`;
    case 'create-organization':
      return `(${c.after.plan}${c.after.creator ? `, creator ${c.after.creator}` : ''})`;
    case 'cache-apply':
      return `pod type ${c.after.podType}`;
    case 'create-integration':
      return `(${c.after.type}${c.after.credentials ? `, credentials from ${c.after.credentials}` : ''})`;
    case 'update-integration': {
      // Options are never secret (validation refuses secrets inline), so what changes can be shown.
      const before: Record<string, unknown> = c.before.type === c.after.type ? c.before.options : {};
      const keys = [...new Set([...Object.keys(before), ...Object.keys(c.after.options)])].sort();
      const changed = keys
        .filter((k) => canonicalJson(before[k]) !== canonicalJson(c.after.options[k]))
        .map((k) => `options.${k}: ${k in before ? JSON.stringify(before[k]) : '(none)'} -> ${k in c.after.options ? JSON.stringify(c.after.options[k]) : '(none)'}`);
      const type = c.before.type !== c.after.type ? [`type ${c.before.type} -> ${c.after.type} (replaced)`] : [];
      const credentials = /credentials differ/.test(c.reason) ? ["credentials differ from the platform's"] : [];
      return `(${c.after.type}${c.after.credentials ? `, credentials from ${c.after.credentials}` : ''}) ${[...type, ...changed, ...credentials].join('; ')}`.trim();
    }
    case 'cache-destroy':
    case 'delete-integration':
      return '';
  }
}

/** What a plan says it read of an organization. */
function describeObserved(o: Observed | undefined): string {
  if (o === null || o === undefined) return 'does not exist yet';
  return typeof o === 'number' ? `state version ${o}` : `observed ${o.slice(0, 19)}…`;
}

export interface RenderOptions {
  color?: boolean;
  /**
   * Cut long runs for a terminal: more than `cutAbove` changes of one action in one organization show as the
   * first `cutTo` and a count line. Files, pipes and JSON are never cut.
   */
  cut?: { above: number; to: number };
  /** Existing integrations whose credentials were not compared, said in the summary. */
  uncompared?: string[];
}

/** What a long run of one action is called in the count line: `invites as worker`, `removals`. */
function runName(action: Action, first: Change): string {
  const names: Partial<Record<Action, string>> = {
    invite: 'invites',
    'resend-invite': 'resends',
    reinvite: 'reinvites',
    'update-role': 'role changes',
    'update-profile': 'profile changes',
    'remove-member': 'removals',
    'cancel-invite': 'cancelled invites',
    'create-integration': 'new integrations',
    'update-integration': 'integration updates',
    'delete-integration': 'integration deletions',
  };
  const role = first.action === 'invite' ? ` as ${first.after.role}` : '';
  return `${names[action] ?? `${action} changes`}${role}`;
}

/** Terraform-like text: grouped by organization, one line per change, a summary line at the end. */
export function renderPlan(plan: Plan, opts: RenderOptions | boolean = {}): string {
  const o: RenderOptions = typeof opts === 'boolean' ? { color: opts } : opts;
  const paint = (s: string, code: string) => (o.color ? `${code}${s}${COLORS.reset}` : s);
  const lines: string[] = [];
  for (const [org, changes] of byOrganization(plan.changes, Object.keys(plan.observed))) {
    lines.push(paint(`organization ${org}`, COLORS.bold) + ` (${describeObserved(plan.observed[org])})`);
    if (changes.length === 0) lines.push('  no changes');
    // Changes are sorted by action, so each action is one run; a long run is cut on a terminal, per role for
    // invites (`... and 19,980 more invites as worker`).
    const line = (c: Change) => {
      const sym = symbol(c.action);
      lines.push(`  ${paint(`${sym} ${c.action}`, COLORS[sym])} ${c.target} ${detail(c)}`.trimEnd());
    };
    let i = 0;
    while (i < changes.length) {
      const first = changes[i]!;
      let j = i + 1;
      while (j < changes.length && changes[j]!.action === first.action) j++;
      const run = changes.slice(i, j);
      i = j;
      if (!o.cut || run.length <= o.cut.above) {
        run.forEach(line);
        continue;
      }
      const parts = new Map<string, Change[]>();
      for (const c of run) {
        const key = c.action === 'invite' ? c.after.role : '';
        let part = parts.get(key);
        if (!part) parts.set(key, (part = []));
        part.push(c);
      }
      for (const part of parts.values()) {
        part.slice(0, o.cut.to).forEach(line);
        if (part.length > o.cut.to) lines.push(`  ... and ${(part.length - o.cut.to).toLocaleString('en-US')} more ${runName(first.action, part[0]!)}; -o json, --out or --full for all`);
      }
    }
    lines.push('');
  }
  const add = plan.changes.filter((c) => ADDS.has(c.action)).length;
  const remove = plan.changes.filter((c) => REMOVES.has(c.action)).length;
  const change = plan.changes.length - add - remove;
  const uncompared = o.uncompared?.length
    ? ` ${o.uncompared.length} integration${o.uncompared.length === 1 ? "'s" : "s'"} credentials not compared (${o.uncompared.join(', ')}).`
    : '';
  lines.push(
    plan.changes.length === 0
      ? `No changes. The platform matches the manifests.${uncompared}`
      : `Plan: ${add} to add, ${change} to change, ${remove} to remove (${plan.platform}).${uncompared}`,
  );
  return `${lines.join('\n')}\n`;
}

/** Changes grouped by action and error (or reason), in order of first appearance, with their targets. */
function group(list: { change: Change; why: string }[]): { action: Action; why: string; targets: string[] }[] {
  const groups = new Map<string, { action: Action; why: string; targets: string[] }>();
  for (const { change, why } of list) {
    const key = `${change.action}\u0000${why}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { action: change.action, why, targets: [] }));
    g.targets.push(change.organization === change.target ? change.target : `${change.organization}/${change.target}`);
  }
  return [...groups.values()];
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * What an apply did. Failures and changes not attempted are grouped by action and error with counts (318
 * identical "injected 503" lines say less than one line with 318 on it); `verbose` lists every person. The
 * summary line comes last, where a terminal leaves it in sight.
 */
export function renderOutcome(outcome: ApplyOutcome, opts: { verbose?: boolean } = {}): string {
  const lines: string[] = [];
  const section = (title: string, list: { change: Change; why: string }[]) => {
    if (!list.length) return;
    lines.push(`${title} (${count(list.length)}):`);
    for (const g of group(list)) {
      const shown = opts.verbose ? [] : g.targets.slice(0, 3);
      const more = g.targets.length - shown.length;
      const examples = opts.verbose ? '' : ` [${shown.join(', ')}${more > 0 ? `, and ${count(more)} more` : ''}]`;
      lines.push(`  ${g.action} x ${count(g.targets.length)}: ${g.why}${examples}`);
      if (opts.verbose) for (const t of g.targets) lines.push(`    ${t}`);
    }
  };
  section('failed', outcome.failed.map((f) => ({ change: f.change, why: f.error })));
  section('not attempted', outcome.skipped.map((s) => ({ change: s.change, why: s.reason })));
  lines.push(
    `Apply ${outcome.failed.length || outcome.skipped.length ? 'incomplete' : 'complete'}: ${outcome.applied.length} applied, ${outcome.failed.length} failed, ${outcome.skipped.length} not attempted.`,
  );
  return `${lines.join('\n')}\n`;
}

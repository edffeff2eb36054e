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
    case 'update-integration':
      return `(${c.after.type}${c.after.credentials ? `, credentials from ${c.after.credentials}` : ''}) ${c.action === 'update-integration' ? c.reason : ''}`.trim();
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

/** Terraform-like text: grouped by organization, one line per change, a summary line at the end. */
export function renderPlan(plan: Plan, color: boolean): string {
  const paint = (s: string, code: string) => (color ? `${code}${s}${COLORS.reset}` : s);
  const lines: string[] = [];
  for (const [org, changes] of byOrganization(plan.changes, Object.keys(plan.observed))) {
    lines.push(paint(`organization ${org}`, COLORS.bold) + ` (${describeObserved(plan.observed[org])})`);
    if (changes.length === 0) lines.push('  no changes');
    for (const c of changes) {
      const s = symbol(c.action);
      lines.push(`  ${paint(`${s} ${c.action}`, COLORS[s])} ${c.target} ${detail(c)}`.trimEnd());
    }
    lines.push('');
  }
  const add = plan.changes.filter((c) => ADDS.has(c.action)).length;
  const remove = plan.changes.filter((c) => REMOVES.has(c.action)).length;
  const change = plan.changes.length - add - remove;
  lines.push(
    plan.changes.length === 0
      ? 'No changes. The platform matches the manifests.'
      : `Plan: ${add} to add, ${change} to change, ${remove} to remove (${plan.platform}).`,
  );
  return `${lines.join('\n')}\n`;
}

export function renderOutcome(outcome: ApplyOutcome): string {
  const lines = outcome.failed.map((f) => `  failed: ${f.change.action} ${f.change.organization} ${f.change.target}: ${f.error}`);
  lines.push(
    `Apply ${outcome.failed.length || outcome.skipped.length ? 'incomplete' : 'complete'}: ${outcome.applied.length} applied, ${outcome.failed.length} failed, ${outcome.skipped.length} not attempted.`,
  );
  for (const s of outcome.skipped) lines.push(`  not attempted: ${s.change.action} ${s.change.organization} ${s.change.target} (${s.reason})`);
  return `${lines.join('\n')}\n`;
}

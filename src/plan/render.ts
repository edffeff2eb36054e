import type { ApplyOutcome } from './apply.js';
import { byOrganization, type Action, type Change, type Plan } from './model.js';

export const ADDS: ReadonlySet<Action> = new Set(['create-organization', 'create-integration', 'invite']);
export const REMOVES: ReadonlySet<Action> = new Set(['remove-member', 'cancel-invite', 'delete-integration', 'cache-destroy']);

export function symbol(a: Action): '+' | '~' | '-' {
  return ADDS.has(a) ? '+' : REMOVES.has(a) ? '-' : '~';
}

export function summarize(changes: Change[]): Plan['summary'] {
  const summary: Record<string, number> = {};
  for (const c of changes) summary[c.action] = (summary[c.action] ?? 0) + 1;
  return { ...summary, total: changes.length };
}

const COLORS = { '+': '\u001b[32m', '~': '\u001b[33m', '-': '\u001b[31m', bold: '\u001b[1m', reset: '\u001b[0m' };

function detail(c: Change): string {
  const a = c.after ?? {};
  const b = c.before ?? {};
  switch (c.action) {
    case 'update-role':
      return `${b.role} -> ${a.role}`;
    case 'invite':
      return `as ${a.role}${Array.isArray(a.projects) ? ` (+${a.projects.length} project${a.projects.length === 1 ? '' : 's'})` : ''}`;
    case 'resend-invite':
      return `expired invite, as ${a.role}`;
    case 'reinvite':
      return `pending invite ${b.role} -> ${a.role}`;
    case 'remove-member':
    case 'cancel-invite':
      return `(${b.role})`;
    case 'update-profile':
      return Object.entries(a).map(([k, v]) => `${k}: ${JSON.stringify(b[k] ?? '')} -> ${JSON.stringify(v)}`).join(', ');
    case 'rename':
      return `${JSON.stringify(b.displayName)} -> ${JSON.stringify(a.displayName)}`;
    case 'update-plan':
      return `${b.plan} -> ${a.plan}`;
    case 'create-organization':
      return `(${a.plan}${a.creator ? `, creator ${a.creator}` : ''})`;
    case 'cache-apply':
      return `pod type ${a.podType}`;
    case 'create-integration':
    case 'update-integration':
      return `(${a.type}${a.credentials ? `, credentials from ${a.credentials}` : ''}) ${c.action === 'update-integration' ? c.reason : ''}`.trim();
    default:
      return '';
  }
}

/** Terraform-like text: grouped by organization, one line per change, a summary line at the end. */
export function renderPlan(plan: Plan, color: boolean): string {
  const paint = (s: string, code: string) => (color ? `${code}${s}${COLORS.reset}` : s);
  const lines: string[] = [];
  for (const [org, changes] of byOrganization(plan.changes, Object.keys(plan.observed))) {
    const version = plan.observed[org];
    lines.push(paint(`organization ${org}`, COLORS.bold) + ` (${version === null ? 'does not exist yet' : `state version ${version}`})`);
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

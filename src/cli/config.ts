import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { load } from 'js-yaml';
import { createRequire } from 'node:module';
import { UserError } from './io.js';

/** A named target, as kubeconfig contexts: a platform, the active organization there, and where the token is. */
export interface Context {
  name: string;
  platform: string;
  organization?: string;
  tokenFile?: string;
}

export interface Config {
  currentContext?: string;
  contexts: Context[];
}

export function configPath(env: NodeJS.ProcessEnv): string {
  return env.ORGCTL_CONFIG ?? join(env.HOME ?? homedir(), '.config/orgctl/config.yaml');
}

export function readConfig(env: NodeJS.ProcessEnv): Config {
  const path = configPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { contexts: [] };
    throw new UserError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code}`);
  }
  let raw: unknown;
  try {
    raw = load(text);
  } catch (err) {
    throw new UserError(`${path}: not valid YAML: ${(err as { reason?: string }).reason ?? ''}`);
  }
  const doc = (raw ?? {}) as { 'current-context'?: unknown; contexts?: unknown };
  if (typeof doc !== 'object' || (doc.contexts !== undefined && !Array.isArray(doc.contexts))) throw new UserError(`${path}: contexts must be a list`);
  const contexts = ((doc.contexts as unknown[]) ?? []).map((c, i) => {
    const ctx = c as Record<string, unknown>;
    if (typeof ctx?.name !== 'string' || typeof ctx.platform !== 'string') throw new UserError(`${path}: contexts[${i}] needs a name and a platform`);
    return {
      name: ctx.name,
      platform: ctx.platform,
      ...(typeof ctx.organization === 'string' ? { organization: ctx.organization } : {}),
      ...(typeof ctx.tokenFile === 'string' ? { tokenFile: ctx.tokenFile } : {}),
    };
  });
  return { currentContext: typeof doc['current-context'] === 'string' ? doc['current-context'] : undefined, contexts };
}

export function writeConfig(env: NodeJS.ProcessEnv, config: Config): void {
  const path = configPath(env);
  mkdirSync(dirname(path), { recursive: true });
  // `yaml` only when writing the config: reading commands do not pay for loading it.
  const { stringify } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  writeFileSync(path, stringify({ 'current-context': config.currentContext ?? null, contexts: config.contexts }), { mode: 0o600 });
}

export function currentContext(env: NodeJS.ProcessEnv): Context | undefined {
  const config = readConfig(env);
  if (!config.currentContext) return undefined;
  const ctx = config.contexts.find((c) => c.name === config.currentContext);
  if (!ctx) throw new UserError(`current context "${config.currentContext}" is not defined in ${configPath(env)}`);
  return ctx;
}

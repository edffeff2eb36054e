import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { configPath, readConfig, writeConfig, type Context } from '../config.js';
import { ExitCode, UserError, type Io } from '../io.js';
import { checkPlatformAddress } from '../platform-url.js';

export function runGetContexts(io: Io): number {
  const config = readConfig(io.env);
  const rows = [['CURRENT', 'NAME', 'PLATFORM', 'ORGANIZATION'], ...config.contexts.map((c) => [c.name === config.currentContext ? '*' : '', c.name, c.platform, c.organization ?? ''])];
  const widths = rows[0]!.map((_, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), 0));
  io.stdout(`${rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('   ').trimEnd()).join('\n')}\n`);
  return ExitCode.ok;
}

export function runCurrentContext(io: Io): number {
  const config = readConfig(io.env);
  if (!config.currentContext) throw new UserError(`current-context is not set (${configPath(io.env)})`);
  io.stdout(`${config.currentContext}\n`);
  return ExitCode.ok;
}

export function runUseContext(name: string, io: Io): number {
  const config = readConfig(io.env);
  if (!config.contexts.some((c) => c.name === name)) {
    throw new UserError(`no context named "${name}"; known: ${config.contexts.map((c) => c.name).join(', ') || 'none (add one with orgctl config set-context)'}`);
  }
  writeConfig(io.env, { ...config, currentContext: name });
  io.stdout(`switched to context "${name}"\n`);
  return ExitCode.ok;
}

export function runSetContext(name: string, opts: { platform?: string; organization?: string; tokenFile?: string }, io: Io): number {
  const config = readConfig(io.env);
  const existing = config.contexts.find((c) => c.name === name);
  const platform = opts.platform ?? existing?.platform;
  if (!platform) throw new UserError('a new context needs --platform (dataloop, ango, http(s)://... or file:PATH)', ExitCode.usage);
  checkPlatformAddress(platform, '--platform');
  const ctx: Context = {
    name,
    platform,
    ...((opts.organization ?? existing?.organization) ? { organization: opts.organization ?? existing?.organization } : {}),
    // Stored absolute: the config is read from wherever orgctl runs next.
    ...((opts.tokenFile ?? existing?.tokenFile) ? { tokenFile: opts.tokenFile ? resolve(io.cwd, opts.tokenFile) : existing?.tokenFile } : {}),
  };
  // As kubectl: setting a context never switches to it; only use-context does.
  writeConfig(io.env, { currentContext: config.currentContext, contexts: [...config.contexts.filter((c) => c.name !== name), ctx] });
  io.stdout(`context "${name}" ${existing ? 'updated' : 'created'}\n`);
  if (config.currentContext !== name) io.stderr(`note: "${name}" is not the current context; switch with: orgctl config use-context ${name}\n`);
  return ExitCode.ok;
}

/** `orgctl config view`: the config as stored (token files are paths; tokens are never in it). */
export function runView(io: Io): number {
  const config = readConfig(io.env);
  io.stdout(`# ${configPath(io.env)}\n${stringify({ 'current-context': config.currentContext ?? null, contexts: config.contexts })}`);
  return ExitCode.ok;
}

/** `orgctl config delete-context NAME`, as kubectl's; deleting the current one unsets current-context. */
export function runDeleteContext(name: string, io: Io): number {
  const config = readConfig(io.env);
  if (!config.contexts.some((c) => c.name === name)) {
    throw new UserError(`no context named "${name}"; known: ${config.contexts.map((c) => c.name).join(', ') || 'none'}`);
  }
  const current = config.currentContext === name ? undefined : config.currentContext;
  writeConfig(io.env, { currentContext: current, contexts: config.contexts.filter((c) => c.name !== name) });
  io.stdout(`deleted context "${name}"\n`);
  if (config.currentContext === name) io.stderr(`note: "${name}" was the current context; current-context is now unset\n`);
  return ExitCode.ok;
}

import { execFileSync } from 'node:child_process';

/**
 * Who the local operator is, for the embedded platform: $ORGCTL_USER, else `git config user.email`, else
 * admin@localhost.localdomain (a host name the email rule takes). Never fails: a fresh machine without git still works.
 */
export function localIdentity(env: NodeJS.ProcessEnv, cwd: string): string {
  if (env.ORGCTL_USER?.trim()) return env.ORGCTL_USER.trim();
  try {
    const email = execFileSync('git', ['config', 'user.email'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    if (email) return email;
  } catch {
    // no git, or no user.email configured
  }
  return 'admin@localhost.localdomain';
}

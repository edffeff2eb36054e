import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { orgctl, tempDir } from './cli.js';

function membership(people: number): string {
  const lines = ['apiVersion: orgctl.dev/v1alpha1', 'kind: Organization', 'metadata:', '  name: big', 'spec:', '  plan: premium', '---', 'apiVersion: orgctl.dev/v1alpha1', 'kind: Membership', 'metadata:', '  name: big-people', 'spec:', '  organization: big', '  members:'];
  for (let i = 0; i < people; i++) lines.push(`    - email: person${i}@big-organization.example`, '      role: member', `      firstName: First${i}`, `      lastName: Last${i}`);
  return `${lines.join('\n')}\n`;
}

describe('orgctl validate and the Kubernetes object size limit', () => {
  it('warns about a Membership too large for a cluster, and says to split it; a small one says nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'big.yaml'), membership(15_000));
    writeFileSync(join(dir, 'small.yaml'), membership(100).replaceAll('big', 'small'));
    const big = await orgctl(['validate', '-f', 'big.yaml'], { cwd: dir });
    expect(big.code).toBe(0); // valid: the command line can apply it; only a cluster cannot hold it
    expect(big.stderr).toMatch(/big\.yaml: warning: Membership "big-people" is 1\.\d\d MiB as JSON \(15000 people\); a Kubernetes API server refuses objects over about 1\.50 MiB, so it cannot be applied to a cluster: split it into several Memberships naming the same organization/);
    const small = await orgctl(['validate', '-f', 'small.yaml'], { cwd: dir });
    expect(small.code).toBe(0);
    expect(small.stderr).toBe('');
  });
});

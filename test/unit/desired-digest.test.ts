import { describe, expect, it } from 'vitest';
import { desiredDigest } from '../../src/controller/source.js';
import { desiredState } from '../../src/manifest/desired.js';
import { loadManifests } from '../../src/manifest/load.js';

const org = `apiVersion: orgctl.dev/v1alpha1
kind: Organization
metadata:
  name: acme
spec: {}
`;
const membership = (members: string[]) => `apiVersion: orgctl.dev/v1alpha1
kind: Membership
metadata:
  name: team
spec:
  organization: acme
  members:
${members.map((m) => `    - ${m}`).join('\n')}
`;

function digest(files: Record<string, string>): string {
  const loaded = loadManifests(Object.entries(files).map(([name, text]) => ({ name, bytes: new TextEncoder().encode(text), dir: '.' })));
  expect(loaded.diagnostics).toEqual([]);
  return desiredDigest(desiredState(loaded.objects).get('acme')!);
}

describe('desiredDigest: which organizations a change of files touched', () => {
  const base = digest({ 'org.yaml': org, 'team.yaml': membership(['{email: a@acme.example, role: owner}', '{email: b@acme.example}']) });

  it('ignores where people are declared: a renamed file or reordered entries change nothing to apply', () => {
    expect(digest({ 'org.yaml': org, 'people/renamed.yaml': membership(['{email: a@acme.example, role: owner}', '{email: b@acme.example}']) })).toBe(base);
    expect(digest({ 'org.yaml': org, 'team.yaml': membership(['{email: b@acme.example}', '{email: a@acme.example, role: owner}']) })).toBe(base);
  });

  it('changes with what people are: a role, a new person', () => {
    expect(digest({ 'org.yaml': org, 'team.yaml': membership(['{email: a@acme.example, role: owner}', '{email: b@acme.example, role: admin}']) })).not.toBe(base);
    expect(digest({ 'org.yaml': org, 'team.yaml': membership(['{email: a@acme.example, role: owner}', '{email: b@acme.example}', '{email: c@acme.example}']) })).not.toBe(base);
  });
});

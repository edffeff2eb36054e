import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifests } from '../src/manifest/load.js';
import { readSources } from '../src/manifest/sources.js';

const ROOT = join(import.meta.dirname, '..');
const DIR = 'test/fixtures/invalid';

/** [file, line, column, field path, message fragment], relative to test/fixtures/invalid. */
type Expected = [string, number, number, string, string];

function diagnose(fixture: string) {
  const read = readSources([join(DIR, fixture)], { cwd: ROOT });
  const result = loadManifests(read.sources, { strict: fixture === 'other-group-strict.yaml' });
  return [...read.diagnostics, ...result.diagnostics];
}

/**
 * Every broken manifest, with every diagnostic it must produce: exact place, field path and what is
 * wrong. Line and column were checked by hand against each fixture (1-based; a quoted scalar starts at
 * its quote; a missing field is reported where its parent mapping starts).
 */
const CORPUS: [string, Expected[]][] = [
  ["alias-bomb.yaml", [
    ["alias-bomb.yaml", 1, 1, "", "YAML aliases expand to far more data than the file holds (an alias bomb?)"],
  ]],
  ["apiversion-not-string.yaml", [
    ["apiversion-not-string.yaml", 1, 13, "apiVersion", "must be a string"],
  ]],
  ["authoritative-without-owner.yaml", [
    ["authoritative-without-owner.yaml", 7, 13, "spec.members.policy", "organization \"acme\" is authoritative but no Membership declares an owner of it"],
  ]],
  ["credentialsref-empty.yaml", [
    ["credentialsref-empty.yaml", 16, 19, "spec.credentialsRef", "set exactly one of secretName, env, file"],
  ]],
  ["credentialsref-env-value.yaml", [
    ["credentialsref-env-value.yaml", 18, 24, "spec.credentialsRef.env.secretAccessKey", "must be the name of an environment variable (letters, digits and \"_\", not starting with a "],
  ]],
  ["credentialsref-keys-without-secret.yaml", [
    ["credentialsref-keys-without-secret.yaml", 18, 11, "spec.credentialsRef.keys", "keys maps credential fields to keys of a Kubernetes Secret"],
  ]],
  ["credentialsref-two-sources.yaml", [
    ["credentialsref-two-sources.yaml", 17, 5, "spec.credentialsRef", "set exactly one of secretName, env, file (found env and file)"],
  ]],
  ["cross-file-duplicate-membership", [
    ["cross-file-duplicate-membership/b.yaml", 4, 9, "metadata.name", "duplicate Membership \"team\": also declared at test/fixtures/invalid/cross-file-duplicate-m"],
  ]],
  ["cross-file-role", [
    ["cross-file-role/team.yaml", 10, 14, "spec.members[1].email", "a@acme.example is declared in organization \"acme\" with role \"member\" here and with role \"a"],
  ]],
  ["deep-nesting.yaml", [
    ["deep-nesting.yaml", 6, 78, "", "YAML syntax error: nesting exceeded maxDepth (64)"],
  ]],
  ["doc-is-list.yaml", [
    ["doc-is-list.yaml", 1, 1, "", "expected an object with apiVersion and kind, found a list"],
  ]],
  ["doc-is-scalar.yaml", [
    ["doc-is-scalar.yaml", 8, 1, "", "expected an object with apiVersion and kind, found a string"],
  ]],
  ["duplicate-integration-name.yaml", [
    ["duplicate-integration-name.yaml", 23, 9, "spec.name", "integration \"raw\" of organization \"acme\" is also declared at test/fixtures/invalid/duplica"],
  ]],
  ["duplicate-organization.yaml", [
    ["duplicate-organization.yaml", 11, 9, "metadata.name", "duplicate Organization \"acme\": also declared at test/fixtures/invalid/duplicate-organizati"],
  ]],
  ["email-double-dot.yaml", [
    ["email-double-dot.yaml", 15, 14, "spec.members[0].email", "invalid email address \"alice..b@acme.example\": has a misplaced \".\" before \"@\""],
  ]],
  ["email-no-at.yaml", [
    ["email-no-at.yaml", 15, 14, "spec.members[0].email", "invalid email address \"alice.acme.example\": has no \"@\""],
  ]],
  ["email-no-dot.yaml", [
    ["email-no-dot.yaml", 15, 14, "spec.members[0].email", "invalid email address \"alice@acme\": domain \"acme\" has no \".\""],
  ]],
  ["email-space.yaml", [
    ["email-space.yaml", 15, 14, "spec.members[0].email", "invalid email address \"alice b@acme.example\": has characters not allowed before \"@\""],
  ]],
  ["email-trailing-dot.yaml", [
    ["email-trailing-dot.yaml", 15, 14, "spec.members[0].email", "invalid email address \"alice@acme.example.\": domain \"acme.example.\" is not a valid host na"],
  ]],
  ["enum-deletion-policy.yaml", [
    ["enum-deletion-policy.yaml", 6, 19, "spec.deletionPolicy", "unsupported value \"delete\""],
  ]],
  ["enum-integration-type.yaml", [
    ["enum-integration-type.yaml", 15, 9, "spec.type", "unsupported value \"s4\""],
  ]],
  ["enum-plan.yaml", [
    ["enum-plan.yaml", 6, 9, "spec.plan", "unsupported value \"premum\""],
  ]],
  ["enum-podtype.yaml", [
    ["enum-podtype.yaml", 8, 14, "spec.cache.podType", "unsupported value \"large\""],
  ]],
  ["enum-policy.yaml", [
    ["enum-policy.yaml", 7, 13, "spec.members.policy", "unsupported value \"strict\""],
  ]],
  ["enum-project-role.yaml", [
    ["enum-project-role.yaml", 18, 17, "spec.members[0].projects[0].role", "unsupported value \"labeler\""],
  ]],
  ["enum-role.yaml", [
    ["enum-role.yaml", 16, 13, "spec.members[0].role", "unsupported value \"ownr\""],
  ]],
  ["ignore-not-string.yaml", [
    ["ignore-not-string.yaml", 9, 9, "spec.members.ignore[1]", "must be a string, not a number"],
  ]],
  ["integration-cross-with-credentials.yaml", [
    ["integration-cross-with-credentials.yaml", 17, 5, "spec.credentialsRef", "a \"aws-cross\" integration authenticates by trust relationship and takes no credentials"],
  ]],
  ["integration-missing-credentials.yaml", [
    ["integration-missing-credentials.yaml", 13, 3, "spec.credentialsRef", "required field is missing: a \"s3\" integration needs credentials"],
  ]],
  ["invalid-metadata-name.yaml", [
    ["invalid-metadata-name.yaml", 4, 9, "metadata.name", "invalid name \"Acme_Corp\": use lower-case letters, digits, \"-\" and \".\", starting and ending"],
  ]],
  ["json-schema-error.json", [
    ["json-schema-error.json", 5, 20, "spec.plan", "unsupported value \"gold\""],
  ]],
  ["json-syntax-error.json", [
    ["json-syntax-error.json", 4, 32, "", "YAML syntax error: expected the node content, but found ','"],
  ]],
  ["list-with-bad-item.yaml", [
    ["list-with-bad-item.yaml", 9, 13, "spec.plan", "unsupported value \"gold\""],
  ]],
  ["missing-apiversion.yaml", [
    ["missing-apiversion.yaml", 1, 1, "apiVersion", "required field is missing"],
  ]],
  ["missing-kind.yaml", [
    ["missing-kind.yaml", 1, 1, "kind", "required field is missing"],
  ]],
  ["missing-metadata-name.yaml", [
    ["missing-metadata-name.yaml", 4, 3, "metadata.name", "required field is missing"],
  ]],
  ["missing-metadata.yaml", [
    ["missing-metadata.yaml", 1, 1, "metadata", "required field is missing"],
  ]],
  ["missing-spec.yaml", [
    ["missing-spec.yaml", 1, 1, "spec", "required field is missing"],
  ]],
  ["not-utf8.yaml", [
    ["not-utf8.yaml", 6, 19, "", "not valid UTF-8: byte 0xe9 at offset 98"],
  ]],
  ["other-group-strict.yaml", [
    ["other-group-strict.yaml", 8, 13, "apiVersion", "apps/v1 Deployment \"web\" is not an orgctl object (--strict)"],
  ]],
  ["required-integration-type.yaml", [
    ["required-integration-type.yaml", 13, 3, "spec.type", "required field is missing"],
  ]],
  ["required-member-email.yaml", [
    ["required-member-email.yaml", 15, 7, "spec.members[0].email", "required field is missing"],
  ]],
  ["required-membership-organization.yaml", [
    ["required-membership-organization.yaml", 13, 3, "spec.organization", "required field is missing"],
  ]],
  ["required-project-role.yaml", [
    ["required-project-role.yaml", 17, 11, "spec.members[0].projects[0].role", "required field is missing"],
  ]],
  ["same-email-different-case.yaml", [
    ["same-email-different-case.yaml", 18, 13, "spec.members[1].role", "ann@acme.example is declared in organization \"acme\" with role \"owner\" here and with role \""],
  ]],
  ["same-email-two-roles.yaml", [
    ["same-email-two-roles.yaml", 19, 13, "spec.members[2].role", "a@acme.example is declared in organization \"acme\" with role \"worker\" here and with role \"a"],
  ]],
  ["secret-credentialsref-token.yaml", [
    ["secret-credentialsref-token.yaml", 17, 5, "spec.credentialsRef", "set exactly one of secretName, env, file"],
    ["secret-credentialsref-token.yaml", 17, 5, "spec.credentialsRef.token", "inline secret \"token\": secret values must not be written in manifests"],
  ]],
  ["secret-options-key.yaml", [
    ["secret-options-key.yaml", 17, 5, "spec.options.key", "inline secret \"key\": secret values must not be written in manifests"],
  ]],
  ["secret-options-password.yaml", [
    ["secret-options-password.yaml", 18, 5, "spec.options.password", "inline secret \"password\": secret values must not be written in manifests"],
  ]],
  ["secret-options-secret.yaml", [
    ["secret-options-secret.yaml", 18, 5, "spec.options.secret", "inline secret \"secret\": secret values must not be written in manifests"],
  ]],
  ["secret-spec-credentials.yaml", [
    ["secret-spec-credentials.yaml", 13, 3, "spec.credentialsRef", "required field is missing: a \"s3\" integration needs credentials"],
    ["secret-spec-credentials.yaml", 16, 3, "spec.credentials", "inline secret \"credentials\": secret values must not be written in manifests"],
  ]],
  ["undeclared-org-close.yaml", [
    ["undeclared-org-close.yaml", 13, 17, "spec.organization", "organization \"acm\" is not declared"],
  ]],
  ["undeclared-org-none.yaml", [
    ["undeclared-org-none.yaml", 6, 17, "spec.organization", "organization \"globex\" is not declared"],
  ]],
  ["unknown-kind-memberships.yaml", [
    ["unknown-kind-memberships.yaml", 9, 7, "kind", "unknown kind \"Memberships\" for orgctl.dev/v1alpha1"],
  ]],
  ["unknown-kind-organisation.yaml", [
    ["unknown-kind-organisation.yaml", 2, 7, "kind", "unknown kind \"Organisation\" for orgctl.dev/v1alpha1"],
  ]],
  ["unknown-metadata-field.yaml", [
    ["unknown-metadata-field.yaml", 5, 3, "metadata.labls", "unknown field \"labls\""],
  ]],
  ["unknown-spec-field-no-match.yaml", [
    ["unknown-spec-field-no-match.yaml", 6, 3, "spec.billingContact", "unknown field \"billingContact\""],
  ]],
  ["unknown-spec-field-typo.yaml", [
    ["unknown-spec-field-typo.yaml", 6, 3, "spec.displayname", "unknown field \"displayname\""],
    ["unknown-spec-field-typo.yaml", 7, 3, "spec.plann", "unknown field \"plann\""],
  ]],
  ["unknown-top-level-field.yaml", [
    ["unknown-top-level-field.yaml", 7, 1, "specs", "unknown field \"specs\""],
  ]],
  ["unsupported-version.yaml", [
    ["unsupported-version.yaml", 1, 13, "apiVersion", "unsupported apiVersion \"orgctl.dev/v1\""],
  ]],
  ["wrong-type-cache-enabled.yaml", [
    ["wrong-type-cache-enabled.yaml", 7, 14, "spec.cache.enabled", "must be true or false, not a string"],
  ]],
  ["wrong-type-members-mapping.yaml", [
    ["wrong-type-members-mapping.yaml", 15, 5, "spec.members", "must be a list, not a mapping"],
  ]],
  ["wrong-type-members-string.yaml", [
    ["wrong-type-members-string.yaml", 14, 12, "spec.members", "must be a list, not a string"],
  ]],
  ["wrong-type-plan-number.yaml", [
    ["wrong-type-plan-number.yaml", 6, 9, "spec.plan", "must be a string, not a number"],
  ]],
  ["yaml-bad-indentation.yaml", [
    ["yaml-bad-indentation.yaml", 16, 4, "", "YAML syntax error: bad indentation of a mapping entry"],
  ]],
  ["yaml-duplicate-key.yaml", [
    ["yaml-duplicate-key.yaml", 7, 3, "", "YAML syntax error: duplicated mapping key"],
  ]],
  ["yaml-tab-indent.yaml", [
    ["yaml-tab-indent.yaml", 4, 1, "", "YAML syntax error: tab characters must not be used in indentation"],
  ]],
  ["yaml-unclosed-flow.yaml", [
    ["yaml-unclosed-flow.yaml", 4, 1, "", "YAML syntax error: missed comma between flow collection entries"],
  ]],
  ["yaml-unterminated-quote.yaml", [
    ["yaml-unterminated-quote.yaml", 6, 1, "", "YAML syntax error: unexpected end of the stream within a double quoted scalar"],
  ]],
];

/** Beyond the first clause: what would be valid, and where the other half of a conflict is. */
const ALSO: Record<string, string[]> = {
  'unknown-spec-field-typo.yaml': ['did you mean "displayName"?', 'did you mean "plan"?'],
  'unknown-spec-field-no-match.yaml': ['allowed fields: displayName, plan, cache, members, integrations, deletionPolicy'],
  'unknown-metadata-field.yaml': ['did you mean "labels"?'],
  'unknown-top-level-field.yaml': ['did you mean "spec"?'],
  'unknown-kind-memberships.yaml': ['supported kinds: Integration, Membership, Organization', 'did you mean "Membership"?'],
  'unknown-kind-organisation.yaml': ['did you mean "Organization"?'],
  'unsupported-version.yaml': ['supported: orgctl.dev/v1alpha1'],
  'missing-apiversion.yaml': ['supported: orgctl.dev/v1alpha1'],
  'enum-plan.yaml': ['supported values: "freemium", "premium"', 'did you mean "premium"?'],
  'enum-role.yaml': ['did you mean "owner"?'],
  'enum-deletion-policy.yaml': ['did you mean "Delete"?'],
  'enum-integration-type.yaml': ['"private-registry"'],
  'same-email-two-roles.yaml': [`at ${DIR}/same-email-two-roles.yaml:16:13`],
  'same-email-different-case.yaml': [`at ${DIR}/same-email-different-case.yaml:16:14`],
  'cross-file-role': [`at ${DIR}/cross-file-role/org.yaml:16:13`],
  'cross-file-duplicate-membership': [`at ${DIR}/cross-file-duplicate-membership/a.yaml:11:9`],
  'duplicate-organization.yaml': [`at ${DIR}/duplicate-organization.yaml:4:9`],
  'duplicate-integration-name.yaml': [`at ${DIR}/duplicate-integration-name.yaml:14:9`],
  'undeclared-org-close.yaml': ['did you mean "acme"?'],
  'secret-options-secret.yaml': ['credentialsRef.env'],
  'integration-missing-credentials.yaml': ['credentialsRef.env or credentialsRef.file'],
};

describe('validate: the corpus of broken manifests', () => {
  it.each(CORPUS)('%s', (fixture, expected) => {
    const got = diagnose(fixture);
    expect(got.map((d) => [d.file.replace(`${DIR}/`, ''), d.line, d.column, d.path])).toEqual(expected.map(([f, l, c, p]) => [f, l, c, p]));
    got.forEach((d, i) => expect(d.message).toContain(expected[i]![4]));
    const text = got.map((d) => d.message).join('\n');
    for (const fragment of ALSO[fixture] ?? []) expect(text).toContain(fragment);
    // Secret values written in fixtures are canaries: no message may repeat them.
    expect(text).not.toMatch(/CANARY|wJalrXUtnFEMI/);
  });

  it('covers every fixture, and has at least 40 of them', () => {
    const covered = new Set(CORPUS.map(([f]) => f));
    const present = readdirSync(join(ROOT, DIR));
    expect(present.filter((f) => !covered.has(f))).toEqual([]);
    expect(present.length).toBeGreaterThanOrEqual(40);
  });

  it('reports every problem of a run, across files, in one go', () => {
    const all = readSources([DIR], { cwd: ROOT });
    const result = loadManifests(all.sources);
    const files = new Set([...all.diagnostics, ...result.diagnostics].map((d) => d.file));
    // Every fixture has a problem of its own; the strict-only one is merely skipped with a note here.
    expect(files.size).toBeGreaterThanOrEqual(CORPUS.length - 1);
    expect(result.notes.some((n) => n.message.includes('skipped apps/v1 Deployment "web"'))).toBe(true);
  });

  it('accepts every example', () => {
    const read = readSources(['examples'], { cwd: ROOT });
    const result = loadManifests(read.sources);
    expect([...read.diagnostics, ...result.diagnostics]).toEqual([]);
    expect(result.objects.length).toBe(11);
    expect(readFileSync(join(ROOT, 'examples/acme-vision/integrations.yaml'), 'utf8')).toContain('credentialsRef');
  });
});

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../src/manifest/diagnostics.js';
import { loadManifests } from '../src/manifest/load.js';
import { MANIFEST_EXTENSIONS, readSources } from '../src/manifest/sources.js';

const ROOT = join(import.meta.dirname, '..');
/** Fixtures are read relative to the repository root, so diagnostics name them `test/fixtures/invalid/...`. */
const DIR = 'test/fixtures/invalid';

/** [file (relative to DIR), line, column, field path, message fragment]. */
type Expected = [string, number, number, string, string];

interface Row {
  /** A file, or a folder of files loaded together, in DIR. */
  fixture: string;
  /** Load with `--strict` (documents of other kinds are errors). */
  strict?: boolean;
  /** Every diagnostic, in the loader's order (file, line, column, path): nothing more, nothing less. */
  expected: Expected[];
  /** More fragments some message must contain: suggestions, allowed values, the other place of a conflict. */
  also?: string[];
  /** Strings no message (nor path) may contain: secret values written in the fixture, wrong suggestions. */
  never?: string[];
}

function diagnose(row: Pick<Row, 'fixture' | 'strict'>): Diagnostic[] {
  const read = readSources([join(DIR, row.fixture)], { cwd: ROOT });
  const result = loadManifests(read.sources, { strict: row.strict ?? false });
  return [...read.diagnostics, ...result.diagnostics];
}

function check(row: Row): void {
  const got = diagnose(row);
  const shown = got.map((d) => `${d.file}:${d.line}:${d.column}: ${d.path}: ${d.message}`).join('\n');
  // Exact places and paths, and as many diagnostics as expected (an extra one fails too).
  expect(
    got.map((d) => [d.file, d.line, d.column, d.path]),
    shown,
  ).toEqual(row.expected.map(([file, line, column, path]) => [`${DIR}/${file}`, line, column, path]));
  got.forEach((d, i) => expect(d.message, shown).toContain(row.expected[i]![4]));
  const text = got.map((d) => `${d.path} ${d.message}`).join('\n');
  for (const fragment of row.also ?? []) expect(text).toContain(fragment);
  for (const secret of row.never ?? []) expect(text).not.toContain(secret);
  // Secret values in fixtures are canaries (CANARY..., an AWS-like key): no message may repeat one.
  expect(text).not.toMatch(/CANARY|wJalrXUtnFEMI/);
}

const NO_SUGGESTION = 'did you mean';
const INLINE = 'secret values must not be written in manifests';

/**
 * Every broken manifest with every diagnostic it must produce. Lines and columns were counted by hand in
 * each fixture: 1-based; a value is placed where its text starts (a quoted scalar at its opening quote, a
 * block mapping at its first key); an unknown field at its key; a missing field where its parent mapping
 * starts; a problem with a whole document at the document's first line.
 */
const CORPUS: Row[] = [
  // --- YAML and JSON syntax, encoding, parser attacks: one diagnostic for the file, path ''.
  { fixture: 'yaml-bad-indentation.yaml', expected: [['yaml-bad-indentation.yaml', 16, 4, '', 'YAML syntax error: bad indentation of a mapping entry']] },
  { fixture: 'yaml-duplicate-key.yaml', expected: [['yaml-duplicate-key.yaml', 7, 3, '', 'YAML syntax error: duplicated mapping key']] },
  { fixture: 'yaml-tab-indent.yaml', expected: [['yaml-tab-indent.yaml', 4, 1, '', 'tab characters must not be used in indentation']] },
  // Both parsers fail at the doubled comma; the message may call it a YAML or a JSON syntax error.
  { fixture: 'json-syntax-error.json', expected: [['json-syntax-error.json', 4, 32, '', 'syntax error']] },
  { fixture: 'json-schema-error.json', expected: [['json-schema-error.json', 5, 20, 'spec.plan', 'unsupported value "gold"']], also: ['supported values: "freemium", "premium"'], never: [NO_SUGGESTION] },
  { fixture: 'not-utf8.yaml', expected: [['not-utf8.yaml', 6, 19, '', 'not valid UTF-8: byte 0xe9 at offset 98']] },
  { fixture: 'alias-bomb.yaml', expected: [['alias-bomb.yaml', 1, 1, '', 'YAML aliases expand to far more data than the file holds (an alias bomb?)']] },
  // 70 nested "[" starting at column 16; depth 64 is reached at the 63rd (the document and spec count too).
  { fixture: 'deep-nesting.yaml', expected: [['deep-nesting.yaml', 6, 78, '', 'nesting exceeded maxDepth (64)']] },

  // --- Document shape, apiVersion and kind.
  { fixture: 'doc-is-list.yaml', expected: [['doc-is-list.yaml', 1, 1, '', 'expected an object with apiVersion and kind, found a list']] },
  { fixture: 'doc-is-scalar.yaml', expected: [['doc-is-scalar.yaml', 8, 1, '', 'expected an object with apiVersion and kind, found a string']] },
  {
    fixture: 'missing-apiversion.yaml',
    expected: [['missing-apiversion.yaml', 1, 1, 'apiVersion', 'required field is missing']],
    also: ['supported: orgctl.dev/v1alpha1 with kind Integration, Membership, Organization'],
  },
  { fixture: 'missing-kind.yaml', expected: [['missing-kind.yaml', 1, 1, 'kind', 'required field is missing']], also: ['supported: orgctl.dev/v1alpha1'] },
  { fixture: 'apiversion-not-string.yaml', expected: [['apiversion-not-string.yaml', 1, 13, 'apiVersion', 'must be a string']], also: ['supported: orgctl.dev/v1alpha1'] },
  {
    fixture: 'unsupported-version.yaml',
    expected: [['unsupported-version.yaml', 1, 13, 'apiVersion', 'unsupported apiVersion "orgctl.dev/v1"']],
    also: ['supported: orgctl.dev/v1alpha1'],
  },
  {
    fixture: 'unknown-kind-memberships.yaml',
    expected: [['unknown-kind-memberships.yaml', 9, 7, 'kind', 'unknown kind "Memberships" for orgctl.dev/v1alpha1']],
    also: ['supported kinds: Integration, Membership, Organization', 'did you mean "Membership"?'],
  },
  {
    fixture: 'unknown-kind-organisation.yaml',
    expected: [['unknown-kind-organisation.yaml', 2, 7, 'kind', 'unknown kind "Organisation" for orgctl.dev/v1alpha1']],
    also: ['did you mean "Organization"?'],
  },
  {
    fixture: 'other-group-strict.yaml',
    strict: true,
    expected: [['other-group-strict.yaml', 8, 13, 'apiVersion', 'apps/v1 Deployment "web" is not an orgctl object (--strict)']],
  },
  {
    fixture: 'list-with-bad-item.yaml',
    // The path is relative to the item; the place is the item's field.
    expected: [['list-with-bad-item.yaml', 9, 13, 'spec.plan', 'unsupported value "gold"']],
  },

  // --- metadata, spec and unknown fields.
  { fixture: 'missing-metadata.yaml', expected: [['missing-metadata.yaml', 1, 1, 'metadata', 'required field is missing']] },
  { fixture: 'missing-metadata-name.yaml', expected: [['missing-metadata-name.yaml', 4, 3, 'metadata.name', 'required field is missing']] },
  {
    fixture: 'invalid-metadata-name.yaml',
    expected: [['invalid-metadata-name.yaml', 4, 9, 'metadata.name', 'invalid name "Acme_Corp": use lower-case letters, digits, "-" and "."']],
  },
  { fixture: 'invalid-name-uppercase.yaml', expected: [['invalid-name-uppercase.yaml', 5, 9, 'metadata.name', 'invalid name "Acme": use lower-case letters']] },
  { fixture: 'invalid-name-underscore.yaml', expected: [['invalid-name-underscore.yaml', 5, 9, 'metadata.name', 'invalid name "acme_corp": use lower-case letters']] },
  { fixture: 'unknown-metadata-field.yaml', expected: [['unknown-metadata-field.yaml', 5, 3, 'metadata.labls', 'unknown field "labls"; did you mean "labels"?']] },
  { fixture: 'missing-spec.yaml', expected: [['missing-spec.yaml', 1, 1, 'spec', 'required field is missing']] },
  { fixture: 'unknown-top-level-field.yaml', expected: [['unknown-top-level-field.yaml', 7, 1, 'specs', 'unknown field "specs"; did you mean "spec"?']] },
  {
    fixture: 'unknown-spec-field-typo.yaml',
    expected: [
      ['unknown-spec-field-typo.yaml', 6, 3, 'spec.displayname', 'unknown field "displayname"; did you mean "displayName"?'],
      ['unknown-spec-field-typo.yaml', 7, 3, 'spec.plann', 'unknown field "plann"; did you mean "plan"?'],
    ],
  },
  {
    fixture: 'unknown-spec-field-no-match.yaml',
    expected: [
      [
        'unknown-spec-field-no-match.yaml', 6, 3, 'spec.billingContact',
        'unknown field "billingContact"; allowed fields: displayName, plan, cache, members, integrations, deletionPolicy',
      ],
    ],
    never: [NO_SUGGESTION],
  },

  // --- Types.
  { fixture: 'wrong-type-plan-number.yaml', expected: [['wrong-type-plan-number.yaml', 6, 9, 'spec.plan', 'must be a string, not a number']] },
  { fixture: 'wrong-type-members-string.yaml', expected: [['wrong-type-members-string.yaml', 14, 12, 'spec.members', 'must be a list, not a string']] },
  { fixture: 'wrong-type-members-mapping.yaml', expected: [['wrong-type-members-mapping.yaml', 15, 5, 'spec.members', 'must be a list, not a mapping']] },
  { fixture: 'wrong-type-cache-enabled.yaml', expected: [['wrong-type-cache-enabled.yaml', 7, 14, 'spec.cache.enabled', 'must be true or false, not a string']] },
  { fixture: 'ignore-not-string.yaml', expected: [['ignore-not-string.yaml', 9, 9, 'spec.members.ignore[1]', 'must be a string, not a number']] },

  // --- Enums: with a suggestion when one is close, the allowed values always.
  {
    fixture: 'enum-plan.yaml',
    expected: [['enum-plan.yaml', 6, 9, 'spec.plan', 'unsupported value "premum"; supported values: "freemium", "premium"; did you mean "premium"?']],
  },
  {
    fixture: 'enum-role.yaml',
    expected: [['enum-role.yaml', 16, 13, 'spec.members[0].role', 'unsupported value "ownr"; supported values: "owner", "admin", "member", "worker"; did you mean "owner"?']],
  },
  {
    fixture: 'enum-podtype.yaml',
    expected: [['enum-podtype.yaml', 8, 14, 'spec.cache.podType', 'unsupported value "large"; supported values: "small", "medium", "high"']],
    never: [NO_SUGGESTION],
  },
  {
    fixture: 'enum-policy.yaml',
    expected: [['enum-policy.yaml', 7, 13, 'spec.members.policy', 'unsupported value "strict"; supported values: "additive", "authoritative"']],
    never: [NO_SUGGESTION],
  },
  {
    fixture: 'enum-deletion-policy.yaml',
    expected: [['enum-deletion-policy.yaml', 6, 19, 'spec.deletionPolicy', 'unsupported value "delete"; supported values: "Orphan", "Delete"; did you mean "Delete"?']],
  },
  {
    fixture: 'enum-project-role.yaml',
    expected: [
      ['enum-project-role.yaml', 18, 17, 'spec.members[0].projects[0].role', 'unsupported value "labeler"; supported values: "manager", "annotator", "reviewer"'],
    ],
    never: [NO_SUGGESTION],
  },
  {
    fixture: 'enum-integration-type.yaml',
    expected: [['enum-integration-type.yaml', 15, 9, 'spec.type', 'unsupported value "s4"; supported values: "s3", "gcs"']],
    also: ['"private-registry"', 'did you mean "s3"?'],
  },

  // --- Required fields.
  { fixture: 'required-membership-organization.yaml', expected: [['required-membership-organization.yaml', 13, 3, 'spec.organization', 'required field is missing']] },
  { fixture: 'required-member-email.yaml', expected: [['required-member-email.yaml', 15, 7, 'spec.members[0].email', 'required field is missing']] },
  { fixture: 'required-integration-type.yaml', expected: [['required-integration-type.yaml', 13, 3, 'spec.type', 'required field is missing']] },
  { fixture: 'required-integration-name.yaml', expected: [['required-integration-name.yaml', 14, 3, 'spec.name', 'required field is missing']] },
  {
    fixture: 'required-project-role.yaml',
    expected: [['required-project-role.yaml', 17, 11, 'spec.members[0].projects[0].role', 'required field is missing']],
  },

  // --- Email addresses.
  { fixture: 'email-no-at.yaml', expected: [['email-no-at.yaml', 15, 14, 'spec.members[0].email', 'invalid email address "alice.acme.example": has no "@"']] },
  { fixture: 'email-no-dot.yaml', expected: [['email-no-dot.yaml', 15, 14, 'spec.members[0].email', 'invalid email address "alice@acme": domain "acme" has no "."']] },
  {
    fixture: 'email-double-dot.yaml',
    expected: [['email-double-dot.yaml', 15, 14, 'spec.members[0].email', 'invalid email address "alice..b@acme.example": has a misplaced "." before "@"']],
  },
  {
    fixture: 'email-space.yaml',
    expected: [['email-space.yaml', 15, 14, 'spec.members[0].email', 'invalid email address "alice b@acme.example": has characters not allowed before "@"']],
  },
  {
    fixture: 'email-trailing-dot.yaml',
    expected: [
      ['email-trailing-dot.yaml', 15, 14, 'spec.members[0].email', 'invalid email address "alice@acme.example.": domain "acme.example." is not a valid host name'],
    ],
  },

  // Look-alike addresses (issue 21, item 9): the character is named by code point and place, and shown escaped.
  {
    fixture: 'email-zero-width.yaml',
    expected: [['email-zero-width.yaml', 15, 14, 'spec.members[0].email', 'invalid email address "ada\\u200b@acme.example": has an invisible character U+200B at character 4']],
  },
  {
    fixture: 'email-nul.yaml',
    expected: [['email-nul.yaml', 15, 14, 'spec.members[0].email', 'invalid email address "ada\\u0000@acme.example": has a control character U+0000 at character 4']],
  },
  {
    fixture: 'email-bidi-control.yaml',
    expected: [['email-bidi-control.yaml', 15, 14, 'spec.members[0].email', 'invalid email address "\\u202eada@acme.example": has an invisible character U+202E at character 1']],
  },
  {
    fixture: 'email-mixed-script.yaml',
    expected: [['email-mixed-script.yaml', 15, 14, 'spec.members[0].email', 'mixes scripts before "@": U+0430 at character 2 is Cyrillic, after Latin letters']],
  },

  // --- Conflicts between objects: the message names the other place as file:line:column.
  {
    fixture: 'same-email-two-roles.yaml',
    expected: [
      ['same-email-two-roles.yaml', 19, 13, 'spec.members[2].role', 'a@acme.example is declared in organization "acme" with role "worker" here and with role "admin" at'],
    ],
    also: [`at ${DIR}/same-email-two-roles.yaml:16:13;`],
  },
  {
    fixture: 'same-email-different-case.yaml',
    expected: [
      ['same-email-different-case.yaml', 18, 13, 'spec.members[1].role', 'ann@acme.example is declared in organization "acme" with role "owner" here and with role "member" at'],
    ],
    also: [`at ${DIR}/same-email-different-case.yaml:16:14;`],
  },
  {
    // The same address in NFC (é) and NFD (e + U+0301): one person, compared in NFC.
    fixture: 'same-email-nfc-nfd.yaml',
    expected: [
      ['same-email-nfc-nfd.yaml', 18, 13, 'spec.members[1].role', 'jos\u00e9@acme.example is declared in organization "acme" with role "owner" here and with role "member" at'],
    ],
    also: [`at ${DIR}/same-email-nfc-nfd.yaml:16:14;`],
  },
  {
    fixture: 'cross-file-role',
    expected: [
      ['cross-file-role/team.yaml', 10, 14, 'spec.members[1].email', 'a@acme.example is declared in organization "acme" with role "member" here and with role "admin" at'],
    ],
    also: [`at ${DIR}/cross-file-role/org.yaml:16:13;`],
  },
  {
    fixture: 'duplicate-organization.yaml',
    expected: [['duplicate-organization.yaml', 11, 9, 'metadata.name', 'duplicate Organization "acme": also declared at']],
    also: [`also declared at ${DIR}/duplicate-organization.yaml:4:9`],
  },
  {
    fixture: 'cross-file-duplicate-membership',
    expected: [['cross-file-duplicate-membership/b.yaml', 4, 9, 'metadata.name', 'duplicate Membership "team": also declared at']],
    also: [`also declared at ${DIR}/cross-file-duplicate-membership/a.yaml:11:9`],
  },
  {
    fixture: 'duplicate-integration-name.yaml',
    expected: [['duplicate-integration-name.yaml', 23, 9, 'spec.name', 'integration "raw" of organization "acme" is also declared at']],
    also: [`is also declared at ${DIR}/duplicate-integration-name.yaml:14:9`],
  },
  {
    fixture: 'undeclared-org-close.yaml',
    expected: [['undeclared-org-close.yaml', 13, 17, 'spec.organization', 'organization "acm" is not declared; declared organizations: acme; did you mean "acme"?']],
  },
  {
    fixture: 'undeclared-org-none.yaml',
    expected: [['undeclared-org-none.yaml', 6, 17, 'spec.organization', 'organization "globex" is not declared; no Organization is declared in these manifests']],
    never: [NO_SUGGESTION],
  },
  {
    fixture: 'authoritative-without-owner.yaml',
    expected: [
      ['authoritative-without-owner.yaml', 7, 13, 'spec.members.policy', 'organization "acme" is authoritative but no Membership declares an owner or admin of it'],
    ],
  },

  // --- Secrets: reported at the field's key, the value never repeated.
  {
    fixture: 'secret-options-secret.yaml',
    expected: [['secret-options-secret.yaml', 18, 5, 'spec.options.secret', `inline secret "secret": ${INLINE}`]],
    also: ['credentialsRef.secretName', 'credentialsRef.env', 'credentialsRef.file'],
    never: ['CANARY-opt-secret'],
  },
  {
    fixture: 'secret-options-password.yaml',
    expected: [['secret-options-password.yaml', 18, 5, 'spec.options.password', `inline secret "password": ${INLINE}`]],
    never: ['CANARY-pw'],
  },
  {
    fixture: 'secret-options-key.yaml',
    expected: [['secret-options-key.yaml', 17, 5, 'spec.options.key', `inline secret "key": ${INLINE}`]],
    never: ['CANARY-kv-key'],
  },
  {
    fixture: 'secret-spec-credentials.yaml',
    // With the values inline there is no credentialsRef: that is reported too (where spec starts).
    expected: [
      ['secret-spec-credentials.yaml', 13, 3, 'spec.credentialsRef', 'required field is missing: a "s3" integration needs credentials'],
      ['secret-spec-credentials.yaml', 16, 3, 'spec.credentials', `inline secret "credentials": ${INLINE}`],
    ],
    never: ['CANARY-spec-creds', 'did you mean "credentialsRef"'],
  },
  {
    fixture: 'secret-credentialsref-token.yaml',
    // credentialsRef holds a value instead of naming a source: no source is set, and the value is inline.
    expected: [
      ['secret-credentialsref-token.yaml', 17, 5, 'spec.credentialsRef', 'set exactly one of secretName, env, file'],
      ['secret-credentialsref-token.yaml', 17, 5, 'spec.credentialsRef.token', `inline secret "token": ${INLINE}`],
    ],
    never: ['CANARY-ref-token'],
  },
  {
    fixture: 'credentialsref-env-value.yaml',
    expected: [
      [
        'credentialsref-env-value.yaml', 18, 24, 'spec.credentialsRef.env.secretAccessKey',
        'must be the name of an environment variable (letters, digits and "_", not starting with a digit); write the variable\'s name, never its value',
      ],
    ],
    never: ['wJalrXUtnFEMI/K7MDENG CANARY', 'K7MDENG'],
  },

  // --- credentialsRef rules.
  { fixture: 'credentialsref-empty.yaml', expected: [['credentialsref-empty.yaml', 16, 19, 'spec.credentialsRef', 'set exactly one of secretName, env, file']], never: ['(found'] },
  {
    fixture: 'credentialsref-two-sources.yaml',
    expected: [['credentialsref-two-sources.yaml', 17, 5, 'spec.credentialsRef', 'set exactly one of secretName, env, file (found env and file)']],
  },
  {
    fixture: 'credentialsref-keys-without-secret.yaml',
    expected: [['credentialsref-keys-without-secret.yaml', 18, 11, 'spec.credentialsRef.keys', 'keys maps credential fields to keys of a Kubernetes Secret; it needs secretName']],
  },
  {
    fixture: 'integration-missing-credentials.yaml',
    expected: [['integration-missing-credentials.yaml', 13, 3, 'spec.credentialsRef', 'required field is missing: a "s3" integration needs credentials']],
    also: ['credentialsRef.secretName (in a cluster), credentialsRef.env or credentialsRef.file'],
  },
  {
    fixture: 'integration-cross-with-credentials.yaml',
    expected: [
      [
        'integration-cross-with-credentials.yaml', 17, 5, 'spec.credentialsRef',
        'a "aws-cross" integration authenticates by trust relationship and takes no credentials; remove credentialsRef',
      ],
    ],
  },
];

/** Problems the loader once placed or judged wrongly: each row pins the right behaviour. */
const PLACED = {
  // Was: an unterminated double-quoted scalar is reported at the end of the stream (6:1, a line after the
  // last line of the file) instead of at its opening quote, 4:9, where the closing quote is missing.
  unterminatedQuote: { fixture: 'yaml-unterminated-quote.yaml', expected: [['yaml-unterminated-quote.yaml', 4, 9, '', 'quote']] },
  // Was: an unclosed flow mapping `{name: acme` is reported as "missed comma between flow collection entries"
  // at 4:1 (the next line). It should point at the "{" that is never closed (3:11) and say the "}" is missing.
  unclosedFlowMapping: { fixture: 'yaml-unclosed-flow.yaml', expected: [['yaml-unclosed-flow.yaml', 3, 11, '', '}']] },
  // Was: same for a flow sequence: "missed comma between flow collection entries" at 11:3; it should point at
  // the "[" that is never closed (10:13) and say the "]" is missing.
  unclosedFlowSequence: { fixture: 'yaml-unclosed-flow-sequence.yaml', expected: [['yaml-unclosed-flow-sequence.yaml', 10, 13, '', ']']] },
  // Was: a .json file that JSON.parse rejects (trailing comma) is silently accepted, because the YAML parser
  // the loader falls back to allows it. It should be a JSON syntax error where JSON.parse stops (the "}").
  jsonTrailingComma: { fixture: 'json-trailing-comma.json', expected: [['json-trailing-comma.json', 5, 30, '', 'JSON']] },
  // Was: the column of an invalid UTF-8 byte counts bytes (7:28); every other column counts characters.
  // "Zürich" holds a 2-byte character, so the bad byte is character 27 of line 7.
  utf8ColumnInBytes: { fixture: 'not-utf8-after-multibyte.yaml', expected: [['not-utf8-after-multibyte.yaml', 7, 27, '', 'not valid UTF-8: byte 0xe9']] },
  // Was: `members:` with no value is placed after the colon (15:11, past the end of the line's text); the
  // locator means to point at the key when there is no value ("key: with no value ... point at the key").
  emptyValueColumn: { fixture: 'wrong-type-members-null.yaml', expected: [['wrong-type-members-null.yaml', 15, 3, 'spec.members', 'must be a list, not null']] },
  // Was: an orgctl kind with a misspelled group (orgtcl.dev/v1alpha1) is skipped with the note "not an orgctl
  // kind", and validate exits 0: the Organization silently drops out of plan/apply. It should be an error at
  // apiVersion that names the supported orgctl.dev/v1alpha1.
  apiVersionGroupTypo: { fixture: 'apiversion-group-typo.yaml', expected: [['apiversion-group-typo.yaml', 2, 13, 'apiVersion', 'orgctl.dev/v1alpha1']] },
  // Was: two Organizations named "acme" in different namespaces are not reported: names are unique per
  // namespace, but an Organization's metadata.name is its name on the platform, so both are the same
  // organization (and only the first is used for references and the owner check).
  organizationNamespaces: {
    fixture: 'duplicate-organization-namespaces.yaml',
    expected: [['duplicate-organization-namespaces.yaml', 13, 9, 'metadata.name', 'duplicate Organization "acme"']],
    also: [`${DIR}/duplicate-organization-namespaces.yaml:5:9`],
  },
} satisfies Record<string, Row>;

describe('validate: the corpus of broken manifests', () => {
  it.each(CORPUS.map((row) => [row.fixture, row] as const))('%s', (_name, row) => check(row));

  describe('problems placed where the user must look', () => {
    it('yaml-unterminated-quote.yaml: at the opening quote', () => check(PLACED.unterminatedQuote));
    it('yaml-unclosed-flow.yaml: at the unclosed "{"', () => check(PLACED.unclosedFlowMapping));
    it('yaml-unclosed-flow-sequence.yaml: at the unclosed "["', () => check(PLACED.unclosedFlowSequence));
    it('json-trailing-comma.json: a JSON syntax error', () => check(PLACED.jsonTrailingComma));
    it('not-utf8-after-multibyte.yaml: column in characters', () => check(PLACED.utf8ColumnInBytes));
    it('wrong-type-members-null.yaml: at the key of the empty value', () => check(PLACED.emptyValueColumn));
    it('apiversion-group-typo.yaml: an error, not a skipped document', () => check(PLACED.apiVersionGroupTypo));
    it('duplicate-organization-namespaces.yaml: one organization, declared twice', () => check(PLACED.organizationNamespaces));
  });

  it('skips a document of another kind with a note, and no error, without --strict', () => {
    const read = readSources([join(DIR, 'other-group-strict.yaml')], { cwd: ROOT });
    const result = loadManifests(read.sources, { strict: false });
    expect([...read.diagnostics, ...result.diagnostics]).toEqual([]);
    expect(result.notes).toEqual([
      { file: `${DIR}/other-group-strict.yaml`, line: 8, column: 1, message: 'skipped apps/v1 Deployment "web": not an orgctl kind' },
    ]);
    expect(result.objects.map((o) => o.object.kind)).toEqual(['Organization']);
  });

  it('has a row for every fixture, and at least 45 fixtures', () => {
    const rows = [...CORPUS, ...Object.values(PLACED)].map((r) => r.fixture);
    expect(new Set(rows).size, 'a fixture has two rows').toBe(rows.length);
    const present = readdirSync(join(ROOT, DIR)).filter((f) => !f.startsWith('.')).sort();
    expect(present.filter((f) => !rows.includes(f)), 'fixtures without a row').toEqual([]);
    expect(rows.filter((f) => !present.includes(f)), 'rows without a fixture').toEqual([]);
    expect(present.length).toBeGreaterThanOrEqual(45);
  });

  it('reports file-level problems of one file in a run over the whole corpus too (one bad file does not stop the rest)', () => {
    const read = readSources([DIR], { cwd: ROOT });
    const result = loadManifests(read.sources);
    const all = [...read.diagnostics, ...result.diagnostics].map((d) => [d.file, d.line, d.column, d.path]);
    const fileLevel = CORPUS.filter((r) => !r.strict && r.expected.every(([, , , path]) => path === ''));
    expect(fileLevel.length).toBeGreaterThanOrEqual(8);
    for (const row of fileLevel) {
      for (const [file, line, column, path] of row.expected) expect(all).toContainEqual([`${DIR}/${file}`, line, column, path]);
    }
    expect(result.notes.map((n) => n.message)).toContain('skipped apps/v1 Deployment "web": not an orgctl kind');
  });

  it('accepts every example with no diagnostic', () => {
    const examples = join(ROOT, 'examples');
    const files = existsSync(examples)
      ? readdirSync(examples, { recursive: true, encoding: 'utf8' }).filter((f) => MANIFEST_EXTENSIONS.some((ext) => f.endsWith(ext)))
      : [];
    if (files.length === 0) return; // no examples to check
    const read = readSources(['examples'], { cwd: ROOT });
    const result = loadManifests(read.sources);
    expect([...read.diagnostics, ...result.diagnostics]).toEqual([]);
    expect(result.objects.length).toBeGreaterThan(0);
  });
});

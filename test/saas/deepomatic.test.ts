import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { desiredState } from '../../src/manifest/desired.js';
import { loadManifests } from '../../src/manifest/load.js';
import { readSources } from '../../src/manifest/sources.js';
import { parseCsv } from '../../src/util/csv.js';
import { INVITE_COLUMNS, planHandoff } from '../../src/platform/deepomatic/handoff.js';
import { orgctl, tempDir } from '../e2e/cli.js';

/** `orgctl handoff deepomatic`, run as a child process: its CSVs parse back to the planned people, its checklist is as expected. */

function org(policy: string, members: string[]): string {
  return [
    'apiVersion: orgctl.dev/v1alpha1',
    'kind: Organization',
    'metadata: {name: acme}',
    'spec:',
    `  members: {policy: ${policy}, ignore: ["*@deepomatic.example"]}`,
    '---',
    'apiVersion: orgctl.dev/v1alpha1',
    'kind: Membership',
    'metadata: {name: acme-people}',
    'spec:',
    '  organization: acme',
    '  members:',
    ...members.map((m) => `    - ${m}`),
    '',
  ].join('\n');
}

/** Awkward but real profile values: commas, quotes, a line break, accents, a formula-looking name. */
const TRICKY = [
  '{email: boss@acme.example, role: owner, firstName: "Zoë", lastName: "O\'Neil, Jr.", description: "Head of \\"Vision\\""}',
  '{email: ann@acme.example, role: admin, firstName: Ann, description: "line one\\nline two"}',
  '{email: bob@acme.example, role: member, firstName: "=SUM(A1)", lastName: "  spaced  "}',
  '{email: cyd@acme.example, role: worker}',
  '{email: dee@acme.example, role: worker, lastName: Ðoe}',
];

function desiredOf(dir: string, file: string) {
  const read = readSources([file], { cwd: dir });
  return desiredState(loadManifests(read.sources).objects).get('acme')!;
}

describe('orgctl handoff deepomatic', () => {
  it('writes one bulk-invite CSV per role whose rows parse back to exactly the planned people', async () => {
    const dir = tempDir('orgctl-deepomatic-');
    writeFileSync(join(dir, 'acme.yaml'), org('additive', TRICKY));
    const run = await orgctl(['handoff', 'deepomatic', '-f', 'acme.yaml', '--out', 'out'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['checklist.md', 'invite-annotator.csv', 'invite-data-scientist.csv', 'invite-org-admin.csv']);

    const planned = planHandoff(desiredOf(dir, 'acme.yaml'), undefined);
    expect(planned.invites.map((f) => `${f.file} ${f.role} ${f.people.length}`)).toEqual(['invite-annotator.csv Annotator 2', 'invite-data-scientist.csv Data scientist 1', 'invite-org-admin.csv Org Admin 2']);
    for (const f of planned.invites) {
      const text = readFileSync(join(dir, 'out', f.file), 'utf8');
      expect(text.endsWith('\r\n')).toBe(true);
      const [header, ...rows] = parseCsv(text);
      expect(header).toEqual([...INVITE_COLUMNS]);
      expect(rows.map(([email, firstName, lastName, description]) => ({ email, firstName, lastName, description }))).toEqual(f.people);
    }
    const admins = parseCsv(readFileSync(join(dir, 'out', 'invite-org-admin.csv'), 'utf8'));
    expect(admins[2]).toEqual(['boss@acme.example', 'Zoë', "O'Neil, Jr.", 'Head of "Vision"']);
    expect(admins[1]).toEqual(['ann@acme.example', 'Ann', '', 'line one\nline two']);
    expect(run.stdout).toContain('Hand-off: 5 people to invite, 0 invites to resend, 0 role changes, 0 users to remove.');
    expect(readFileSync(join(dir, 'out', 'checklist.md'), 'utf8')).toContain('> No user table was given (`--current users.csv`)');
  });

  it('diffs a changed manifest against the admin page\'s user table and writes the expected checklist', async () => {
    const dir = tempDir('orgctl-deepomatic-');
    writeFileSync(
      join(dir, 'acme.yaml'),
      org('authoritative', [
        '{email: boss@acme.example, role: owner}',
        '{email: ann@acme.example, role: owner}', // promoted from Data scientist
        '{email: bob@acme.example, role: worker}', // demoted, invite still pending
        '{email: kim@acme.example, role: worker}', // invite expired: resend
        '{email: new@acme.example, role: member, firstName: New, lastName: Person}',
      ]),
    );
    writeFileSync(
      join(dir, 'users.csv'),
      [
        'Name,Description,Role,Email,Status,Last connection',
        'Boss,,Org Admin,boss@acme.example,Active,2026-11-20',
        'Ann,"Lead, vision",Data scientist,ANN@acme.example,Active,2026-11-19',
        'Bob,,data scientist,bob@acme.example,Invite Pending,',
        'Kim,,Annotator,kim@acme.example,invite expired,',
        'Old,,Annotator,old@acme.example,Active,2025-01-02',
        'Deepo,,Annotator,helper@deepomatic.example,Active,2026-11-01',
        '',
      ].join('\r\n'),
    );
    const run = await orgctl(['handoff', 'deepomatic', '-f', 'acme.yaml', '--current', 'users.csv', '--out', 'out'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(
      [
        'organization acme (Deepomatic: by hand, see out/checklist.md)',
        '  + invite new@acme.example as Data scientist',
        '  ~ resend-invite kim@acme.example expired invite, as Annotator',
        '  ~ change-role ann@acme.example Data scientist -> Org Admin',
        '  ~ change-role bob@acme.example data scientist -> Annotator',
        '  - remove old@acme.example (Annotator, Active)',
        '',
        'Hand-off: 1 person to invite, 1 invite to resend, 2 role changes, 1 user to remove.',
        'wrote out/invite-data-scientist.csv (1 person, role Data scientist)',
        'wrote out/checklist.md',
        '',
      ].join('\n'),
    );
    expect(readFileSync(join(dir, 'out', 'checklist.md'), 'utf8')).toBe(`# Deepomatic hand-off: acme

Deepomatic has no public API for users, so orgctl cannot apply this itself: an Org Admin does it on the
platform's admin page, in this order.

Made by \`orgctl handoff deepomatic\` from \`acme.yaml\` and the user table \`users.csv\`.
Roles: owner -> Org Admin, admin -> Org Admin, member -> Data scientist, worker -> Annotator.

Summary: 1 person to invite, 1 invite to resend, 2 role changes, 1 user to remove.

## 1. Invite

On the admin page: Invite, then import a CSV. Every user of one import gets the same role and site access.

- [ ] Import \`invite-data-scientist.csv\` with role **Data scientist** (1 person), and choose their site access.

## 2. Resend expired invites

User menu: Resend invite (for users whose status is Invite Expired).

- [ ] kim@acme.example (Annotator)

## 3. Change roles

User menu: Edit user info/role.

- [ ] ann@acme.example: Data scientist -> **Org Admin**
- [ ] bob@acme.example: data scientist -> **Annotator** (Invite Pending)

## 4. Remove users

User menu: Remove user (they lose access to the organization at once).

- [ ] old@acme.example (Annotator, Active)
`);

    // Next run, once the admin has done it all: nothing left, and the old invite file is gone.
    writeFileSync(
      join(dir, 'users.csv'),
      ['Email,Role,Status', 'boss@acme.example,Org Admin,Active', 'ann@acme.example,Org Admin,Active', 'bob@acme.example,Annotator,Active', 'kim@acme.example,Annotator,Invite Pending', 'new@acme.example,Data scientist,Invite Pending', 'helper@deepomatic.example,Annotator,Active'].join('\n'),
    );
    const again = await orgctl(['handoff', 'deepomatic', '-f', 'acme.yaml', '--current', 'users.csv', '--out', 'out'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Hand-off: 0 people to invite, 0 invites to resend, 0 role changes, 0 users to remove.');
    expect(again.stderr).toContain('removed out/invite-data-scientist.csv');
    expect(existsSync(join(dir, 'out', 'invite-data-scientist.csv'))).toBe(false);
  });

  it('maps roles as told, and refuses what it cannot use, naming where', async () => {
    const dir = tempDir('orgctl-deepomatic-');
    writeFileSync(join(dir, 'acme.yaml'), org('additive', ['{email: boss@acme.example, role: owner}', '{email: m@acme.example, role: member}']));
    const mapped = await orgctl(['handoff', 'deepomatic', '-f', 'acme.yaml', '--out', 'out', '--role', 'member=project manager'], { cwd: dir });
    expect(mapped.code, mapped.stderr).toBe(0);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['checklist.md', 'invite-org-admin.csv', 'invite-project-manager.csv']);

    const badRole = await orgctl(['handoff', 'deepomatic', '-f', 'acme.yaml', '--out', 'out', '--role', 'boss=Org Admin'], { cwd: dir });
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/--role "boss=Org Admin": expected ROLE=DEEPOMATIC_ROLE/);

    writeFileSync(join(dir, 'users.csv'), 'Email,Role,Status\nm@acme.example,Annotator,Sleeping\n"broken,x\n');
    const badCsv = await orgctl(['handoff', 'deepomatic', '-f', 'acme.yaml', '--out', 'out', '--current', 'users.csv'], { cwd: dir });
    expect(badCsv.code).toBe(1);
    expect(badCsv.stderr).toMatch(/users\.csv: not valid CSV: line 3: a quoted field is never closed/);
    writeFileSync(join(dir, 'users.csv'), 'Email,Role,Status\nm@acme.example,Annotator,Sleeping\n');
    expect((await orgctl(['handoff', 'deepomatic', '-f', 'acme.yaml', '--out', 'out', '--current', 'users.csv'], { cwd: dir })).stderr).toMatch(
      /users\.csv: line 2: status "Sleeping" is not one of Active, Invite Pending, Invite Expired/,
    );

    const other = await orgctl(['handoff', 'dataloop', '-f', 'acme.yaml', '--out', 'out'], { cwd: dir });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/knows one platform without a user API, deepomatic/);
  });
});

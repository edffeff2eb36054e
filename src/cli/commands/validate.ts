import { formatDiagnostic, formatNote } from '../../manifest/diagnostics.js';
import { ExitCode, type Io } from '../io.js';
import { maxManifestBytes, plural, readManifests } from '../manifests.js';

export interface ValidateOptions {
  filename: string[];
  output: 'text' | 'json';
  strict: boolean;
  maxManifestSize?: string;
}

const KIND_ORDER = ['Organization', 'Membership', 'Integration'];

/** `orgctl validate`: every problem in one run, each at file:line:column; exit 1 if there is any. */
export function runValidate(opts: ValidateOptions, io: Io): number {
  const { result, problems: diagnostics } = readManifests(opts.filename, io, { strict: opts.strict, maxFileBytes: maxManifestBytes(opts.maxManifestSize, io) });

  if (opts.output === 'json') {
    io.stdout(`${JSON.stringify(diagnostics.map(({ file, line, column, path, message }) => ({ file, line, column, path, message })), null, 2)}\n`);
  }
  for (const n of result.notes) io.stderr(`note: ${formatNote(n)}\n`);
  if (opts.output === 'text') for (const d of diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);

  if (diagnostics.length > 0) {
    const files = new Set(diagnostics.map((d) => d.file)).size;
    io.stderr(`error: ${plural(diagnostics.length, 'problem')} in ${plural(files, 'file')}\n`);
    return ExitCode.failure;
  }
  if (opts.output === 'text') {
    const counts = new Map<string, number>();
    let people = 0;
    for (const { object } of result.objects) {
      counts.set(object.kind, (counts.get(object.kind) ?? 0) + 1);
      if (object.kind === 'Membership') people += object.spec.members.length;
    }
    const parts = KIND_ORDER.filter((k) => counts.has(k)).map(
      (kind) => `${plural(counts.get(kind)!, kind)}${kind === 'Membership' ? ` (${plural(people, 'person', 'people')})` : ''}`,
    );
    io.stdout(
      `valid: ${plural(result.objects.length, 'object')} in ${plural(result.files, 'file')}${parts.length ? `: ${parts.join(', ')}` : ''}\n`,
    );
  }
  return ExitCode.ok;
}

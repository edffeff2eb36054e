import { watch, type FSWatcher } from 'chokidar';
import { basename, resolve } from 'node:path';
import { desiredState } from '../manifest/desired.js';
import type { Diagnostic } from '../manifest/diagnostics.js';
import { readManifestSet } from '../manifest/read-set.js';
import { MANIFEST_EXTENSIONS } from '../manifest/sources.js';
import type { DesiredOrg } from '../model/desired.js';
import { changedOrganizations, desiredDigest, type DesiredSnapshot, type DesiredSource } from './source.js';

export interface DirectorySourceOptions {
  /** Files and directories, as `-f` takes them. */
  paths: string[];
  cwd: string;
  /** Quiet time after the last file event before reading (one `git pull` of 300 files reads once). */
  debounceMs: number;
  /** Told each read: valid or not, and what changed. */
  onRead?: (read: { valid: boolean; problems: readonly Diagnostic[]; changed: ReadonlySet<string>; durationMs: number }) => void;
}

/**
 * Desired state from manifest files, watched with chokidar: a change of `.yaml`/`.yml`/`.json` files (added,
 * changed, removed; a rename is a remove and an add) is debounced, then everything is read and validated
 * again. A set that does not validate is never acted on: the last valid one stays, and the problems are
 * reported until the files are fixed.
 */
export class DirectorySource implements DesiredSource {
  private orgs: Map<string, DesiredOrg> = new Map();
  private digests: Map<string, string> = new Map();
  private problems: readonly Diagnostic[] = [];
  private loaded = false;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();
  private onChange: (changed: ReadonlySet<string>) => void = () => undefined;

  constructor(private readonly opts: DirectorySourceOptions) {}

  snapshot(): DesiredSnapshot {
    return { orgs: this.orgs, problems: this.problems, loaded: this.loaded };
  }

  async start(onChange: (changed: ReadonlySet<string>) => void): Promise<void> {
    this.onChange = onChange;
    this.read();
    const manifest = (path: string) => MANIFEST_EXTENSIONS.some((ext) => path.endsWith(ext));
    this.watcher = watch(
      this.opts.paths.map((p) => resolve(this.opts.cwd, p)),
      {
        ignoreInitial: true,
        // Hidden entries (.git, editor swap files) are skipped, as reading skips them.
        ignored: (path, stats) => basename(path).startsWith('.') || (stats?.isFile() === true && !manifest(path)),
      },
    );
    this.watcher.on('all', (event, path) => {
      if ((event === 'add' || event === 'change' || event === 'unlink') && !manifest(path)) return;
      this.schedule();
    });
    await new Promise<void>((resolvePromise, reject) => {
      this.watcher!.once('ready', () => resolvePromise());
      this.watcher!.once('error', reject);
    });
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.reading = this.reading.then(() => this.read());
    }, this.opts.debounceMs);
  }

  /** Reads and validates every file; on success, swaps in the new set and says which organizations changed. */
  private read(): void {
    const started = performance.now();
    const set = readManifestSet(this.opts.paths, { cwd: this.opts.cwd });
    if (set.problems.length) {
      this.problems = set.problems;
      this.opts.onRead?.({ valid: false, problems: set.problems, changed: new Set(), durationMs: performance.now() - started });
      return;
    }
    const orgs = desiredState(set.result.objects, new Map(set.sources.map((s) => [s.name, s.dir])));
    const digests = new Map([...orgs].map(([name, org]) => [name, desiredDigest(org)]));
    const changed = changedOrganizations(this.digests, digests);
    this.orgs = orgs;
    this.digests = digests;
    this.problems = [];
    this.loaded = true;
    this.opts.onRead?.({ valid: true, problems: [], changed, durationMs: performance.now() - started });
    if (changed.size) this.onChange(changed);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.watcher?.close();
    await this.reading;
  }
}

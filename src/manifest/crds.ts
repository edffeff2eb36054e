import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { GROUP } from './model.js';

/** One served version of one kind, as declared by a CustomResourceDefinition in crds/. */
export interface KindDefinition {
  group: string;
  version: string;
  kind: string;
  plural: string;
  shortNames: string[];
  /** The CRD's openAPIV3Schema, untouched. */
  openAPIV3Schema: Record<string, unknown>;
}

/** The crds/ folder shipped with the package (dist/manifest/ and src/manifest/ are both two levels below it). */
export const CRD_DIR = fileURLToPath(new URL('../../crds/', import.meta.url));

interface CrdDocument {
  kind?: string;
  spec?: {
    group?: string;
    names?: { kind?: string; plural?: string; shortNames?: string[] };
    versions?: { name?: string; served?: boolean; schema?: { openAPIV3Schema?: Record<string, unknown> } }[];
  };
}

let cached: KindDefinition[] | undefined;

/** The CRD files, in the order they are read. */
function crdFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
}

/** A digest of the CRD files as they are (names and bytes): validators compiled from other ones are not used. */
export function crdDigest(dir: string = CRD_DIR): string {
  const hash = createHash('sha256');
  for (const file of crdFiles(dir)) hash.update(`${file}\u0000`).update(readFileSync(`${dir}/${file}`)).update('\u0000');
  return `sha256:${hash.digest('hex')}`;
}

/** Reads every CRD in crds/. A broken CRD is a packaging bug, so it throws. */
export function kindDefinitions(dir: string = CRD_DIR): KindDefinition[] {
  if (cached && dir === CRD_DIR) return cached;
  const out: KindDefinition[] = [];
  for (const file of crdFiles(dir)) {
    const crd = load(readFileSync(`${dir}/${file}`, 'utf8')) as CrdDocument;
    const spec = crd.spec;
    if (crd.kind !== 'CustomResourceDefinition' || !spec?.group || !spec.names?.kind || !spec.versions) {
      throw new Error(`${dir}/${file}: not a CustomResourceDefinition with spec.group, spec.names.kind and spec.versions`);
    }
    if (spec.group !== GROUP) throw new Error(`${dir}/${file}: group ${spec.group} is not ${GROUP}`);
    for (const v of spec.versions) {
      const schema = v.schema?.openAPIV3Schema;
      if (!v.name || !v.served || !schema) continue;
      out.push({
        group: spec.group,
        version: v.name,
        kind: spec.names.kind,
        plural: spec.names.plural ?? `${spec.names.kind.toLowerCase()}s`,
        shortNames: spec.names.shortNames ?? [],
        openAPIV3Schema: schema,
      });
    }
  }
  if (dir === CRD_DIR) cached = out;
  return out;
}

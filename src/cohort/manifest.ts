// The record of one segmented slide, `<slide folder>/manifest.json`: what went in (the slide's SHA-256, the
// model and its weights' SHA-256, the mpp used, every setting), which mmfd made it, when, and how long each
// stage took. A cohort rerun skips a slide whose manifest is complete and whose slide, model and settings
// are unchanged; anything else runs again.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

export const MANIFEST = 'manifest.json';
const FORMAT = 'mmfd slide manifest, version 1';

/** Everything that changes the outputs besides the slide and the model; a change reruns the slide. */
export interface SegmentSettings {
  model: string;
  checkpoint: string | null;
  /** The --mpp override of the slide's own, or null. */
  mpp: number | null;
  min_object_um2: number;
  geojson_level: number;
  overlay_level: number;
  thumbnail_max: number;
}

export interface Manifest {
  format: string;
  status: 'complete';
  slide: { path: string; bytes: number; sha256: string };
  model: { id: string; sha256: string };
  mpp: { slide: number; labels: number };
  /** The label map's size in pixels; labels.tif may hold padding beyond it, right and bottom (`stored`), for a full pyramid. */
  label_grid: { width: number; height: number; stored: [number, number] };
  settings: SegmentSettings;
  mmfd_version: string;
  started: string;
  finished: string;
  timings_s: Record<string, number>;
  outputs: Record<string, string>;
}

/** The resume key: a finished slide is skipped only if all of this is the same. */
export interface RunKey {
  slideSha256: string;
  modelSha256: string;
  settings: SegmentSettings;
}

export function sameKey(manifest: Manifest, key: RunKey): boolean {
  return (
    manifest.format === FORMAT &&
    manifest.status === 'complete' &&
    manifest.slide.sha256 === key.slideSha256 &&
    manifest.model.sha256 === key.modelSha256 &&
    JSON.stringify(manifest.settings) === JSON.stringify(key.settings)
  );
}

export function newManifest(fields: Omit<Manifest, 'format' | 'status' | 'mmfd_version'>): Manifest {
  return { format: FORMAT, status: 'complete', mmfd_version: mmfdVersion(), ...fields };
}

/** The manifest in `dir`, or undefined when there is none or it cannot be read (the slide then runs again). */
export function readManifest(dir: string): Manifest | undefined {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

export function mmfdVersion(): string {
  // dist/src/cohort/manifest.js -> the package root, three folders up.
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function hashInto(hash: ReturnType<typeof createHash>, path: string): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/**
 * SHA-256 of a file. A MIRAX slide (.mrxs) is an index plus a folder of the same stem holding the data; its
 * hash covers the index and then every file in that folder, by name.
 */
export async function fileSha256(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  const files = [path];
  if (extname(path).toLowerCase() === '.mrxs') {
    const data = join(dirname(path), basename(path, extname(path)));
    if (existsSync(data))
      files.push(
        ...readdirSync(data)
          .sort()
          .map((f) => join(data, f)),
      );
  }
  let bytes = 0;
  for (const f of files) {
    bytes += statSync(f).size;
    await hashInto(hash, f);
  }
  return { sha256: hash.digest('hex'), bytes };
}

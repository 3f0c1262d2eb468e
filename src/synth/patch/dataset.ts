// A complete synthetic PMFT dataset on disk (spec §7.1): jpg/<id>.jpg, ann/<id>_seml0.png and _seml1.png,
// meta_info.json (cls2clr), sample_list.csv and a seeded 70/30 train/val split. The folder is built beside
// the target and renamed into place when complete, so a reader never sees half a dataset.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { formatColumns } from '../../data/csv.js';
import { folderTempName, swapFolderIn } from '../../torch/io/files.js';
import { SynthRng, synthSeed } from '../prng.js';
import { CLASS_TABLE, cls2clr } from './labels.js';
import { defaultPatchMpp, type SynthPatch, synthesizePatch } from './placenta.js';
import { slideCropPatch } from './slide_crop.js';

/** The split folder the reference reads for fewshot_perc 100 (spec §7.1). */
export const SPLIT_DIR = join('splits', 'fewer', 'fewer_test30_fewshot100');
export const JPEG_QUALITY = 92;

export interface SyntheticDatasetOptions {
  count: number;
  seed: number;
  /** Patch side in pixels (default 1024). */
  size?: number;
  /** Microns per pixel (default: defaultPatchMpp(size), a 1 mm field). */
  mpp?: number;
  /**
   * What the patches are drawn by: 'patches' (default) the patch painter (placenta.ts), 'slides' windows of
   * synthetic whole slides (slide_crop.ts), the distribution the slide benchmark segments.
   */
  source?: SyntheticSource;
  /** Replace an existing dataset folder (one holding meta_info.json) at the target. */
  force?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export type SyntheticSource = 'patches' | 'slides';

export interface SyntheticDataset {
  dir: string;
  samples: string[];
  train: string[];
  val: string[];
}

/** Sample `index` of a dataset: its name and the seed of its patch, independent of how many samples there are. */
export function syntheticSample(seed: number, index: number): { name: string; seed: number } {
  return { name: `synth_${seed}_${String(index).padStart(4, '0')}`, seed: synthSeed(seed, index) };
}

/** The seeded split: ~30 % of the names to val (at least one when there are two or more), the rest to train. */
export function splitSamples(names: readonly string[], seed: number): { train: string[]; val: string[] } {
  const shuffled = new SynthRng(synthSeed(seed, 0x5eed, names.length)).shuffle([...names]);
  const nVal = names.length < 2 ? 0 : Math.max(1, Math.round(0.3 * names.length));
  return { train: shuffled.slice(nVal).sort(), val: shuffled.slice(0, nVal).sort() };
}

function checkOptions(o: SyntheticDatasetOptions): number {
  const size = o.size ?? 1024;
  if (!Number.isInteger(o.count) || o.count < 1) throw new Error(`count must be a positive integer, got ${o.count}`);
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new Error(`seed must be a non-negative integer, got ${o.seed}`);
  if (!Number.isInteger(size) || size < 16 || size > 8192) throw new Error(`size must be an integer from 16 to 8192, got ${size}`);
  return size;
}

/** Throws a clear error unless `dir` can be created, or replaced (with force) as an earlier dataset. */
function checkTarget(dir: string, force: boolean): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new Error(`${dir}: exists and is not a folder`);
  if (readdirSync(dir).length === 0) return;
  if (!force) throw new Error(`${dir}: folder exists and is not empty; refusing to overwrite it (--force replaces a dataset)`);
  if (!existsSync(join(dir, 'meta_info.json'))) throw new Error(`${dir}: not a dataset folder (no meta_info.json); refusing to replace it`);
}

async function writeSample(root: string, name: string, patch: SynthPatch): Promise<void> {
  const raw = { width: patch.size, height: patch.size, channels: 3 as const };
  await Promise.all([
    sharp(patch.image, { raw })
      .jpeg({ quality: JPEG_QUALITY })
      .toFile(join(root, 'jpg', `${name}.jpg`)),
    sharp(patch.seml0, { raw })
      .png({ compressionLevel: 9 })
      .toFile(join(root, 'ann', `${name}_seml0.png`)),
    sharp(patch.seml1, { raw })
      .png({ compressionLevel: 9 })
      .toFile(join(root, 'ann', `${name}_seml1.png`)),
  ]);
}

/** Writes `count` synthetic patches as a PMFT dataset at `dir`. Same options, same bytes. */
export async function writeSyntheticDataset(dir: string, options: SyntheticDatasetOptions): Promise<SyntheticDataset> {
  const size = checkOptions(options);
  const mpp = options.mpp ?? defaultPatchMpp(size);
  const source = options.source ?? 'patches';
  const draw = source === 'slides' ? slideCropPatch : synthesizePatch;
  const target = resolve(dir);
  checkTarget(target, options.force ?? false);
  try {
    mkdirSync(dirname(target), { recursive: true });
  } catch (err) {
    throw new Error(`${dir}: cannot create its parent folder: ${(err as Error).message}`);
  }
  const tmp = folderTempName(target);
  try {
    for (const sub of ['jpg', 'ann', SPLIT_DIR]) mkdirSync(join(tmp, sub), { recursive: true });
    const samples: string[] = [];
    let pending: Promise<void> = Promise.resolve();
    for (let index = 0; index < options.count; index++) {
      const sample = syntheticSample(options.seed, index);
      const patch = draw(sample.seed, size, mpp); // drawn while the previous sample is being encoded
      await pending;
      if (index > 0) options.onProgress?.(index, options.count);
      pending = writeSample(tmp, sample.name, patch);
      samples.push(sample.name);
    }
    await pending;
    options.onProgress?.(options.count, options.count);
    const { train, val } = splitSamples(samples, options.seed);
    const meaning = Object.fromEntries(CLASS_TABLE.map((c) => [c.name, c.meaning]));
    const meta = {
      cls2clr: cls2clr(),
      // mpp: microns per pixel of the images, so a run trained on them can record its input's pixel size.
      synthetic: { generator: 'mmfd synth', source, seed: options.seed, count: options.count, size, mpp, classes: meaning },
    };
    writeFileSync(join(tmp, 'meta_info.json'), `${JSON.stringify(meta, null, 2)}\n`);
    writeFileSync(join(tmp, 'sample_list.csv'), formatColumns({ sample_name: samples }));
    writeFileSync(join(tmp, SPLIT_DIR, 'dataset_split.csv'), formatColumns({ train, val }));
    await swapFolderIn(tmp, target);
    return { dir: target, samples, train, val };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

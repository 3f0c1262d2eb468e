// A complete synthetic PMFT dataset on disk (spec §7.1): jpg/<id>.jpg, ann/<id>_seml0.png and _seml1.png,
// meta_info.json (cls2clr), sample_list.csv and a seeded 70/30 train/val split. The folder is built beside
// the target and renamed into place when complete, so a reader never sees half a dataset.
import { buildPmftDataset, writeSampleFiles } from '../../data/pmft_writer.js';
import { SynthRng, synthSeed } from '../prng.js';
import { CLASS_TABLE, cls2clr } from './labels.js';
import { defaultPatchMpp, synthesizePatch } from './placenta.js';
import { slideCropPatch } from './slide_crop.js';

export { SPLIT_DIR } from '../../data/pmft_writer.js';

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

/** Writes `count` synthetic patches as a PMFT dataset at `dir`. Same options, same bytes. */
export async function writeSyntheticDataset(dir: string, options: SyntheticDatasetOptions): Promise<SyntheticDataset> {
  const size = checkOptions(options);
  const mpp = options.mpp ?? defaultPatchMpp(size);
  const source = options.source ?? 'patches';
  const draw = source === 'slides' ? slideCropPatch : synthesizePatch;
  const { dir: target, contents } = await buildPmftDataset(dir, options.force ?? false, async (root) => {
    const samples: string[] = [];
    let pending: Promise<void> = Promise.resolve();
    for (let index = 0; index < options.count; index++) {
      const sample = syntheticSample(options.seed, index);
      const patch = draw(sample.seed, size, mpp); // drawn while the previous sample is being encoded
      await pending;
      if (index > 0) options.onProgress?.(index, options.count);
      pending = writeSampleFiles(root, sample.name, { width: patch.size, height: patch.size, ...patch });
      samples.push(sample.name);
    }
    await pending;
    options.onProgress?.(options.count, options.count);
    const meaning = Object.fromEntries(CLASS_TABLE.map((c) => [c.name, c.meaning]));
    const meta = {
      cls2clr: cls2clr(),
      // mpp: microns per pixel of the images, so a run trained on them can record its input's pixel size.
      synthetic: { generator: 'mmfd synth', source, seed: options.seed, count: options.count, size, mpp, classes: meaning },
    };
    return { samples, ...splitSamples(samples, options.seed), meta };
  });
  return { dir: target, samples: contents.samples, train: contents.train, val: contents.val };
}

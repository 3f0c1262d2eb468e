// Datasets a training run needs. The tiny configs name the built-in synthetic dataset; it is not
// shipped but generated on first use, so `mmfd train --config configs/tiny-*.yaml` works on a fresh
// checkout with no download. Any other dataset must already be on disk (the loader says what is missing).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { lookupDataset } from '../data/catalog.js';
import { Progress } from '../progress.js';
import { type SyntheticDatasetOptions, writeSyntheticDataset } from '../synth/patch/dataset.js';

/** Built-in synthetic datasets by catalog name: what `mmfd synth` would be asked for. */
type BuiltinSpec = Required<Pick<SyntheticDatasetOptions, 'count' | 'seed' | 'size' | 'mpp' | 'source'>>;

export const BUILTIN_SYNTHETIC: Readonly<Record<string, BuiltinSpec>> = {
  // 128-pixel patches at 1.0 um/px (a 128 um field): the tiny configs' input size and pixel size.
  synth_tiny: { count: 200, seed: 1234, size: 128, mpp: 1, source: 'patches' },
  // Another seed: a test set no training or checkpoint choice has seen (its val split, 60 images, is read).
  synth_tiny_test: { count: 200, seed: 4321, size: 128, mpp: 1, source: 'patches' },
  // Windows of synthetic slides at 1.0 um/px (a 128 um field), each from its own virtual slide: the slide
  // benchmark's training data. Drawing them is cheap, so there are more.
  synth_slide_crops: { count: 2000, seed: 2024, size: 128, mpp: 1, source: 'slides' },
  synth_slide_crops_test: { count: 600, seed: 4202, size: 128, mpp: 1, source: 'slides' },
};

const STAGES = ['train', 'val', 'test'] as const;

/** Generates every built-in synthetic dataset the config names and that is not on disk yet. */
export async function ensureBuiltinDatasets(cfg: Config, catalog?: string): Promise<void> {
  for (const name of new Set(STAGES.map((s) => cfg[s].dataset))) await ensureBuiltinDataset(name, catalog);
}

/** Generates the built-in synthetic dataset `name` where the catalog puts it, unless it is on disk (or not built in). */
export async function ensureBuiltinDataset(name: string, catalog?: string): Promise<void> {
  const spec = BUILTIN_SYNTHETIC[name];
  if (spec === undefined) return;
  const { root } = lookupDataset(name, catalog);
  if (existsSync(join(root, 'meta_info.json'))) return;
  const progress = new Progress(`synthesising dataset ${name} (${root}): image`, spec.count);
  try {
    await writeSyntheticDataset(root, { ...spec, onProgress: (done) => progress.update(done, '') });
  } catch (err) {
    // Another run may have generated it meanwhile (same options give the same bytes).
    if (!existsSync(join(root, 'meta_info.json'))) throw err;
  }
  progress.end();
}

/**
 * Runs `one` for each percentage of the config's fewshot_perc_list, in order, once the built-in datasets
 * it names exist: the outer loop of every stage's training and testing.
 */
export async function forEachPercentage<T>(cfg: Config, one: (perc: number) => Promise<T>): Promise<T[]> {
  await ensureBuiltinDatasets(cfg);
  const out: T[] = [];
  for (const perc of cfg.fewshot_perc_list) out.push(await one(perc));
  return out;
}

// Few-shot subsets (spec §7.1): the reference only reads precomputed <split>_fewshot<P> folders and
// does not release the script that made them. Here the P % subset of the full training column is
// the first round(P/100 * n) samples of one seeded permutation, so every run picks the same
// samples and the subsets are nested (the 10 % set lies inside the 20 % set). Validation keeps the
// full `val` column. A split file already on disk is used as it is.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeAtomic } from '../torch/io/files.js';
import { formatColumns } from './csv.js';
import { DataError } from './errors.js';
import type { PmftDataset } from './pmft.js';
import { StreamRng, streamSeed } from './rng.js';

/** Keeps the few-shot stream apart from other uses of the same config seed. */
const FEWSHOT_STREAM = 0xf5;

function checkPerc(perc: number): void {
  if (!Number.isFinite(perc) || perc <= 0 || perc > 100) throw new DataError(`few-shot percentage must be in (0, 100], got ${perc}`);
}

/** How many of n training samples the P % subset holds (at least one). */
export function fewshotCount(n: number, perc: number): number {
  checkPerc(perc);
  return Math.min(n, Math.max(1, Math.round((n * perc) / 100)));
}

/** The P % subset of `train` for the given seed, in the original order. */
export function chooseFewshot(train: readonly string[], perc: number, seed: number): string[] {
  const order = new StreamRng(streamSeed(seed, FEWSHOT_STREAM)).permutation(train.length);
  const chosen = new Set(order.slice(0, fewshotCount(train.length, perc)));
  return train.filter((_, i) => chosen.has(i));
}

/**
 * The split file for each percentage, writing those that are missing (atomically) from the full
 * split <split>_fewshot100/dataset_split.csv, which must exist.
 */
export function ensureFewshotSplits(dataset: PmftDataset, split: string, percs: readonly number[], seed: number): Map<number, string> {
  const full = dataset.splitFile(split, 100);
  const out = new Map<number, string>();
  for (const perc of percs) {
    checkPerc(perc);
    const file = dataset.splitFile(split, perc);
    if (!existsSync(file)) {
      const train = dataset.readSplit(full, 'train').map((s) => s.name);
      const val = dataset.readSplit(full, 'val').map((s) => s.name);
      const text = formatColumns({ train: chooseFewshot(train, perc, seed), val });
      mkdirSync(dirname(file), { recursive: true });
      writeAtomic(file, (sink) => sink.write(Buffer.from(text, 'utf8')));
    }
    out.set(perc, file);
  }
  return out;
}

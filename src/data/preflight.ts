// Before the first training iteration, every file of every split (train, val and test: the image and both
// label layers) has its header read (sharp's metadata, no pixel decode), so a broken file is reported in
// seconds, all at once, naming the file and its split, not at the first evaluation hours later.
import sharp from 'sharp';
import type { Config } from '../config/index.js';
import { DataError } from './errors.js';
import { type Stage, stageSamples } from './loader.js';

/** Files read at once: sharp reads headers on libuv's thread pool. */
const CONCURRENCY = 16;
/** Problems listed in the error; the count says how many more. */
const LISTED = 20;

/** Throws a DataError listing every file of the run's splits whose header cannot be read. */
export async function checkSplitImages(cfg: Config, perc: number, catalog?: string): Promise<void> {
  const where = new Map<string, string>();
  for (const stage of ['train', 'val', 'test'] as Stage[]) {
    const { file, samples } = stageSamples(cfg, stage, perc, catalog);
    for (const s of samples) for (const f of [s.image, s.seml0, s.seml1]) if (!where.has(f)) where.set(f, `${stage} split, ${file}`);
  }
  const files = [...where.keys()];
  const problems: string[] = [];
  const check = async (f: string) => {
    try {
      const m = await sharp(f).metadata();
      if (!(m.width! > 0 && m.height! > 0)) throw new Error('no image size in the header');
    } catch (err) {
      problems.push(`${f} (${where.get(f)}): ${(err as Error).message}`);
    }
  };
  for (let i = 0; i < files.length; i += CONCURRENCY) await Promise.all(files.slice(i, i + CONCURRENCY).map(check));
  if (problems.length === 0) return;
  problems.sort();
  const more = problems.length > LISTED ? `\n  ... and ${problems.length - LISTED} more` : '';
  throw new DataError(
    `${problems.length} of ${files.length} dataset files cannot be read; fix or remove them before training:\n  ${problems.slice(0, LISTED).join('\n  ')}${more}`,
  );
}

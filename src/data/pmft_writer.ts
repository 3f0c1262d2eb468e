// Writing a PMFT dataset (spec §7.1), shared by `mmfd synth` and `mmfd patches`: jpg/<id>.jpg, ann/<id>_seml0.png
// and _seml1.png, meta_info.json, sample_list.csv and the full split. The folder is built beside the target and
// renamed into place when complete, so a reader never sees half a dataset.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { folderTempName, swapFolderIn } from '../torch/io/files.js';
import { formatColumns } from './csv.js';

/** The split folder the reference reads for fewshot_perc 100 (spec §7.1). */
export const SPLIT_PREFIX = join('splits', 'fewer', 'fewer_test30');
export const SPLIT_DIR = `${SPLIT_PREFIX}_fewshot100`;
export const JPEG_QUALITY = 92;

/** One sample's pixels: RGB and the two colour-coded label layers, each HWC RGB of width x height. */
export interface PmftSamplePixels {
  width: number;
  height: number;
  image: Uint8Array;
  seml0: Uint8Array;
  seml1: Uint8Array;
}

/** What the caller's `fill` put into the folder under construction. */
export interface PmftContents {
  samples: string[];
  train: string[];
  val: string[];
  /** meta_info.json (cls2clr and whatever describes the data). */
  meta: Record<string, unknown>;
}

/** Throws a clear error unless `dir` can be created, or replaced (with force) as an earlier dataset. */
function checkTarget(dir: string, force: boolean): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new Error(`${dir}: exists and is not a folder`);
  if (readdirSync(dir).length === 0) return;
  if (!force) throw new Error(`${dir}: folder exists and is not empty; refusing to overwrite it (--force replaces a dataset)`);
  if (!existsSync(join(dir, 'meta_info.json'))) throw new Error(`${dir}: not a dataset folder (no meta_info.json); refusing to replace it`);
}

/** Writes one sample's image (JPEG) and label layers (PNG) under `root`. */
export async function writeSampleFiles(root: string, name: string, s: PmftSamplePixels): Promise<void> {
  const raw = { width: s.width, height: s.height, channels: 3 as const };
  await Promise.all([
    sharp(s.image, { raw })
      .jpeg({ quality: JPEG_QUALITY })
      .toFile(join(root, 'jpg', `${name}.jpg`)),
    sharp(s.seml0, { raw })
      .png({ compressionLevel: 9 })
      .toFile(join(root, 'ann', `${name}_seml0.png`)),
    sharp(s.seml1, { raw })
      .png({ compressionLevel: 9 })
      .toFile(join(root, 'ann', `${name}_seml1.png`)),
  ]);
}

/**
 * Builds a dataset at `dir`: `fill(root)` writes the samples into a fresh folder beside it (jpg/, ann/ and the split
 * folder exist) and says what it wrote; the lists and meta_info.json are added and the folder renamed into place.
 * `after(root)` may add files (few-shot splits) once the dataset is complete, before the rename. Returns the
 * absolute target.
 */
export async function buildPmftDataset(
  dir: string,
  force: boolean,
  fill: (root: string) => Promise<PmftContents>,
  after?: (root: string) => void,
): Promise<{ dir: string; contents: PmftContents }> {
  const target = resolve(dir);
  checkTarget(target, force);
  try {
    mkdirSync(dirname(target), { recursive: true });
  } catch (err) {
    throw new Error(`${dir}: cannot create its parent folder: ${(err as Error).message}`);
  }
  const tmp = folderTempName(target);
  try {
    for (const sub of ['jpg', 'ann', SPLIT_DIR]) mkdirSync(join(tmp, sub), { recursive: true });
    const contents = await fill(tmp);
    writeFileSync(join(tmp, 'meta_info.json'), `${JSON.stringify(contents.meta, null, 2)}\n`);
    writeFileSync(join(tmp, 'sample_list.csv'), formatColumns({ sample_name: contents.samples }));
    writeFileSync(join(tmp, SPLIT_DIR, 'dataset_split.csv'), formatColumns({ train: contents.train, val: contents.val }));
    after?.(tmp);
    await swapFolderIn(tmp, target);
    return { dir: target, contents };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

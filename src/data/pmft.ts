// The PMFT placenta dataset on disk (spec §7.1):
//   <root>/meta_info.json                   {"cls2clr": {class: packed RGB}}
//   <root>/sample_list.csv                  column sample_name
//   <root>/jpg/<name>.jpg or hsi/<name>.jpg the RGB tile (the README says jpg/, the reference code reads hsi/)
//   <root>/ann/<name>_seml0.png, _seml1.png the two colour-coded label layers
//   <root>/<split>_fewshot<P>/dataset_split.csv   columns train and val, padded with NaN/empty cells
// Every path built from a data file is checked to stay inside its folder of the dataset root.
// No torch here: the loader's worker threads decode samples with decodeSample.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Layer } from './classes.js';
import { parseCsv, readColumn } from './csv.js';
import { DataError } from './errors.js';
import { decodeRgb, type RgbImage } from './images.js';
import { type Cls2Clr, decodeRawMask, decodeValidMask, readMetaInfo, type UnknownColours } from './labels.js';

export interface SampleFiles {
  name: string;
  image: string;
  seml0: string;
  seml1: string;
}

/** Image folders, tried in this order. */
export const IMAGE_DIRS = ['jpg', 'hsi'] as const;

/** The reference trains on `train` and validates and tests on `val` (spec §7.1). */
export type SplitColumn = 'train' | 'val';

/** `rel` resolved inside `dir`; a DataError citing `source` if it would leave it ('../x', absolute paths). */
export function resolveInside(dir: string, rel: string, source: string): string {
  const path = resolve(dir, rel);
  const r = relative(dir, path);
  if (rel.includes('\0') || isAbsolute(rel) || r === '' || r === '..' || r.startsWith(`..${sep}`) || isAbsolute(r)) {
    throw new DataError(`${source}: path '${rel}' escapes its dataset folder ${dir}`);
  }
  return path;
}

const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();

export class PmftDataset {
  private constructor(
    readonly root: string,
    readonly metaInfo: string,
    readonly cls2clr: Cls2Clr,
    /** sample_list.csv's names (the reference requires the file; splits choose the samples). */
    readonly sampleList: readonly string[],
  ) {}

  static open(root: string): PmftDataset {
    const dir = resolve(root);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DataError(`${dir}: dataset folder not found`);
    const metaInfo = join(dir, 'meta_info.json');
    if (!isFile(metaInfo)) throw new DataError(`${metaInfo}: missing (the dataset's class colour table)`);
    const listFile = join(dir, 'sample_list.csv');
    if (!isFile(listFile)) throw new DataError(`${listFile}: missing (the dataset's sample list, column sample_name)`);
    const list = readColumn(parseCsv(readFileSync(listFile, 'utf8'), listFile), 'sample_name', listFile).map((c) => c.value);
    return new PmftDataset(dir, metaInfo, readMetaInfo(metaInfo), list);
  }

  /** The files of sample `name`; `source` (the file that names it) is cited by errors. */
  files(name: string, source: string): SampleFiles {
    const layer = (l: Layer): string => {
      const p = resolveInside(join(this.root, 'ann'), `${name}_${l}.png`, source);
      if (!isFile(p)) throw new DataError(`${source}: sample '${name}' is missing its label layer ${p}`);
      return p;
    };
    const images = IMAGE_DIRS.map((d) => resolveInside(join(this.root, d), `${name}.jpg`, source));
    const image = images.find(isFile);
    if (image === undefined) throw new DataError(`${source}: sample '${name}' has no image (looked for ${images.join(' and ')})`);
    return { name, image, seml0: layer('seml0'), seml1: layer('seml1') };
  }

  /** The split file of a split folder prefix (e.g. 'splits/fewer/fewer_test30') and few-shot percentage. */
  splitFile(split: string, perc = 100): string {
    return resolveInside(this.root, join(`${split}_fewshot${perc}`, 'dataset_split.csv'), `dataset split '${split}'`);
  }

  /** The samples of one column of a split file, each checked to exist; a name may appear once. */
  readSplit(file: string, column: SplitColumn): SampleFiles[] {
    if (!isFile(file)) throw new DataError(`${file}: split file not found`);
    const cells = readColumn(parseCsv(readFileSync(file, 'utf8'), file), column, file);
    const seen = new Map<string, number>();
    return cells.map(({ value, row }) => {
      const where = `${file} (row ${row}, column ${column})`;
      const first = seen.get(value);
      if (first !== undefined) throw new DataError(`${where}: sample '${value}' is listed twice (also row ${first})`);
      seen.set(value, row);
      return this.files(value, where);
    });
  }
}

/** A decoded sample: RGB pixels and the raw 7-channel mask (labels.ts), both at the source size. */
export interface DecodedSample {
  name: string;
  image: RgbImage;
  mask: Uint8Array;
  /** [H*W] 1 labelled, 0 ignore; only for datasets whose cls2clr has an `ignore` colour. */
  valid?: Uint8Array;
}

/** Decodes one sample's three files; the image and both layers must have the same size. */
export async function decodeSample(
  files: SampleFiles,
  cls2clr: Cls2Clr,
  metaInfo: string,
  unknown: UnknownColours = 'error',
): Promise<DecodedSample> {
  const [image, seml0, seml1] = await Promise.all([decodeRgb(files.image), decodeRgb(files.seml0), decodeRgb(files.seml1)]);
  for (const [file, layer] of [
    [files.seml0, seml0],
    [files.seml1, seml1],
  ] as const) {
    if (layer.width !== image.width || layer.height !== image.height) {
      throw new DataError(
        `${file}: label size ${layer.width}x${layer.height} does not match the image ${files.image} (${image.width}x${image.height})`,
      );
    }
  }
  const mask = decodeRawMask({ seml0, seml1 }, cls2clr, { seml0: files.seml0, seml1: files.seml1, metaInfo }, unknown);
  const valid = decodeValidMask({ seml0, seml1 }, cls2clr);
  return { name: files.name, image, mask, ...(valid ? { valid } : {}) };
}

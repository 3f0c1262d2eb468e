// A small PMFT dataset written on the fly for the data tests and the loader benchmark: rectangles
// of every raw class painted in the two label layers, a smooth RGB tile, sample_list.csv, a split
// in the pandas layout (index column, NaN padding) and a catalog file naming it 'mini'. The raw
// masks are returned as known truth, computed from the painted class ids, not by decoding.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from './prng.js';

/** Colours of the raw classes (index order of src/data/classes.ts); 'other' has none. */
export const MINI_COLOURS: Record<string, [number, number, number]> = {
  villi: [200, 60, 20],
  villiu: [200, 60, 21],
  stem: [200, 61, 20],
  thrombus: [20, 60, 200],
  bloodvessel: [0, 224, 224],
  cellgroup: [224, 224, 0],
};
const LAYER0 = ['villi', 'villiu', 'stem', 'thrombus'];
const LAYER1 = ['bloodvessel', 'cellgroup'];
const RAW = [...LAYER0, ...LAYER1];

export interface MiniDataset {
  /** Folder holding the dataset and datasets.yaml. */
  dir: string;
  root: string;
  catalog: string;
  split: string;
  names: string[];
  train: string[];
  val: string[];
  height: number;
  width: number;
  /** Known raw masks [7, H, W] (0/1) by sample name. */
  truth: Map<string, Uint8Array>;
  /** The RGB pixels that were JPEG-encoded, by sample name. */
  pixels: Map<string, Uint8Array>;
}

export interface MiniOptions {
  count?: number;
  height?: number;
  width?: number;
  trainCount?: number;
  seed?: number;
  imageDir?: 'jpg' | 'hsi';
  dir?: string;
}

const packed = (c: [number, number, number]): number => c[0] * 65536 + c[1] * 256 + c[2];

/** Paints random rectangles of `classes` (ids 1..n) into an id map. */
function paint(rng: Rng, h: number, w: number, classes: number): Uint8Array {
  const ids = new Uint8Array(h * w);
  for (let c = 1; c <= classes; c++) {
    for (let r = 0; r < 2; r++) {
      const y0 = Math.floor(rng.next() * h * 0.8);
      const x0 = Math.floor(rng.next() * w * 0.8);
      const y1 = Math.min(h, y0 + 2 + Math.floor(rng.next() * h * 0.4));
      const x1 = Math.min(w, x0 + 2 + Math.floor(rng.next() * w * 0.4));
      for (let y = y0; y < y1; y++) ids.fill(c, y * w + x0, y * w + x1);
    }
  }
  return ids;
}

function layerPng(ids: Uint8Array, names: string[], h: number, w: number): Promise<Buffer> {
  const rgb = new Uint8Array(h * w * 3);
  ids.forEach((id, i) => {
    if (id > 0) rgb.set(MINI_COLOURS[names[id - 1] as string] as number[], i * 3);
  });
  return sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();
}

export async function writeMiniDataset(o: MiniOptions = {}): Promise<MiniDataset> {
  const [count, height, width] = [o.count ?? 6, o.height ?? 24, o.width ?? 32];
  const trainCount = o.trainCount ?? Math.ceil(count * 0.7);
  const rng = new Rng(o.seed ?? 7);
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'mmfd-pmft-'));
  const root = join(dir, 'dataset');
  const split = 'splits/fewer/fewer_test30';
  for (const sub of ['ann', o.imageDir ?? 'jpg', `${split}_fewshot100`]) mkdirSync(join(root, sub), { recursive: true });
  const names = Array.from({ length: count }, (_, i) => `s${String(i).padStart(3, '0')}`);
  const truth = new Map<string, Uint8Array>();
  const pixels = new Map<string, Uint8Array>();
  const hw = height * width;
  for (const name of names) {
    const ids0 = paint(rng, height, width, LAYER0.length);
    const ids1 = paint(rng, height, width, LAYER1.length);
    const raw = new Uint8Array(7 * hw);
    for (let i = 0; i < hw; i++) {
      const a = ids0[i] as number;
      const b = ids1[i] as number;
      if (a > 0) raw[(a - 1) * hw + i] = 1;
      if (b > 0) raw[(LAYER0.length + b - 1) * hw + i] = 1;
      if (a === 0 && b === 0) raw[6 * hw + i] = 1;
    }
    truth.set(name, raw);
    const rgb = new Uint8Array(hw * 3);
    const tint = rng.next() * 60;
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        rgb.set([120 + Math.round((100 * x) / width), 80 + Math.round((90 * y) / height + tint), 170 - (ids0[i] as number) * 20], i * 3);
      }
    pixels.set(name, rgb);
    const jpeg = await sharp(rgb, { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 95, chromaSubsampling: '4:4:4' })
      .toBuffer();
    writeFileSync(join(root, o.imageDir ?? 'jpg', `${name}.jpg`), jpeg);
    writeFileSync(join(root, 'ann', `${name}_seml0.png`), await layerPng(ids0, LAYER0, height, width));
    writeFileSync(join(root, 'ann', `${name}_seml1.png`), await layerPng(ids1, LAYER1, height, width));
  }
  const cls2clr = Object.fromEntries(RAW.map((n) => [n, packed(MINI_COLOURS[n] as [number, number, number])]));
  writeFileSync(join(root, 'meta_info.json'), JSON.stringify({ cls2clr }));
  writeFileSync(join(root, 'sample_list.csv'), `sample_name\n${names.join('\n')}\n`);
  const train = names.slice(0, trainCount);
  const val = names.slice(trainCount);
  const rows = Array.from({ length: Math.max(train.length, val.length) }, (_, i) => `${i},${train[i] ?? ''},${val[i] ?? 'NaN'}`);
  writeFileSync(join(root, `${split}_fewshot100`, 'dataset_split.csv'), `,train,val\n${rows.join('\n')}\n`);
  const catalog = join(dir, 'datasets.yaml');
  writeFileSync(catalog, `mini:\n  root: dataset\n  split: ${split}\n`);
  return { dir, root, catalog, split, names, train, val, height, width, truth, pixels };
}

// Label decoding (spec §7.2, the reference's generate_sem_mask): each annotation layer is decoded
// to RGB, every pixel packed as the code R*65536 + G*256 + B, and raw channel k is set where the
// code of k's layer equals cls2clr[k] exactly. No torch here: worker threads run this; the
// resizing and the final channels are in sem_mask.ts.
import { readFileSync } from 'node:fs';
import { LAYERS, type Layer, NUM_RAW, OTHER_CHANNEL, RAW_CLASSES } from './classes.js';
import { DataError } from './errors.js';
import type { RgbImage } from './images.js';

/** meta_info.json's cls2clr: class name -> packed colour code. */
export type Cls2Clr = ReadonlyMap<string, number>;

/** Black is unlabelled background in both layers, whether or not meta_info.json lists it. */
export const BACKGROUND_CODE = 0;

/** The cls2clr entry of pixels whose class is not known (`mmfd patches` past annotated regions): no loss, no score. */
export const IGNORE_CLASS = 'ignore';

/**
 * What to do with a colour that is neither a cls2clr colour nor background. 'error' (the default
 * for datasets) stops with the file, pixel and colour; 'ignore' is the reference's behaviour
 * (the pixel gets no class), needed to reproduce its outputs.
 */
export type UnknownColours = 'error' | 'ignore';

export const packRgb = (r: number, g: number, b: number): number => r * 65536 + g * 256 + b;
const rgbOf = (code: number): string => `(${code >>> 16}, ${(code >>> 8) & 255}, ${code & 255})`;

/** Reads meta_info.json: every raw class except 'other' needs a colour code in [0, 0xFFFFFF]. */
export function readMetaInfo(file: string): Cls2Clr {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DataError(`${file}: cannot read meta_info.json: ${(err as Error).message}`);
  }
  const table = (doc as { cls2clr?: unknown } | null)?.cls2clr;
  if (table === null || typeof table !== 'object' || Array.isArray(table)) throw new DataError(`${file}: no 'cls2clr' mapping`);
  const out = new Map<string, number>();
  for (const [name, code] of Object.entries(table)) {
    if (!Number.isInteger(code) || (code as number) < 0 || (code as number) > 0xffffff) {
      throw new DataError(
        `${file}: cls2clr.${name} must be a packed RGB code R*65536+G*256+B in [0, 16777215], got ${JSON.stringify(code)}`,
      );
    }
    out.set(name, code as number);
  }
  for (const c of RAW_CLASSES) {
    if (c.layer !== null && !out.has(c.name)) throw new DataError(`${file}: cls2clr has no colour for class '${c.name}'`);
  }
  return out;
}

export interface LabelFiles {
  seml0: string;
  seml1: string;
  /** Named in unknown-colour errors (where the colour table came from). */
  metaInfo?: string;
}

/**
 * The raw mask [7, H, W] (channel-major, 0/1) of one sample: villi, villiu, stem, thrombus from
 * seml0, bloodvessel, cellgroup from seml1, and 'other' where none is set. A class colour painted
 * in the other layer is ignored, as in the reference.
 */
export function decodeRawMask(
  layers: Record<Layer, RgbImage>,
  cls2clr: Cls2Clr,
  files: LabelFiles,
  unknown: UnknownColours = 'error',
): Uint8Array {
  const { width, height } = layers.seml0;
  if (layers.seml1.width !== width || layers.seml1.height !== height) {
    throw new DataError(
      `${files.seml1}: size ${layers.seml1.width}x${layers.seml1.height} differs from ${files.seml0} (${width}x${height})`,
    );
  }
  const known = new Set([BACKGROUND_CODE, ...cls2clr.values()]);
  const hw = width * height;
  const mask = new Uint8Array(NUM_RAW * hw);
  for (const layer of LAYERS) {
    // code -> raw channels of this layer (a list: two classes may share a colour).
    const channels = new Map<number, number[]>();
    RAW_CLASSES.forEach((c, k) => {
      if (c.layer !== layer) return;
      const code = cls2clr.get(c.name) as number;
      channels.set(code, [...(channels.get(code) ?? []), k]);
    });
    const { data } = layers[layer];
    let firstUnknown = -1;
    let unknownCount = 0;
    for (let i = 0; i < hw; i++) {
      const code = packRgb(data[i * 3] as number, data[i * 3 + 1] as number, data[i * 3 + 2] as number);
      const ks = channels.get(code);
      if (ks !== undefined) for (const k of ks) mask[k * hw + i] = 1;
      else if (!known.has(code)) {
        if (firstUnknown < 0) firstUnknown = i;
        unknownCount++;
      }
    }
    if (unknown === 'error' && firstUnknown >= 0) {
      const code = packRgb(data[firstUnknown * 3] as number, data[firstUnknown * 3 + 1] as number, data[firstUnknown * 3 + 2] as number);
      throw new DataError(
        `${files[layer]}: label colour RGB ${rgbOf(code)} (code ${code}) at pixel x=${firstUnknown % width}, y=${Math.floor(firstUnknown / width)} ` +
          `is not in the class table${files.metaInfo ? ` (${files.metaInfo} cls2clr)` : ''} nor background ${rgbOf(BACKGROUND_CODE)}; ` +
          `${unknownCount} pixel(s) of this layer have unknown colours`,
      );
    }
  }
  const other = OTHER_CHANNEL * hw;
  for (let i = 0; i < hw; i++) {
    let any = 0;
    for (let k = 0; k < OTHER_CHANNEL; k++) any |= mask[k * hw + i] as number;
    mask[other + i] = any ^ 1;
  }
  return mask;
}

/**
 * The valid mask [H*W] (1 labelled, 0 ignore) when cls2clr has an `ignore` colour: a pixel is ignored where
 * either layer has that colour. Undefined without one (every pixel valid; callers keep the unmasked path).
 */
export function decodeValidMask(layers: Record<Layer, RgbImage>, cls2clr: Cls2Clr): Uint8Array | undefined {
  const code = cls2clr.get(IGNORE_CLASS);
  if (code === undefined) return undefined;
  const { width, height } = layers.seml0;
  const valid = new Uint8Array(width * height).fill(1);
  for (const layer of LAYERS) {
    const { data } = layers[layer];
    for (let i = 0; i < valid.length; i++) {
      if (packRgb(data[i * 3] as number, data[i * 3 + 1] as number, data[i * 3 + 2] as number) === code) valid[i] = 0;
    }
  }
  return valid;
}

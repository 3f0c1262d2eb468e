// One synthetic H&E placenta patch and its labels: layout.ts draws the label geometry, paint.ts paints dyes from
// it, ../stain.ts renders them through a random stain. The labels are the drawn geometry itself.
import { FINAL_CLASSES } from '../../data/classes.js';
import { SynthRng } from '../prng.js';
import { emptyDyeMaps, randomStain, renderStain } from '../stain.js';
import { CLASS_TABLE, encodeLayer, type RawClassName } from './labels.js';
import { Scene } from './layout.js';
import { paintPatch } from './paint.js';

export interface SynthPatch {
  size: number;
  /** Microns per pixel. */
  mpp: number;
  /** HWC RGB, size x size. */
  image: Uint8Array;
  /** Per-pixel class code of each layer (labels.ts: CLASS_TABLE index + 1, 0 = other). */
  level0: Uint8Array;
  level1: Uint8Array;
  /** The colour-coded label layers (HWC RGB, black = other) as written to ann/<id>_seml0.png and _seml1.png. */
  seml0: Uint8Array;
  seml1: Uint8Array;
  /** One 0/1 mask per raw class. */
  classes: Record<RawClassName, Uint8Array>;
}

/**
 * Microns per pixel of the tissue the generator draws at scale 1. Its nuclei (3.5-5.5 px semi-axes), capillaries and
 * villi have the sizes in pixels that synthetic slides (../slide/paint.ts) and real tissue have in microns.
 */
export const SYNTH_BASE_MPP = 1.0;

/** The default pixel size: a size x size patch shows what a 1024-pixel patch at scale 1 shows (a 1 mm field). */
export function defaultPatchMpp(size: number): number {
  return (SYNTH_BASE_MPP * 1024) / size;
}

/**
 * A size x size synthetic patch at `mpp` microns per pixel (default: the 1 mm field of a 1024 patch at 1 um/px,
 * shrunk to `size`); the same seed, size and mpp always give the same pixels.
 */
export function synthesizePatch(seed: number, size = 1024, mpp = defaultPatchMpp(size)): SynthPatch {
  if (!Number.isInteger(size) || size < 16) throw new Error(`synthesizePatch: size must be an integer >= 16, got ${size}`);
  if (!(mpp >= 0.05 && mpp <= 50)) throw new Error(`synthesizePatch: mpp must be between 0.05 and 50 microns per pixel, got ${mpp}`);
  const rng = new SynthRng(seed);
  const scene = new Scene(rng.fork(), size, SYNTH_BASE_MPP / mpp);
  scene.layOut();
  const paintRng = rng.fork();
  const dyes = emptyDyeMaps(scene.n);
  paintPatch(scene, dyes, paintRng);
  const image = renderStain(dyes, randomStain(paintRng), size, size, paintRng);
  return patchFromCodes(size, mpp, image, scene.level0, scene.level1);
}

/** A patch from its image and the class codes of its two label layers. */
export function patchFromCodes(size: number, mpp: number, image: Uint8Array, level0: Uint8Array, level1: Uint8Array): SynthPatch {
  const classes = {} as Record<RawClassName, Uint8Array>;
  for (const [index, c] of CLASS_TABLE.entries()) {
    const codes = c.layer === 0 ? level0 : level1;
    const mask = new Uint8Array(codes.length);
    for (let i = 0; i < codes.length; i++) mask[i] = codes[i] === index + 1 ? 1 : 0;
    classes[c.name] = mask;
  }
  return { size, mpp, image, level0, level1, seml0: encodeLayer(level0), seml1: encodeLayer(level1), classes };
}

/** The four final-class masks (classes.ts FINAL_CLASSES order: villus, fibrin, capillary, trophoblast aggregation). */
export function finalClassMasks(patch: SynthPatch): Uint8Array[] {
  return FINAL_CLASSES.map((f) => {
    const out = new Uint8Array(patch.size * patch.size);
    for (const name of f.from) {
      const mask = patch.classes[name as RawClassName];
      for (let i = 0; i < out.length; i++) out[i]! |= mask[i]!;
    }
    return out;
  });
}

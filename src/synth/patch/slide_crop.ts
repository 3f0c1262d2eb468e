// A synthetic patch cut from a synthetic whole slide (../slide/paint.ts) rather than drawn by the patch painter:
// the objects, sizes, intervillous space, glass and stain of the slides that bench:slide segments, so a network
// trained on these patches is tested on slides from its own distribution. The patch painter fills most of a patch
// with villi; a slide is 35-40 % intervillous space, has fibrin plaques wider than a tile, and glass around its
// sections, which a student trained on generator patches calls villus.
import { LABEL_BITS } from '../../data/classes.js';
import { SynthRng, synthSeed } from '../prng.js';
import { SlidePainter } from '../slide/paint.js';
import { classCode } from './labels.js';
import { patchFromCodes, type SynthPatch } from './placenta.js';

/** Side of the virtual slide each crop comes from, in microns: room for sections of realistic size. */
const SLIDE_SIDE_UM = 6000;
/** Share of crops taken anywhere near a section (glass and section edges included), not centred on tissue. */
const ANYWHERE = 0.15;
/** A tissue-centred crop is redrawn until at least this share of it is tissue (a few tries). */
const MIN_TISSUE = 0.5;
const TRIES = 8;
/**
 * The RGB is painted at 1/SCAN_FACTOR of the pixel size and box-averaged, as slide segmentation reads a scan finer
 * than the network's input (a 0.5 um/px slide for a 1.0 um/px student) with area resampling, and as the reference
 * resized its 1024-pixel patches to 512.
 */
const SCAN_FACTOR = 2;

const VILLI = classCode('villi');
const THROMBUS = classCode('thrombus');
const BLOODVESSEL = classCode('bloodvessel');
const CELLGROUP = classCode('cellgroup');

export interface SlideCrop extends SynthPatch {
  /** Where it was cut: the virtual slide (side x side pixels, the crop's seed) and the window's top-left corner. */
  window: { side: number; x: number; y: number };
}

/**
 * A size x size patch at `mpp` microns per pixel: a window of a virtual slide with its own seed (so its own stain
 * and layout), mostly centred on tissue, sometimes anywhere around a section. The same seed, size and mpp always
 * give the same pixels.
 */
export function slideCropPatch(seed: number, size: number, mpp: number): SlideCrop {
  const side = Math.round(SLIDE_SIDE_UM / mpp);
  if (size > side / 4) throw new Error(`slideCropPatch: a ${size}-pixel patch at ${mpp} um/px is too large a field`);
  const painter = new SlidePainter(side, side, seed, mpp);
  const scan = new SlidePainter(SCAN_FACTOR * side, SCAN_FACTOR * side, seed, mpp / SCAN_FACTOR);
  const rng = new SynthRng(synthSeed(seed, 0xc40b));
  const anywhere = rng.chance(ANYWHERE);
  const bits = new Uint8Array(size * size);
  const preview = new Uint8Array(size * size * 3); // the window at the crop's own pixel size, to choose it
  const window = { side, x: 0, y: 0 };
  for (let attempt = 0; ; attempt++) {
    const section = painter.sections[rng.int(0, painter.sections.length)]!;
    const { x0, y0, x1, y1 } = section.box;
    window.x = Math.round(rng.uniform(x0, Math.max(x0, x1 - size)));
    window.y = Math.round(rng.uniform(y0, Math.max(y0, y1 - size)));
    painter.paintWindow(window.x, window.y, size, size, preview, bits);
    if (anywhere || attempt === TRIES - 1 || tissueShare(bits) >= MIN_TISSUE) break;
  }
  const fine = size * SCAN_FACTOR;
  const fineRgb = new Uint8Array(fine * fine * 3);
  scan.paintWindow(SCAN_FACTOR * window.x, SCAN_FACTOR * window.y, fine, fine, fineRgb, new Uint8Array(fine * fine));
  const rgb = boxDownsample(fineRgb, fine, SCAN_FACTOR);
  const level0 = new Uint8Array(size * size);
  const level1 = new Uint8Array(size * size);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]!;
    // Layer 0 holds the compartment, layer 1 what is drawn over it (labels.ts); villus subtypes are all 'villi'.
    // Where a capillary and an aggregate overlap the slide paints the capillary, so that is the label.
    level0[i] = b & LABEL_BITS.fibrin ? THROMBUS : b & LABEL_BITS.villus ? VILLI : 0;
    level1[i] = b & LABEL_BITS.capillary ? BLOODVESSEL : b & LABEL_BITS.aggregate ? CELLGROUP : 0;
  }
  return { ...patchFromCodes(size, mpp, rgb, level0, level1), window };
}

/** An RGB image of side `n` averaged over f x f blocks (rounded). */
function boxDownsample(rgb: Uint8Array, n: number, f: number): Uint8Array {
  const m = n / f;
  const out = new Uint8Array(m * m * 3);
  for (let y = 0; y < m; y++) {
    for (let x = 0; x < m; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) sum += rgb[((y * f + dy) * n + x * f + dx) * 3 + c]!;
        out[(y * m + x) * 3 + c] = Math.round(sum / (f * f));
      }
    }
  }
  return out;
}

function tissueShare(bits: Uint8Array): number {
  let n = 0;
  for (const b of bits) if (b & LABEL_BITS.tissue) n++;
  return n / bits.length;
}

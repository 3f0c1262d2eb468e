// Slide-level agreement of a predicted label TIFF (segment.ts) with a ground-truth one in the same bit-flag
// encoding (`mmfd synth-slide`'s labels): per-class Dice and each class's fraction of the tissue, counted
// band by band so any slide size fits. The truth is read at the prediction's pixel size: its own pyramid
// level when one matches (a 2x2-mode pyramid, as synth-slide writes), else its level 0 sampled at each
// predicted pixel's centre. Both are read within their true size (a padded label map records it: raster_grid.ts).
import { exactLevels, MPP_TOLERANCE } from '../io/mpp.js';
import { OpenSlide } from '../io/openslide.js';
import { recordedGrid } from '../io/raster_grid.js';

export interface ClassAgreement {
  bit: number;
  dice: number;
  truePositive: number;
  falsePositive: number;
  falseNegative: number;
  /** Pixels of the class over pixels marked tissue, in each image. */
  predictedFraction: number;
  trueFraction: number;
}

export interface LabelAgreement {
  pixels: number;
  predictedTissue: number;
  trueTissue: number;
  classes: ClassAgreement[];
}

const BAND_ROWS = 256;

/**
 * Compares `predicted` (whose top-left is level-0 pixel `origin` of the truth, `downsample` truth level-0 pixels per
 * predicted pixel) with `truth` over `classBits` class bits and the tissue bit.
 */
export function compareLabels(
  predictedPath: string,
  truthPath: string,
  o: { classBits: number; tissueBit: number; origin?: { x: number; y: number }; downsample: number },
): LabelAgreement {
  const predicted = OpenSlide.open(predictedPath);
  const truth = OpenSlide.open(truthPath);
  try {
    const { width, height } = trueSize(predictedPath, predicted);
    const truthSize = trueSize(truthPath, truth);
    const origin = o.origin ?? { x: 0, y: 0 };
    const exact = exactLevels(truth.levels);
    const level = truth.levels.findIndex((l, i) => exact[i] && Math.abs(l.downsample / o.downsample - 1) <= MPP_TOLERANCE);
    const counts = Array.from({ length: o.classBits }, () => ({ tp: 0, fp: 0, fn: 0, p: 0, t: 0 }));
    let predictedTissue = 0;
    let trueTissue = 0;
    for (let y0 = 0; y0 < height; y0 += BAND_ROWS) {
      const rows = Math.min(BAND_ROWS, height - y0);
      const p = predicted.readRegion(0, y0, 0, width, rows);
      const t = truthBand(truth, truthSize, level, origin, o.downsample, y0, width, rows);
      for (let i = 0; i < width * rows; i++) {
        const pv = p[4 * i]!;
        const tv = t[i]!;
        if (pv & o.tissueBit) predictedTissue++;
        if (tv & o.tissueBit) trueTissue++;
        for (let c = 0; c < o.classBits; c++) {
          const a = (pv >> c) & 1;
          const b = (tv >> c) & 1;
          const k = counts[c]!;
          k.tp += a & b;
          k.fp += a & (b ^ 1);
          k.fn += (a ^ 1) & b;
          k.p += a;
          k.t += b;
        }
      }
    }
    return {
      pixels: width * height,
      predictedTissue,
      trueTissue,
      classes: counts.map((k, bit) => ({
        bit,
        dice: k.tp + k.fp + k.fn === 0 ? 1 : (2 * k.tp) / (2 * k.tp + k.fp + k.fn),
        truePositive: k.tp,
        falsePositive: k.fp,
        falseNegative: k.fn,
        predictedFraction: predictedTissue > 0 ? k.p / predictedTissue : 0,
        trueFraction: trueTissue > 0 ? k.t / trueTissue : 0,
      })),
    };
  } finally {
    predicted.close();
    truth.close();
  }
}

/** The label map's size without its padding. */
function trueSize(path: string, labels: OpenSlide): { width: number; height: number } {
  const [width, height] = labels.dimensions;
  return recordedGrid(path) ?? { width, height };
}

/**
 * Rows [y0, y0 + rows) of the truth (`size`: its true level 0) on the predicted grid, one byte per pixel. A centre
 * past the truth's last column or row samples that column or row.
 */
function truthBand(
  truth: OpenSlide,
  size: { width: number; height: number },
  level: number,
  origin: { x: number; y: number },
  downsample: number,
  y0: number,
  width: number,
  rows: number,
): Uint8Array {
  const out = new Uint8Array(width * rows);
  if (level >= 0) {
    const rgba = truth.readRegion(origin.x, Math.round(origin.y + y0 * downsample), level, width, rows);
    for (let i = 0; i < out.length; i++) out[i] = rgba[4 * i]!;
    return out;
  }
  for (let r = 0; r < rows; r++) {
    const row = truth.readRegion(0, Math.min(size.height - 1, Math.floor(origin.y + (y0 + r + 0.5) * downsample)), 0, size.width, 1);
    for (let x = 0; x < width; x++) out[r * width + x] = row[4 * Math.min(size.width - 1, Math.floor(origin.x + (x + 0.5) * downsample))]!;
  }
  return out;
}

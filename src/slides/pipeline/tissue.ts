// Tissue detection on a low-resolution view of the slide (MONAI's and CLAM's recipe, sizes in microns as
// TIAToolbox scales them): HSV saturation, a 3x3 box blur against stain noise, an Otsu threshold (never below
// a floor, so an empty slide stays empty), a closing that bridges narrow gaps (the pale intervillous space
// between villi is tissue, but no more saturated than glass), holes smaller than an area filled, specks
// smaller than an area removed. Glass is grey or white and barely saturated; stained tissue is not. Segmentation runs only the
// tiles that touch the mask (grown by `edgeBand`); near the mask's edge the label map's tissue bit is decided at
// its own resolution (tissue_edges.ts), and its tissue is the denominator of every tissue fraction.
import { squaredDistanceTransform } from '../../eval/distance.js';
import { MPP_TOLERANCE } from '../io/mpp.js';
import type { OpenSlide } from '../io/openslide.js';

export interface TissueOptions {
  /** Pixel size of the view the mask is computed on: the coarsest level at most this, box-averaged up to it; default 16. */
  mpp?: number;
  /** Saturation (0-1) below which nothing is tissue, whatever Otsu says; default 0.05. */
  minSaturation?: number;
  /** Closing (dilation then erosion by a disc of this radius, in um) bridging gaps between tissue; default 100. */
  closing?: number;
  /** Enclosed glass regions up to this area are filled; default 100,000 um^2 (0.1 mm^2). */
  maxHoleArea?: number;
  /** Tissue regions smaller than this are removed as specks; default 10,000 um^2 (0.01 mm^2). */
  minTissueArea?: number;
  /**
   * Within this distance (um) of the mask's edge, on either side, segmentation decides tissue at the label
   * map's resolution from the slide's own pixels (tissue_edges.ts); 0 keeps the mask's coarse edge. Default 48.
   */
  edgeBand?: number;
  /** The closing (um) that joins pale tissue between stained parts in that band; default 48. */
  edgeClosing?: number;
  /** Clear the class bits outside tissue (default true); false keeps every class the network predicts. */
  clip?: boolean;
}

export interface TissueMask {
  width: number;
  height: number;
  /** Microns per mask pixel. */
  mpp: number;
  /** 1 = tissue, row-major. */
  data: Uint8Array;
  /** The Otsu threshold used, as a saturation in 0-1. */
  threshold: number;
  /** Tissue area in um^2. */
  area: number;
}

export const TISSUE_DEFAULTS: Required<TissueOptions> = {
  mpp: 16,
  minSaturation: 0.05,
  closing: 100,
  maxHoleArea: 100_000,
  minTissueArea: 10_000,
  edgeBand: 48,
  edgeClosing: 48,
  clip: true,
};

export interface RgbImage {
  width: number;
  height: number;
  /** RGB interleaved. */
  data: Uint8Array;
  mpp: number;
}

/**
 * The slide at about `mpp` um/px: the coarsest level at most that (within MPP_TOLERANCE), box-averaged by the
 * largest whole factor that stays at most `mpp`; read in strips, so a slide with no pyramid costs strips, not
 * the whole level. Transparent pixels count as white glass.
 */
export function readThumbnail(slide: OpenSlide, slideMpp: number, mpp: number): RgbImage {
  let level = 0;
  slide.levels.forEach((l, i) => {
    if (slideMpp * l.downsample <= mpp * (1 + MPP_TOLERANCE)) level = i;
  });
  const { width: lw, height: lh, downsample } = slide.levels[level]!;
  const levelMpp = slideMpp * downsample;
  const f = Math.max(1, Math.floor((mpp * (1 + MPP_TOLERANCE)) / levelMpp));
  const width = Math.ceil(lw / f);
  const height = Math.ceil(lh / f);
  const out = new Uint8Array(width * height * 3);
  const stripRows = f * Math.max(1, Math.floor(4_000_000 / (lw * f)));
  for (let y0 = 0; y0 < lh; y0 += stripRows) {
    const rows = Math.min(stripRows, lh - y0);
    const rgba = slide.readRegion(0, Math.round(y0 * downsample), level, lw, rows);
    for (let by = 0; by < Math.ceil(rows / f); by++) {
      const ty = y0 / f + by;
      for (let tx = 0; tx < width; tx++) {
        let r = 0;
        let g = 0;
        let b = 0;
        let n = 0;
        for (let y = by * f; y < Math.min(rows, (by + 1) * f); y++) {
          for (let x = tx * f; x < Math.min(lw, (tx + 1) * f); x++) {
            const i = 4 * (y * lw + x);
            const a = rgba[i + 3]! / 255;
            r += rgba[i]! * a + 255 * (1 - a);
            g += rgba[i + 1]! * a + 255 * (1 - a);
            b += rgba[i + 2]! * a + 255 * (1 - a);
            n++;
          }
        }
        const o = 3 * (ty * width + tx);
        out[o] = Math.round(r / n);
        out[o + 1] = Math.round(g / n);
        out[o + 2] = Math.round(b / n);
      }
    }
  }
  return { width, height, data: out, mpp: levelMpp * f };
}

/** Otsu's threshold of a 256-bin histogram: the bin t maximising the between-class variance of [0, t] and (t, 255]. */
export function otsuThreshold(histogram: ArrayLike<number>): number {
  let total = 0;
  let sum = 0;
  for (let i = 0; i < 256; i++) {
    total += histogram[i]!;
    sum += i * histogram[i]!;
  }
  let best = 0;
  let bestVariance = -1;
  let w0 = 0;
  let sum0 = 0;
  for (let t = 0; t < 255; t++) {
    w0 += histogram[t]!;
    sum0 += t * histogram[t]!;
    const w1 = total - w0;
    if (w0 === 0 || w1 === 0) continue;
    const d = sum0 / w0 - (sum - sum0) / w1;
    const variance = w0 * w1 * d * d;
    if (variance > bestVariance) {
      bestVariance = variance;
      best = t;
    }
  }
  return best;
}

/**
 * Morphological closing by a disc of radius r pixels: dilation then erosion, on the mask padded with r + 1 pixels
 * of glass, so that tissue near the border is closed exactly as elsewhere (without the padding, a dilation cut off
 * by the border survives the erosion as a block of false tissue along it).
 */
export function closeByDisc(mask: Uint8Array, width: number, height: number, r: number): Uint8Array {
  const p = r + 1;
  const pw = width + 2 * p;
  const ph = height + 2 * p;
  const padded = new Uint8Array(pw * ph);
  for (let y = 0; y < height; y++) padded.set(mask.subarray(y * width, (y + 1) * width), (y + p) * pw + p);
  const r2 = r * r;
  const toTissue = squaredDistanceTransform({ data: padded, width: pw, height: ph });
  // The glass left by the dilation: every pixel farther than r from tissue.
  const glass = new Uint8Array(pw * ph);
  for (let i = 0; i < glass.length; i++) glass[i] = toTissue[i]! > r2 ? 1 : 0;
  const toGlass = squaredDistanceTransform({ data: glass, width: pw, height: ph });
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) out[y * width + x] = toGlass[(y + p) * pw + x + p]! > r2 ? 1 : 0;
  }
  return out;
}

/**
 * Labels the connected regions of pixels equal to `value` (4-connected for glass, so that diagonal gaps
 * between tissue do not join holes to the outside; 8-connected for tissue) and calls `visit` with each
 * region's pixel list and whether it touches the image border.
 */
function forEachRegion(
  mask: Uint8Array,
  width: number,
  height: number,
  value: number,
  eight: boolean,
  visit: (pixels: Int32Array, count: number, touchesBorder: boolean) => void,
): void {
  const seen = new Uint8Array(mask.length);
  const stack = new Int32Array(mask.length);
  const pixels = new Int32Array(mask.length); // the current region's pixels, reused region after region
  const steps = eight ? [-1, 1, -width, width, -width - 1, -width + 1, width - 1, width + 1] : [-1, 1, -width, width];
  for (let start = 0; start < mask.length; start++) {
    if (seen[start] || mask[start] !== value) continue;
    let count = 0;
    let top = 0;
    let border = false;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      const p = stack[--top]!;
      pixels[count++] = p;
      const x = p % width;
      const y = (p - x) / width;
      if (x === 0 || y === 0 || x === width - 1 || y === height - 1) border = true;
      for (const d of steps) {
        const q = p + d;
        const qx = q % width;
        if (q < 0 || q >= mask.length || Math.abs(qx - x) > 1 || seen[q] || mask[q] !== value) continue;
        seen[q] = 1;
        stack[top++] = q;
      }
    }
    visit(pixels, count, border);
  }
}

/** HSV saturation of one colour (any scale): (max - min) / max, 0 for black. */
export function hsvSaturation(r: number, g: number, b: number): number {
  const max = Math.max(r, g, b);
  return max === 0 ? 0 : (max - Math.min(r, g, b)) / max;
}

/** A 3x3 box mean, over the pixels inside the image at its edges (against stain noise). */
export function boxBlur3(values: Float32Array, width: number, height: number): Float32Array {
  const blurred = new Float32Array(values.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      let k = 0;
      for (let yy = Math.max(0, y - 1); yy <= Math.min(height - 1, y + 1); yy++) {
        for (let xx = Math.max(0, x - 1); xx <= Math.min(width - 1, x + 1); xx++) {
          s += values[yy * width + xx]!;
          k++;
        }
      }
      blurred[y * width + x] = s / k;
    }
  }
  return blurred;
}

/** The tissue mask of an RGB view: saturation, blur, Otsu (floored), closing, holes filled, specks removed. */
export function detectTissue(image: RgbImage, options: TissueOptions = {}): TissueMask {
  const o = { ...TISSUE_DEFAULTS, ...options };
  const { width, height, data, mpp } = image;
  const n = width * height;
  const saturation = new Float32Array(n);
  for (let i = 0; i < n; i++) saturation[i] = hsvSaturation(data[3 * i]!, data[3 * i + 1]!, data[3 * i + 2]!);
  const blurred = boxBlur3(saturation, width, height);
  const histogram = new Float64Array(256);
  for (let i = 0; i < n; i++) histogram[Math.min(255, Math.round(blurred[i]! * 255))]!++;
  const threshold = Math.max((otsuThreshold(histogram) + 0.5) / 255, o.minSaturation);
  let mask: Uint8Array = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = blurred[i]! > threshold ? 1 : 0;
  const r = Math.round(o.closing / mpp);
  if (r > 0) mask = closeByDisc(mask, width, height, r);
  const pixelArea = mpp * mpp;
  forEachRegion(mask, width, height, 0, false, (pixels, count, border) => {
    if (!border && count * pixelArea <= o.maxHoleArea) for (let i = 0; i < count; i++) mask[pixels[i]!] = 1;
  });
  forEachRegion(mask, width, height, 1, true, (pixels, count) => {
    if (count * pixelArea < o.minTissueArea) for (let i = 0; i < count; i++) mask[pixels[i]!] = 0;
  });
  let tissue = 0;
  for (let i = 0; i < n; i++) tissue += mask[i]!;
  return { width, height, mpp, data: mask, threshold, area: tissue * pixelArea };
}

/** Tissue detection on the slide's thumbnail at options.mpp (default 16 um/px). */
export function slideTissueMask(slide: OpenSlide, slideMpp: number, options: TissueOptions = {}): TissueMask {
  return detectTissue(readThumbnail(slide, slideMpp, options.mpp ?? TISSUE_DEFAULTS.mpp), options);
}

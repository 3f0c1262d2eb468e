// Reads any window of the grid (the slide at the network's pixel size, see mpp.ts) as float RGB in [0, 1].
// Every output pixel is computed from its own global position only (separable area or bilinear weights over
// the level's pixels), never from where a window starts, so overlapping tiles agree exactly where they
// overlap, which the seam-free blending relies on. Glass beyond the slide's edge (OpenSlide returns it
// transparent) is composited onto white, as glass looks.
import type { ReadPlan } from './mpp.js';
import type { OpenSlide } from './openslide.js';

/** For each of n output pixels, K taps: source indices relative to `first`, and their weights. */
interface Taps {
  first: number;
  span: number;
  k: number;
  index: Int32Array;
  weight: Float32Array;
}

/**
 * Taps along one axis for output pixels g0 .. g0 + n - 1 at `scale` source pixels per output pixel: 'area'
 * weights each source pixel by how much of it the output pixel covers; 'bilinear' follows PyTorch's
 * align_corners=False (positions before the first pixel clamp to it; past the last, the slide's white edge).
 */
export function axisTaps(g0: number, n: number, scale: number, mode: 'none' | 'area' | 'bilinear'): Taps {
  if (mode === 'none') {
    const index = Int32Array.from({ length: n }, (_, i) => i);
    return { first: g0, span: n, k: 1, index, weight: new Float32Array(n).fill(1) };
  }
  if (mode === 'area') {
    const k = Math.ceil(scale) + 1;
    const first = Math.floor(g0 * scale);
    const index = new Int32Array(n * k);
    const weight = new Float32Array(n * k);
    let last = first;
    for (let i = 0; i < n; i++) {
      const a = (g0 + i) * scale;
      const b = a + scale;
      for (let q = Math.floor(a), t = 0; q < b && t < k; q++, t++) {
        index[i * k + t] = q - first;
        weight[i * k + t] = (Math.min(q + 1, b) - Math.max(q, a)) / scale;
        last = Math.max(last, q);
      }
    }
    return { first, span: last - first + 1, k, index, weight };
  }
  const pos = (i: number) => Math.max(0, (g0 + i + 0.5) * scale - 0.5);
  const first = Math.floor(pos(0));
  const end = Math.floor(pos(n - 1)) + 1;
  const index = new Int32Array(n * 2);
  const weight = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const p = pos(i);
    const q = Math.floor(p);
    const f = p - q;
    index[2 * i] = q - first;
    index[2 * i + 1] = q + 1 - first;
    weight[2 * i] = 1 - f;
    weight[2 * i + 1] = f;
  }
  return { first, span: end - first + 1, k: 2, index, weight };
}

/** RGBA (straight alpha) composited onto white, as float RGB planes in [0, 1]: [3, h, w]. */
function rgbaOnWhite(rgba: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    const a = rgba[4 * i + 3]! / 255;
    const white = 1 - a;
    for (let c = 0; c < 3; c++) out[c * n + i] = (rgba[4 * i + c]! / 255) * a + white;
  }
  return out;
}

/**
 * The grid window [gx, gx + w) x [gy, gy + h) as float RGB planes [3, h, w] in [0, 1]. Windows may reach
 * past the slide; what lies beyond is white.
 */
export function readGridWindow(slide: OpenSlide, plan: ReadPlan, gx: number, gy: number, w: number, h: number): Float32Array {
  const tx = axisTaps(gx, w, plan.scale, plan.resample);
  const ty = axisTaps(gy, h, plan.scale, plan.resample);
  // OpenSlide takes level-0 positions in whole pixels: with an inexact downsample (Aperio's 4.0002) a window
  // may start up to half a level-0 pixel off its true place, a sub-pixel shift OpenSlide interpolates.
  const ds = plan.readDownsample;
  const src = rgbaOnWhite(
    slide.readRegion(Math.round(tx.first * ds), Math.round(ty.first * ds), plan.level, tx.span, ty.span),
    tx.span * ty.span,
  );
  return plan.resample === 'none' ? src : applyTaps(src, tx, ty, w, h);
}

/**
 * An image held whole (float RGB planes [3, height, width] in [0, 1]) at the plan's grid size (the plan of
 * `chooseLevel` for its one level): every grid pixel from its global position, as readGridWindow gives it.
 */
export function resampleImage(planes: Float32Array, width: number, height: number, plan: ReadPlan): Float32Array {
  if (plan.resample === 'none') return planes;
  const tx = axisTaps(0, plan.width, plan.scale, plan.resample);
  const ty = axisTaps(0, plan.height, plan.scale, plan.resample);
  // The taps may reach a pixel past the image (the grid's size is rounded): white there, as glass beyond a slide.
  const src = new Float32Array(3 * ty.span * tx.span).fill(1);
  const [cols, rows] = [Math.min(tx.span, width), Math.min(ty.span, height)];
  for (let c = 0; c < 3; c++)
    for (let r = 0; r < rows; r++)
      src.set(planes.subarray((c * height + r) * width, (c * height + r) * width + cols), (c * ty.span + r) * tx.span);
  return applyTaps(src, tx, ty, plan.width, plan.height);
}

/** Float RGB planes [3, ty.span, tx.span] weighted by the taps into [3, h, w]. */
function applyTaps(src: Float32Array, tx: Taps, ty: Taps, w: number, h: number): Float32Array {
  // Along x for every source row, then along y.
  const across = new Float32Array(3 * ty.span * w);
  for (let c = 0; c < 3; c++) {
    for (let r = 0; r < ty.span; r++) {
      const row = (c * ty.span + r) * tx.span;
      const out = (c * ty.span + r) * w;
      for (let i = 0; i < w; i++) {
        let v = 0;
        for (let t = 0; t < tx.k; t++) v += tx.weight[i * tx.k + t]! * src[row + tx.index[i * tx.k + t]!]!;
        across[out + i] = v;
      }
    }
  }
  const out = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) {
    for (let j = 0; j < h; j++) {
      const o = (c * h + j) * w;
      for (let t = 0; t < ty.k; t++) {
        const wt = ty.weight[j * ty.k + t]!;
        if (wt === 0) continue;
        const row = (c * ty.span + ty.index[j * ty.k + t]!) * w;
        for (let i = 0; i < w; i++) out[o + i] = out[o + i]! + wt * across[row + i]!;
      }
    }
  }
  return out;
}

// Exact Euclidean distances on binary masks: the distance transform, mask boundaries, the maximum
// Hausdorff distance the reference reports as "hd95", and the true 95th-percentile surface distance.

/** A binary mask, row-major: data[y * width + x] is 1 inside, 0 outside. */
export interface Mask {
  data: Uint8Array;
  height: number;
  width: number;
}

/** Working arrays of the 1-D pass: the envelope's sites, their f values, and the breakpoints between them. */
interface EnvelopeScratch {
  sites: Int32Array;
  values: Float64Array;
  bounds: Float64Array;
}

/**
 * Lower envelope of the parabolas (x - q)^2 + f[q] over the sites q with a finite f (Felzenszwalb &
 * Huttenlocher, "Distance transforms of sampled functions", 2012), for the n values f = buf[at..at+n),
 * written back in place. Every f is an integer and every output is computed as (x - q)^2 + f[q], so
 * the result is exact; the float breakpoints only decide between parabolas that tie.
 */
function envelope1d(buf: Float64Array, at: number, n: number, scratch: EnvelopeScratch): void {
  const { sites, values, bounds } = scratch;
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = buf[at + q]!;
    if (fq === Number.POSITIVE_INFINITY) continue;
    let s = Number.NEGATIVE_INFINITY;
    while (k >= 0) {
      const p = sites[k]!;
      s = (fq + q * q - (values[k]! + p * p)) / (2 * (q - p));
      if (s > bounds[k]!) break;
      k--;
    }
    k++;
    sites[k] = q;
    values[k] = fq;
    bounds[k] = k === 0 ? Number.NEGATIVE_INFINITY : s;
    bounds[k + 1] = Number.POSITIVE_INFINITY;
  }
  if (k < 0) return; // no site on this line: every value stays infinite
  let j = 0;
  for (let x = 0; x < n; x++) {
    while (bounds[j + 1]! < x) j++;
    const d = x - sites[j]!;
    buf[at + x] = d * d + values[j]!;
  }
}

/** Edge of the square tiles of `transpose`: 16 x 16 float64 = 2 KiB stays in L1 cache. */
const TILE = 16;

/**
 * dst (cols x rows) = src (rows x cols) transposed, tile by tile: a plain column-order copy of a
 * 512-wide image hits the same cache sets on every row and costs more than the transform itself.
 */
function transpose(src: Float64Array, dst: Float64Array, rows: number, cols: number): void {
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(r0 + TILE, rows);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(c0 + TILE, cols);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) dst[c * rows + r] = src[r * cols + c]!;
    }
  }
}

/**
 * Squared Euclidean distance from every pixel to the nearest pixel of `sites` (0 on a site), exact
 * (integers held in float64); +Infinity everywhere when `sites` is empty. O(height * width): a 1-D
 * pass along the rows, then one along the columns (done as rows of the transposed image).
 */
export function squaredDistanceTransform(sites: Mask): Float64Array {
  const { data, height: h, width: w } = sites;
  const dist = new Float64Array(h * w);
  for (let i = 0; i < dist.length; i++) dist[i] = data[i] ? 0 : Number.POSITIVE_INFINITY;
  const n = Math.max(h, w);
  const scratch = { sites: new Int32Array(n), values: new Float64Array(n), bounds: new Float64Array(n + 1) };
  for (let y = 0; y < h; y++) envelope1d(dist, y * w, w, scratch);
  const columns = new Float64Array(h * w);
  transpose(dist, columns, h, w);
  for (let x = 0; x < w; x++) envelope1d(columns, x * h, h, scratch);
  transpose(columns, dist, w, h);
  return dist;
}

/**
 * The inner boundary: mask pixels with a 4-neighbour outside the mask or outside the image. This is
 * medpy's `mask ^ binary_erosion(mask)` with the connectivity-1 cross and scipy's border_value 0.
 */
export function boundary(mask: Mask): Mask {
  const { data, height: h, width: w } = mask;
  const out = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!data[i]) continue;
      const interior = y > 0 && y < h - 1 && x > 0 && x < w - 1 && data[i - w] && data[i + w] && data[i - 1] && data[i + 1];
      if (!interior) out[i] = 1;
    }
  }
  return { data: out, height: h, width: w };
}

function count(mask: Mask): number {
  const data = mask.data;
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i]) n++;
  return n;
}

function sameSize(a: Mask, b: Mask): void {
  if (a.height !== b.height || a.width !== b.width || a.data.length !== a.height * a.width || b.data.length !== b.height * b.width) {
    throw new RangeError(`masks of ${a.height}x${a.width} and ${b.height}x${b.width} pixels cannot be compared`);
  }
}

/** Largest squared distance from a pixel of `from` to the set whose distance transform is `toDist`. */
function maxSquaredDistance(from: Mask, toDist: Float64Array): number {
  let m = 0;
  for (let i = 0; i < from.data.length; i++) if (from.data[i] && toDist[i]! > m) m = toDist[i]!;
  return m;
}

/**
 * The symmetric (maximum) Hausdorff distance between the pixel sets a and b, in pixels: the larger of
 * max_{p in a} d(p, b) and max_{p in b} d(p, a) over all set pixels, as skimage.metrics.hausdorff_distance
 * computes it (same sqrt of the same integer, so the same double). 0 when both are empty, +Infinity
 * when exactly one is.
 */
export function hausdorffDistance(a: Mask, b: Mask): number {
  sameSize(a, b);
  const na = count(a);
  const nb = count(b);
  if (na === 0 || nb === 0) return na === nb ? 0 : Number.POSITIVE_INFINITY;
  const squared = Math.max(maxSquaredDistance(a, squaredDistanceTransform(b)), maxSquaredDistance(b, squaredDistanceTransform(a)));
  return Math.sqrt(squared);
}

/**
 * The q-th percentile of `values` (sorted in place) by numpy's default 'linear' method, including its
 * interpolation form (b - (b - a)(1 - t) when t >= 0.5), so the result is numpy's to the last bit.
 */
export function percentile(values: Float64Array, q: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  values.sort();
  const position = (values.length - 1) * (q / 100);
  const below = Math.floor(position);
  const above = Math.min(below + 1, values.length - 1);
  const t = position - below;
  const a = values[below]!;
  const b = values[above]!;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * The true HD95 of two masks, in pixels, as medpy.metric.binary.hd95 defines it: take the inner
 * boundary of each mask (see `boundary`); for every boundary pixel of a, its Euclidean distance to
 * the nearest boundary pixel of b, and for every boundary pixel of b, its distance to the nearest
 * boundary pixel of a; pool the two lists (the union of both directed surface distances) and return
 * numpy's 95th percentile of the pool. (MONAI's HausdorffDistanceMetric(percentile=95) takes the
 * larger of the two directed 95th percentiles instead, which can be larger.) 0 when both masks are
 * empty, NaN when exactly one is (medpy raises there).
 */
export function hd95(a: Mask, b: Mask): number {
  sameSize(a, b);
  const edgeA = boundary(a);
  const edgeB = boundary(b);
  const na = count(edgeA);
  const nb = count(edgeB);
  if (na === 0 || nb === 0) return na === nb ? 0 : Number.NaN;
  const toA = squaredDistanceTransform(edgeA);
  const toB = squaredDistanceTransform(edgeB);
  const pooled = new Float64Array(na + nb);
  let k = 0;
  for (let i = 0; i < edgeA.data.length; i++) {
    if (edgeA.data[i]) pooled[k++] = Math.sqrt(toB[i]!);
    if (edgeB.data[i]) pooled[k++] = Math.sqrt(toA[i]!);
  }
  return percentile(pooled, 95);
}

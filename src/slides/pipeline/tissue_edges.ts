// The tissue bit of the label map at its own resolution. The tissue mask (tissue.ts) is ~16 um per pixel: used
// as it is, its edge would cut the classes along the section border into 16 um steps and miss the tissue
// between them. So the mask decides only away from its edge; within `edgeBand` um of it (either side) a
// pixel is tissue where the slide's own pixels on the label grid say so: HSV saturation, the same 3x3 blur,
// above the mask's Otsu threshold, then a closing by `edgeClosing` um that joins the pale tissue between
// stained parts (pixels of the mask's interior count as stained, so the closing bridges towards it).
// Beyond the band the mask misses tissue too: a villus cut off from the section is a speck at 16 um per pixel.
// So once the network has run, the same stain rule also decides the mask's glass wherever the network sees a
// class: a villus the network sees is stained (a pale capillary lumen in it closed over), while the network's
// spill onto glass, a few pixels past every edge, is not. Neither witness alone adds tissue: a stained speck
// where the network sees nothing, or a class on unstained glass, stays glass.
//
// Rows are computed band by band from a window of the slide reaching 2 x closing + 1 pixels past them (all a
// closing and the blur depend on), and only over the columns where the band is: the result does not depend on
// how the rows are split, and a resumed run recomputes exactly what it lost. One pass before segmentation
// finds the tiles that hold tissue and keeps the band's pixels (O(edge length x band), not O(area)); the label
// rows then come from the mask and that.
import type { TileGrid } from './tiling.js';
import { boxBlur3, closeByDisc, hsvSaturation, type TissueMask } from './tissue.js';

export interface TissueEdgeGrid {
  /** The label map's size and pixel size. */
  width: number;
  height: number;
  mpp: number;
  /** For each label column (row), the mask column (row) under its centre. */
  columns: Int32Array;
  rows: Int32Array;
  /** The label grid's window [x, x + w) x [y, y + h) as float RGB planes [3, h, w] in [0, 1]. */
  read: (x: number, y: number, w: number, h: number) => Float32Array;
}

/** For each of n label columns (or rows) from grid pixel g0, the mask column (row) under its centre. */
export function maskIndex(n: number, g0: number, gridDownsample: number, maskDownsample: number, limit: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => Math.min(limit - 1, Math.floor(((g0 + i + 0.5) * gridDownsample) / maskDownsample)));
}

/** Min and max of `lo` and `hi` over 2k + 1 pixels along x (or y), clipped to the image. */
function minMaxAlong(lo: Uint8Array, hi: Uint8Array, w: number, h: number, k: number, alongX: boolean): [Uint8Array, Uint8Array] {
  const [outLo, outHi] = [new Uint8Array(lo.length), new Uint8Array(hi.length)];
  const [n, step] = alongX ? [w, 1] : [h, w];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const at = alongX ? x : y;
      let a = 1;
      let b = 0;
      for (let q = Math.max(0, at - k); q <= Math.min(n - 1, at + k); q++) {
        const i = y * w + x + (q - at) * step;
        a &= lo[i]!;
        b |= hi[i]!;
      }
      outLo[y * w + x] = a;
      outHi[y * w + x] = b;
    }
  }
  return [outLo, outHi];
}

/** Mask pixels within `k` mask pixels (a (2k + 1)^2 square, clipped to the mask) of a pixel of the other value. */
function edgeBandOf(mask: TissueMask, k: number): Uint8Array {
  const { width: w, height: h, data } = mask;
  const [rowLo, rowHi] = minMaxAlong(data, data, w, h, k, true);
  const [lo, hi] = minMaxAlong(rowLo, rowHi, w, h, k, false);
  return Uint8Array.from(lo, (a, i) => (a === hi[i] ? 0 : 1));
}

/** Rows per band of tilesWithTissue's pass: taller bands pay less reach, but their windows span wider runs. */
const PASS_ROWS = 256;

/** The refined band pixels of one pass band [from, to), row-major; row y's start at offsets[y - from]. */
interface CachedBand {
  from: number;
  offsets: Int32Array;
  tissue: Uint8Array;
}

export class TissueEdges {
  readonly #mask: TissueMask;
  readonly #grid: TissueEdgeGrid;
  /** Edge band at mask resolution; undefined when refinement is off. */
  readonly #band: Uint8Array | undefined;
  /** Closing radius in label pixels, and how far past its rows a window reaches. */
  readonly #radius: number;
  readonly #reach: number;
  /** The band pixels tilesWithTissue computed, so that rows() need not compute them again: O(edge length). */
  #cache: CachedBand[] | undefined;

  constructor(mask: TissueMask, grid: TissueEdgeGrid, o: { edgeBand: number; edgeClosing: number }) {
    this.#mask = mask;
    this.#grid = grid;
    const k = Math.max(0, Math.round(o.edgeBand / mask.mpp));
    this.#band = k > 0 ? edgeBandOf(mask, k) : undefined;
    this.#radius = Math.max(0, Math.round(o.edgeClosing / grid.mpp));
    this.#reach = 2 * this.#radius + 1;
  }

  /** Whether label pixel (x, y) is in the edge band (false when refinement is off). */
  #inBand(x: number, y: number): boolean {
    return this.#band !== undefined && this.#band[this.#grid.rows[y]! * this.#mask.width + this.#grid.columns[x]!] === 1;
  }

  #coarse(x: number, y: number): number {
    return this.#mask.data[this.#grid.rows[y]! * this.#mask.width + this.#grid.columns[x]!]!;
  }

  /**
   * Tissue (1) or glass (0) for label rows [from, to): (to - from) x width bytes. `classes`, the network's class
   * bits of these rows (row-major, width per row), lets the slide's pixels decide, as in the band, wherever the
   * network sees a class beyond the band on the mask's glass: tissue the mask missed (a villus cut off from the
   * section, too small for the 16 um view) is stained there, where the network's spill onto glass is not.
   * With refinement off (edgeBand 0) the mask alone decides.
   */
  rows(from: number, to: number, classes?: Uint8Array): Uint8Array {
    const out = this.#cache === undefined ? this.#compute(from, to) : this.#cachedRows(from, to);
    if (classes === undefined || this.#band === undefined) return out;
    const W = this.#grid.width;
    const seen = (x: number, y: number) => out[(y - from) * W + x] === 0 && classes[(y - from) * W + x] !== 0 && !this.#inBand(x, y);
    const any = new Uint8Array(W);
    for (let y = from; y < to; y++) for (let x = 0; x < W; x++) any[x]! |= seen(x, y) ? 1 : 0;
    this.#refine(from, to, this.#runs(any), seen, out);
    return out;
  }

  /** Rows [from, to) from the mask and the band pixels tilesWithTissue kept. */
  #cachedRows(from: number, to: number): Uint8Array {
    const W = this.#grid.width;
    const out = this.#coarseRows(from, to);
    for (let y = from; y < to; y++) {
      const band = this.#cache![Math.floor(y / PASS_ROWS)]!;
      let at = band.offsets[y - band.from]!;
      for (let x = 0; x < W; x++) if (this.#inBand(x, y)) out[(y - from) * W + x] = band.tissue[at++]!;
    }
    return out;
  }

  /** The mask's answer for label rows [from, to). */
  #coarseRows(from: number, to: number): Uint8Array {
    const W = this.#grid.width;
    const out = new Uint8Array((to - from) * W);
    const { columns, rows } = this.#grid;
    for (let y = from; y < to; y++) {
      const o = (y - from) * W;
      // Label rows over one mask row are alike: copy the previous.
      if (y > from && rows[y] === rows[y - 1]) out.copyWithin(o, o - W, o);
      else {
        const maskRow = this.#mask.data.subarray(rows[y]! * this.#mask.width);
        for (let x = 0; x < W; x++) out[o + x] = maskRow[columns[x]!]!;
      }
    }
    return out;
  }

  /** Rows [from, to) computed: the mask's, and the band's from a window of the slide. */
  #compute(from: number, to: number): Uint8Array {
    const out = this.#coarseRows(from, to);
    this.#refine(from, to, this.#bandRuns(from, to), (x, y) => this.#inBand(x, y), out);
    return out;
  }

  /** Sets the pixels `pick` selects in rows [from, to) of `out`, within the column runs, to the refined tissue. */
  #refine(from: number, to: number, runs: [number, number][], pick: (x: number, y: number) => boolean, out: Uint8Array): void {
    const { width: W, height: H } = this.#grid;
    for (const [xa, xb] of runs) {
      // The window: the run's columns and the rows, with the reach of the closing and blur around them.
      const [x0, x1] = [Math.max(0, xa - this.#reach), Math.min(W, xb + this.#reach)];
      const [y0, y1] = [Math.max(0, from - this.#reach), Math.min(H, to + this.#reach)];
      const tissue = this.#window(x0, y0, x1 - x0, y1 - y0);
      for (let y = from; y < to; y++) {
        for (let x = xa; x < xb; x++) if (pick(x, y)) out[(y - from) * W + x] = tissue[(y - y0) * (x1 - x0) + x - x0]!;
      }
    }
  }

  /**
   * For each tile row of `grid` (the label map's), the tiles with a tissue pixel: the rows computed once, a band
   * at a time, each row's tissue counted per tile through its prefix sums. The band pixels are kept for rows().
   */
  tilesWithTissue(grid: TileGrid): number[][] {
    const { tile: t, xs, ys, width: W, height: H } = grid;
    const hit = ys.map(() => new Uint8Array(xs.length));
    const prefix = new Int32Array(W + 1);
    const cache: CachedBand[] = [];
    // The first tile row that can still hold row y (tile rows are in order, and y only grows).
    let first = 0;
    for (let from = 0; from < H; from += PASS_ROWS) {
      const to = Math.min(H, from + PASS_ROWS);
      const tissue = this.#compute(from, to);
      const offsets = new Int32Array(to - from);
      const kept: number[] = [];
      for (let y = from; y < to; y++) {
        offsets[y - from] = kept.length;
        for (let x = 0; x < W; x++) if (this.#inBand(x, y)) kept.push(tissue[(y - from) * W + x]!);
      }
      cache.push({ from, offsets, tissue: Uint8Array.from(kept) });
      for (let y = from; y < to; y++) {
        for (let x = 0; x < W; x++) prefix[x + 1] = prefix[x]! + tissue[(y - from) * W + x]!;
        if (prefix[W] === 0) continue;
        while (ys[first]! + t <= y) first++;
        for (let k = first; k < ys.length && ys[k]! <= y; k++) {
          xs.forEach((x0, j) => {
            if (prefix[Math.min(W, x0 + t)]! > prefix[x0]!) hit[k]![j] = 1;
          });
        }
      }
    }
    this.#cache = cache;
    return hit.map((row) => [...row.keys()].filter((j) => row[j] === 1));
  }

  /** Column runs [xa, xb) holding band pixels in rows [from, to). */
  #bandRuns(from: number, to: number): [number, number][] {
    if (this.#band === undefined) return [];
    const { width: W, columns, rows } = this.#grid;
    const band = this.#band;
    const mw = this.#mask.width;
    const any = new Uint8Array(W);
    for (let y = from; y < to; y++) {
      if (y > from && rows[y] === rows[y - 1]) continue;
      for (let x = 0; x < W; x++) any[x]! |= band[rows[y]! * mw + columns[x]!]!;
    }
    return this.#runs(any);
  }

  /** The runs [xa, xb) of columns marked in `any`, merged where their windows would overlap. */
  #runs(any: Uint8Array): [number, number][] {
    const runs: [number, number][] = [];
    for (let x = 0; x < any.length; x++) {
      if (!any[x]) continue;
      const last = runs.at(-1);
      if (last !== undefined && x - last[1] <= 2 * this.#reach) last[1] = x + 1;
      else runs.push([x, x + 1]);
    }
    return runs;
  }

  /**
   * The refined tissue of one window (w x h label pixels at (x0, y0)): pixels by their colour, closed; the mask's
   * interior beyond the band counts as stained, so that the closing bridges towards it.
   */
  #window(x0: number, y0: number, w: number, h: number): Uint8Array {
    const rgb = this.#grid.read(x0, y0, w, h);
    const n = w * h;
    const saturation = new Float32Array(n);
    for (let i = 0; i < n; i++) saturation[i] = hsvSaturation(rgb[i]!, rgb[n + i]!, rgb[2 * n + i]!);
    const blurred = boxBlur3(saturation, w, h);
    const stained = new Uint8Array(n);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const interior = !this.#inBand(x0 + x, y0 + y) && this.#coarse(x0 + x, y0 + y) === 1;
        stained[i] = interior || blurred[i]! > this.#mask.threshold ? 1 : 0;
      }
    }
    return this.#radius > 0 ? closeByDisc(stained, w, h, this.#radius) : stained;
  }
}

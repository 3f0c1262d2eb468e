// Overlapping tiles and their seam-free blending, independent of any model or file.
//
// Tiles of t x t pixels sit on a regular grid with stride s = t - overlap (the last row and column reach past
// the image; the reader pads them with white). Each tile's probabilities are weighted by a separable window
// that is 0 in a `margin` at each inner edge (where a network lacks context), rises as a raised cosine over
// the rest of the overlap, and is 1 elsewhere; at the image's own edges it stays 1. Two neighbours' ramps are
// complementary (sin^2 + cos^2), so the weights of a full grid sum to exactly 1 and blending is a cross-fade
// with no seam; the stitcher still divides sum(w p) by sum(w), so tiles left out (no tissue) cost nothing but
// zeros. A model whose receptive field fits inside the margin gives, away from the image border, exactly
// what it gives on the whole image.
//
// Memory: tiles arrive row by row, left to right. The stitcher keeps a window one tile wide (a ring of t
// columns) and the bottom overlap strip of the previous tile row (`carry`, overlap rows x width), so
// floats held are O(overlap x width + t^2), not O(t x width); finished pixels leave as blocks of final
// probabilities as soon as no later tile can touch them.

export interface TileGrid {
  width: number;
  height: number;
  tile: number;
  overlap: number;
  margin: number;
  stride: number;
  /** Left edges of the tile columns and top edges of the tile rows. */
  xs: number[];
  ys: number[];
}

function positions(extent: number, tile: number, stride: number): number[] {
  const n = extent <= tile ? 1 : Math.ceil((extent - tile) / stride) + 1;
  return Array.from({ length: n }, (_, i) => i * stride);
}

export function tileGrid(width: number, height: number, tile: number, overlap: number, margin: number): TileGrid {
  const fail = (problem: string) => new Error(`tiling: ${problem}`);
  if (![width, height, tile, overlap, margin].every(Number.isInteger)) throw fail('sizes must be integers');
  if (width < 1 || height < 1 || tile < 1) throw fail(`image ${width} x ${height} and tile ${tile} must be positive`);
  if (overlap < 0 || 2 * overlap > tile) throw fail(`overlap ${overlap} must be between 0 and half the tile (${tile / 2})`);
  if (margin < 0 || (overlap > 0 && 2 * margin >= overlap))
    throw fail(`margin ${margin} must leave a ramp inside the overlap ${overlap} (2 x margin < overlap)`);
  const stride = tile - overlap;
  return { width, height, tile, overlap, margin, stride, xs: positions(width, tile, stride), ys: positions(height, tile, stride) };
}

/**
 * The 1-D weights of tile `index` of `count` along an axis: 0 in the margin, a raised-cosine ramp over the
 * remaining overlap (sin^2 of the pixel centre's position), 1 inside; no taper at the first and last tile's
 * outer edge, which is the image border.
 */
export function axisWeights(grid: TileGrid, index: number, count: number): Float32Array {
  const { tile: t, overlap: o, margin: m } = grid;
  const ramp = o - 2 * m;
  const up = (k: number) => (k < 0 ? 0 : k >= ramp ? 1 : Math.sin((Math.PI / 2) * ((k + 0.5) / ramp)) ** 2);
  const w = new Float32Array(t);
  for (let u = 0; u < t; u++) {
    const left = index === 0 || o === 0 ? 1 : up(u - m);
    const right = index === count - 1 || o === 0 ? 1 : up(t - 1 - m - u);
    w[u] = left * right;
  }
  return w;
}

/** Receives final probabilities: C planes of rows x cols (plane-major), the block's top-left at (x, y). */
export type FinalBlockSink = (x: number, y: number, cols: number, rows: number, probabilities: Float32Array) => void;

export class Stitcher {
  readonly grid: TileGrid;
  readonly channels: number;
  /** Per channel then weight: sum(w p) and sum(w) of the previous tile row's bottom overlap, [(C + 1), overlap, width]. */
  readonly carry: Float32Array;
  readonly #sink: FinalBlockSink;
  /** Per channel then weight: [(C + 1), t, t]; column x of the image lives in ring column x mod t. */
  readonly #window: Float32Array;
  readonly #block: Float32Array;
  readonly #weightsX: Float32Array[];
  #row = -1;
  #weightsY: Float32Array = new Float32Array(0);
  #entered = 0;
  #left = 0;
  #lastTile = -1;

  constructor(grid: TileGrid, channels: number, sink: FinalBlockSink) {
    this.grid = grid;
    this.channels = channels;
    this.#sink = sink;
    const t = grid.tile;
    this.carry = new Float32Array((channels + 1) * grid.overlap * grid.width);
    this.#window = new Float32Array((channels + 1) * t * t);
    this.#block = new Float32Array(channels * t * t);
    this.#weightsX = grid.xs.map((_, j) => axisWeights(grid, j, grid.xs.length));
  }

  /** Starts tile row k. The carry must hold row k - 1's bottom strip (zeros for row 0, or restored on resume). */
  startRow(k: number): void {
    if (this.#row !== -1) throw new Error(`Stitcher: row ${k} started before row ${this.#row} ended`);
    if (k < 0 || k >= this.grid.ys.length) throw new Error(`Stitcher: no tile row ${k}`);
    this.#row = k;
    this.#weightsY = axisWeights(this.grid, k, this.grid.ys.length);
    this.#entered = 0;
    this.#left = 0;
    this.#lastTile = -1;
  }

  /** Adds tile j of the current row: probabilities [C, t, t]. Tiles come in increasing j; skipped ones are simply not added. */
  addTile(j: number, probabilities: Float32Array): void {
    const { tile: t, xs, width, height } = this.grid;
    const C = this.channels;
    if (this.#row === -1) throw new Error('Stitcher: addTile() outside a row');
    if (j <= this.#lastTile || j >= xs.length)
      throw new Error(`Stitcher: tile ${j} out of order (after ${this.#lastTile} of ${xs.length})`);
    if (probabilities.length !== C * t * t)
      throw new Error(`Stitcher: tile ${j} holds ${probabilities.length} values, not ${C} x ${t} x ${t}`);
    this.#lastTile = j;
    const x0 = xs[j]!;
    this.#leave(x0);
    this.#enter(Math.min(width, x0 + t));
    const y0 = this.grid.ys[this.#row]!;
    const rows = Math.min(t, height - y0);
    const cols = Math.min(t, width - x0);
    const wx = this.#weightsX[j]!;
    const wy = this.#weightsY;
    const win = this.#window;
    // Ring columns of x0 .. x0 + cols - 1 are one run, or two when the ring wraps.
    const ring0 = x0 % t;
    const firstRun = Math.min(cols, t - ring0);
    for (let r = 0; r < rows; r++) {
      const wr = wy[r]!;
      if (wr === 0) continue;
      for (const [u0, u1, c0] of [
        [0, firstRun, ring0],
        [firstRun, cols, 0],
      ] as const) {
        const weightRow = (C * t + r) * t + c0 - u0;
        for (let u = u0; u < u1; u++) win[weightRow + u] = win[weightRow + u]! + wr * wx[u]!;
        for (let c = 0; c < C; c++) {
          const dst = (c * t + r) * t + c0 - u0;
          const src = (c * t + r) * t;
          for (let u = u0; u < u1; u++) win[dst + u] = win[dst + u]! + wr * wx[u]! * probabilities[src + u]!;
        }
      }
    }
  }

  /** Ends the row: every remaining column leaves; returns the image rows [from, to) it made final. */
  endRow(): { from: number; to: number } {
    if (this.#row === -1) throw new Error('Stitcher: endRow() outside a row');
    this.#leave(this.grid.width);
    const y0 = this.grid.ys[this.#row]!;
    const last = this.#row === this.grid.ys.length - 1;
    this.#row = -1;
    return { from: y0, to: Math.min(this.grid.height, y0 + (last ? this.grid.tile : this.grid.stride)) };
  }

  /** Columns [x0, x1) as runs [xa, xb) whose ring columns are contiguous (xa mod t onwards). */
  #runs(x0: number, x1: number): [number, number][] {
    const t = this.grid.tile;
    const runs: [number, number][] = [];
    for (let xa = x0; xa < x1; ) {
      const xb = Math.min(x1, xa + t - (xa % t));
      runs.push([xa, xb]);
      xa = xb;
    }
    return runs;
  }

  /** Columns [entered, xEnd) enter the window: their top overlap rows from the carry, the rest zero. */
  #enter(xEnd: number): void {
    const { tile: t, overlap: o, width } = this.grid;
    const win = this.#window;
    for (const [xa, xb] of this.#runs(this.#entered, xEnd)) {
      const shift = (xa % t) - xa; // ring column of x is x + shift within a run
      for (let p = 0; p <= this.channels; p++) {
        for (let r = 0; r < t; r++) {
          const row = (p * t + r) * t + shift;
          if (r < o) win.set(this.carry.subarray((p * o + r) * width + xa, (p * o + r) * width + xb), row + xa);
          else win.fill(0, row + xa, row + xb);
        }
      }
    }
    this.#entered = Math.max(this.#entered, xEnd);
  }

  /**
   * Columns [left, xEnd) leave: rows above the next tile row are final and go to the sink (all rows, in the
   * last tile row); the bottom overlap rows move to the carry for the next tile row.
   */
  #leave(xEnd: number): void {
    const { tile: t, overlap: o, stride, width, height } = this.grid;
    const C = this.channels;
    const win = this.#window;
    const y0 = this.grid.ys[this.#row]!;
    const last = this.#row === this.grid.ys.length - 1;
    const finalRows = Math.max(0, Math.min(last ? t : stride, height - y0));
    while (this.#left < xEnd) {
      // At most t columns at a time, so that entering them never overruns the ring.
      const x0 = this.#left;
      const x1 = Math.min(xEnd, x0 + t);
      this.#enter(x1);
      const cols = x1 - x0;
      const block = this.#block;
      for (const [xa, xb] of this.#runs(x0, x1)) {
        const shift = (xa % t) - xa;
        for (let r = 0; r < finalRows; r++) {
          const weightRow = (C * t + r) * t + shift;
          for (let c = 0; c < C; c++) {
            const src = (c * t + r) * t + shift;
            const dst = (c * finalRows + r) * cols - x0;
            for (let x = xa; x < xb; x++) {
              const weight = win[weightRow + x]!;
              block[dst + x] = weight > 0 ? win[src + x]! / weight : 0;
            }
          }
        }
        if (!last) {
          for (let p = 0; p <= C; p++) {
            for (let r = 0; r < o; r++) {
              const src = (p * t + stride + r) * t + shift;
              this.carry.set(win.subarray(src + xa, src + xb), (p * o + r) * width + xa);
            }
          }
        }
      }
      if (finalRows > 0) this.#sink(x0, y0, cols, finalRows, block.subarray(0, C * finalRows * cols));
      this.#left = x1;
    }
  }
}

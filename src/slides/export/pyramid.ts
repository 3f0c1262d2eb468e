// Streaming image pyramids, the one implementation behind the pyramidal TIFF writer and the DeepZoom views.
// Level 0 arrives band by band (`bandRows` rows, the last band shorter). Each band is handed to the caller,
// then halved into the next level's partial band, which is handed on in turn when full or complete, and so
// on down. Memory is one band per level, never the image.

export interface LevelSize {
  width: number;
  height: number;
}

/**
 * The size of every level, largest first: halving (rounding up) until a level fits in `fit` x `fit` pixels.
 * `exact` also stops before a level that would round (a side of the level above is odd), so that every level is
 * exactly level 0 over 2^k on both sides: OpenSlide takes a level's downsample as the mean of w0 / w and h0 / h,
 * and reads a level whose downsample is not that whole number at fractional positions, resampled bilinearly.
 */
export function pyramidLevels(width: number, height: number, fit: number, exact = false): LevelSize[] {
  const levels = [{ width, height }];
  for (let last = levels[0]!; last.width > fit || last.height > fit; last = levels[levels.length - 1]!) {
    if (exact && (last.width % 2 !== 0 || last.height % 2 !== 0)) break;
    levels.push({ width: Math.ceil(last.width / 2), height: Math.ceil(last.height / 2) });
  }
  return levels;
}

/**
 * The levels of `pyramidLevels(width, height, fit)` (halving, rounding up, until a level fits), each padded on the
 * right and bottom to the last level's size times 2^(levels below it): level 0 becomes a multiple of 2^k, and every
 * level exactly level 0 over 2^j, so OpenSlide's downsamples are whole numbers all the way down.
 */
export function paddedPyramidLevels(width: number, height: number, fit: number): LevelSize[] {
  const levels = pyramidLevels(width, height, fit);
  const last = levels[levels.length - 1]!;
  return levels.map((_, j) => {
    const scale = 2 ** (levels.length - 1 - j);
    return { width: last.width * scale, height: last.height * scale };
  });
}

export interface BandPyramidOptions {
  width: number;
  height: number;
  /** Samples per pixel, interleaved. */
  channels: number;
  /** Rows of a full band at every level. */
  bandRows: number;
  /** The smallest level fits in fit x fit pixels, unless `exact` stops the pyramid sooner. */
  fit: number;
  /** Only levels that are level 0 over an exact power of two (pyramidLevels' `exact`); default false. */
  exact?: boolean;
  /** How a level shrinks: the rounded mean of each 2x2 block, or its mode (one channel only: label maps). */
  downsample: 'mean' | 'mode';
}

/**
 * Called with each band of each level, top to bottom within a level: `rows` rows of `levels[level].width`
 * pixels starting at row `firstRow`. `band` is reused once the call returns, so copy what must be kept.
 */
export type BandVisitor = (level: number, band: Uint8Array, rows: number, firstRow: number) => void;

interface Level extends LevelSize {
  band: Uint8Array; // [bandRows, width, channels]; empty for level 0, which is the caller's
  bandRows: number; // rows of `band` filled
  rowsDone: number; // rows of this level already handed over
}

export class BandPyramid {
  readonly levels: readonly LevelSize[];
  readonly #o: BandPyramidOptions;
  readonly #levels: Level[];

  constructor(o: BandPyramidOptions) {
    if (o.downsample === 'mode' && o.channels !== 1) throw new Error(`mode downsampling is for one channel (got ${o.channels})`);
    this.#o = o;
    this.levels = pyramidLevels(o.width, o.height, o.fit, o.exact);
    this.#levels = this.levels.map((l, i) => ({
      ...l,
      band: new Uint8Array(i === 0 ? 0 : o.bandRows * l.width * o.channels),
      bandRows: 0,
      rowsDone: 0,
    }));
  }

  /** Hands the next `rows` rows of level 0 (`band`), and every band of a smaller level they complete, to `visit`. */
  push(band: Uint8Array, rows: number, visit: BandVisitor): void {
    this.#flush(0, band, rows, visit);
  }

  #flush(index: number, src: Uint8Array, rows: number, visit: BandVisitor): void {
    const level = this.#levels[index]!;
    visit(index, src, rows, level.rowsDone);
    level.rowsDone += rows;
    const next = this.#levels[index + 1];
    if (next === undefined) return;
    this.#halve(level, src, rows, next);
    if (next.bandRows === this.#o.bandRows || next.rowsDone + next.bandRows === next.height) {
      const full = next.bandRows;
      next.bandRows = 0;
      this.#flush(index + 1, next.band, full, visit);
    }
  }

  /** Appends `src` (`rows` rows of `level`) at half size to `next`'s partial band. */
  #halve(level: Level, src: Uint8Array, rows: number, next: Level): void {
    const { channels, downsample } = this.#o;
    next.bandRows += halveRows(src, level.width, rows, channels, downsample, next.band, next.bandRows * next.width * channels);
  }
}

/**
 * Writes `rows` rows of a `width`-pixel image (`channels` interleaved) at half size into `out` from `outOffset`:
 * each pixel the 2x2 rounded mean, or the 2x2 mode (ties to the earliest, top-left first). At an odd right or
 * bottom edge the last column or row pairs with itself. Returns the rows written, ceil(rows / 2).
 */
export function halveRows(
  src: Uint8Array,
  width: number,
  rows: number,
  channels: number,
  downsample: 'mean' | 'mode',
  out: Uint8Array,
  outOffset = 0,
): number {
  const c = channels;
  const mode = downsample === 'mode';
  const outW = Math.ceil(width / 2);
  const outRows = Math.ceil(rows / 2);
  for (let y = 0; y < outRows; y++) {
    const r0 = 2 * y * width * c;
    const r1 = 2 * y + 1 < rows ? r0 + width * c : r0;
    const o = outOffset + y * outW * c;
    for (let x = 0; x < outW; x++) {
      const a = 2 * x * c;
      const b = 2 * x + 1 < width ? a + c : a;
      if (mode) {
        const p = src[r0 + a]!;
        const q = src[r0 + b]!;
        const r = src[r1 + a]!;
        const s = src[r1 + b]!;
        out[o + x] = p === q || p === r || p === s ? p : q === r || q === s ? q : r === s ? r : p;
      } else {
        for (let k = 0; k < c; k++) {
          out[o + x * c + k] = (src[r0 + a + k]! + src[r0 + b + k]! + src[r1 + a + k]! + src[r1 + b + k]! + 2) >> 2;
        }
      }
    }
  }
  return outRows;
}

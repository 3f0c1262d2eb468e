// One image held in memory (a photo, a patch, an export) segmented at its real scale, the way segment.ts
// segments a slide: resampled from its own pixel size to the network's (mpp.ts, resample.ts), cut into
// overlapping tiles of the network's input size (white past the image's edge) and blended seam-free
// (tiling.ts). An image smaller than one input is one tile; nothing is stretched to the input size.
import type { RgbImage } from '../../data/images.js';
import { checkUpsample, chooseLevel, type ReadPlan, type SlideMpp } from '../io/mpp.js';
import { resampleImage } from '../io/resample.js';
import { type Predictor, predictTiles } from './predictor.js';
import { Stitcher, tileGrid } from './tiling.js';

export interface ImageSegmentation {
  /** How the image maps onto the grid at the network's pixel size (its one "level" is the image). */
  plan: ReadPlan;
  /** The grid's size and the image at that size: float RGB planes [3, height, width] in [0, 1]. */
  width: number;
  height: number;
  image: Float32Array;
  /** Blended class probabilities on the grid, [C, height, width]. */
  probabilities: Float32Array;
  tiles: number;
}

export interface ImageSegmentOptions {
  /** Overlap of neighbouring tiles in grid pixels; default a quarter of the tile. */
  overlap?: number;
  /** Zero-weight margin at each inner tile edge; default a quarter of the overlap. */
  margin?: number;
  /** Tiles per model call; default 2. */
  batchSize?: number;
  /** Allow an image more than MAX_UPSAMPLE times coarser than the network's input (mpp.ts's checkUpsample). */
  allowUpsample?: boolean;
  /** The image's name in messages, and where its mpp came from ('override': the user's --mpp). */
  name?: string;
  mppSource?: SlideMpp['source'];
}

/** Float RGB planes [3, height, width] in [0, 1] of 8-bit interleaved RGB. */
function planesOf(img: RgbImage): Float32Array {
  const n = img.width * img.height;
  const planes = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) planes[c * n + i] = img.data[3 * i + c]! / 255;
  return planes;
}

/** The t x t window of [3, height, width] planes at (x0, y0), white past the edge, into `out` at `offset`. */
function cutTile(
  planes: Float32Array,
  width: number,
  height: number,
  x0: number,
  y0: number,
  t: number,
  out: Float32Array,
  offset: number,
) {
  out.fill(1, offset, offset + 3 * t * t);
  const [cols, rows] = [Math.min(t, width - x0), Math.min(t, height - y0)];
  for (let c = 0; c < 3; c++)
    for (let r = 0; r < rows; r++) {
      const src = (c * height + y0 + r) * width + x0;
      out.set(planes.subarray(src, src + cols), offset + (c * t + r) * t);
    }
}

/** Segments `img`, whose pixels are `mpp` microns, at the predictor's input_mpp. */
export async function segmentImage(
  img: RgbImage,
  mpp: number,
  predictor: Predictor,
  o: ImageSegmentOptions = {},
): Promise<ImageSegmentation> {
  checkUpsample(o.name ?? 'image', { mpp, source: o.mppSource ?? 'override' }, undefined, predictor.inputMpp, o.allowUpsample);
  const plan = chooseLevel([{ width: img.width, height: img.height, downsample: 1 }], mpp, predictor.inputMpp);
  const { width, height } = plan;
  const image = resampleImage(planesOf(img), img.width, img.height, plan);
  const t = predictor.tileSize;
  const C = predictor.classes.length;
  const overlap = o.overlap ?? Math.floor(t / 4);
  const grid = tileGrid(width, height, t, overlap, o.margin ?? Math.floor(overlap / 4));
  const batchSize = o.batchSize ?? 2;
  const probabilities = new Float32Array(C * width * height);
  const plane = width * height;
  const stitcher = new Stitcher(grid, C, (x, y, cols, rows, p) => {
    for (let c = 0; c < C; c++)
      for (let r = 0; r < rows; r++)
        probabilities.set(p.subarray((c * rows + r) * cols, (c * rows + r + 1) * cols), c * plane + (y + r) * width + x);
  });
  for (const [k, y0] of grid.ys.entries()) {
    stitcher.startRow(k);
    for (let b = 0; b < grid.xs.length; b += batchSize) {
      const js = grid.xs.slice(b, b + batchSize).map((_, i) => b + i);
      const input = new Float32Array(js.length * 3 * t * t);
      for (const [i, j] of js.entries()) cutTile(image, width, height, grid.xs[j]!, y0, t, input, i * 3 * t * t);
      const probs = await predictTiles(predictor, input, js.length);
      for (const [i, j] of js.entries()) stitcher.addTile(j, probs.subarray(i * C * t * t, (i + 1) * C * t * t));
    }
    stitcher.endRow();
  }
  return { plan, width, height, image, probabilities, tiles: grid.xs.length * grid.ys.length };
}

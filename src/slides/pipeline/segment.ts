// Whole-slide segmentation: slide -> tissue mask -> overlapping tiles at the model's pixel size -> blended
// probabilities -> a pyramidal label TIFF (and optionally one probability TIFF per class), band by band.
//
//   const predictor = loadPredictor({ model: 'student' });            // predictor.ts
//   const result = await segmentSlide('slide.svs', predictor, { out: 'out/labels.tif', probabilities: true });
//
// Outputs, at the grid's pixel size (result.mpp.used um/px; result.downsample level-0 pixels per output pixel,
// from level-0 pixel result.origin when a region was asked for), tiled pyramidal BigTIFFs as OpenSlide and
// libvips read them, mpp in their resolution tags (label_outputs.ts):
//   labelTiff          uint8 bit flags, the encoding of `mmfd synth-slide`'s labels: bit c (value 2^c) is set
//                      where class c's blended probability > threshold (classes overlap: a capillary inside a
//                      villus is 1 + 4) inside tissue (anywhere with tissue.clip false), bit 4 (16) where
//                      there is tissue: the mask, its edge decided at the label resolution (tissue_edges.ts);
//                      every pixel when tissue detection is off. The classes are listed in the TIFF's ImageDescription (JSON).
//   probabilityTiffs   per class code, uint8 round(255 p).
// Pixels that no tissue tile reaches are 0. Memory is the model, one tile-wide window, the overlap strip
// and a band of output rows: O(width), never O(area). The run checkpoints to `<out>.partial/` (partial_run.ts)
// and, by default, an interrupted run resumes from its last checkpoint; outputs appear only when complete.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { TISSUE_BIT } from '../../data/classes.js';
import { checkUpsample, chooseLevel, type ReadPlan, resolveSlideMpp } from '../io/mpp.js';
import { OpenSlide, SlideError } from '../io/openslide.js';
import { readGridWindow } from '../io/resample.js';
import { LabelOutputs } from './label_outputs.js';
import { PartialRun } from './partial_run.js';
import { type Predictor, predictTiles } from './predictor.js';
import { Stitcher, type TileGrid, tileGrid } from './tiling.js';
import { slideTissueMask, TISSUE_DEFAULTS, type TissueMask, type TissueOptions } from './tissue.js';
import { maskIndex, TissueEdges } from './tissue_edges.js';

export { TISSUE_BIT };

/** Class bits the label image holds: bits 0-3; bit 4 is tissue. */
const MAX_CLASSES = 4;

export interface SegmentOptions {
  /** The label TIFF to write (.tif / .tiff); probability TIFFs go beside it as `<stem>_prob_<class>.tif`. */
  out: string;
  /** Also write per-class probability TIFFs; default false. */
  probabilities?: boolean;
  /** Microns per level-0 pixel, overriding (or standing in for) the slide's metadata. */
  mpp?: number;
  /** Allow upsampling the slide more than MAX_UPSAMPLE times for the network (mpp.ts); default false. */
  allowUpsample?: boolean;
  /** Overlap of neighbouring tiles in grid pixels; default a quarter of the tile. */
  overlap?: number;
  /** Zero-weight margin at each inner tile edge; default a quarter of the overlap. */
  margin?: number;
  /** Tiles per model call; default 2. */
  batchSize?: number;
  /** A class bit is set where its probability exceeds this; default 0.5. */
  threshold?: number;
  /** Tissue detection settings, or false to run every tile and take the whole image as tissue. */
  tissue?: TissueOptions | false;
  /** Only this level-0 rectangle (a region of interest); default the whole slide. */
  region?: { x: number; y: number; width: number; height: number };
  /** Go on from `<out>.partial/` when it matches this run (default true); false starts over. */
  resume?: boolean;
  /** Seconds between checkpoints (a checkpoint always follows a whole tile row); default 60. */
  checkpointSeconds?: number;
  /** Tile edge of the output TIFFs; default 256. */
  tiffTileSize?: number;
  /** Aborting stops the run at the next batch, keeping its checkpoint for a resume. */
  signal?: AbortSignal;
  onProgress?: (progress: SegmentProgress) => void;
}

export interface SegmentProgress {
  /** Tissue tiles done (those from a resumed checkpoint included) and in all. */
  tilesDone: number;
  tilesTotal: number;
  tileRowsDone: number;
  tileRows: number;
  /** Seconds since this call started; tiles per second and the estimated seconds left, from this call's tiles. */
  elapsed: number;
  tilesPerSecond: number;
  eta: number;
}

export interface SegmentTimings {
  tissue: number;
  /** Reading and resampling tiles. */
  read: number;
  predict: number;
  /** Blending and turning probabilities into labels. */
  stitch: number;
  /** Writing bands and checkpoints (what is not overlapped with the model). */
  write: number;
  total: number;
}

export interface SegmentResult {
  labelTiff: string;
  /** Class code -> file, when probabilities were asked for. */
  probabilityTiffs?: Record<string, string>;
  classes: readonly string[];
  mpp: {
    /** Level-0 microns per pixel and where they came from. */
    slide: number;
    source: 'metadata' | 'override';
    /** Microns per output pixel: the pixel size the model saw. */
    used: number;
    /** How the slide was read (level, its mpp, resampling). */
    plan: ReadPlan;
  };
  /** Output size and, in level-0 pixels, where its top-left pixel starts and how many level-0 pixels each covers. */
  width: number;
  height: number;
  origin: { x: number; y: number };
  downsample: number;
  /** The mask tiles were chosen by (undefined when detection was off). */
  tissueMask: TissueMask | undefined;
  tiles: { grid: number; tissue: number; run: number; resumed: number; size: number; overlap: number; margin: number };
  /** Why an existing `<out>.partial/` was not resumed, if one was thrown away. */
  discardedPartial: string | undefined;
  timings: SegmentTimings;
}

interface Layout {
  plan: ReadPlan;
  /** Grid pixel of the output's top-left, and the output's size. */
  gx: number;
  gy: number;
  grid: TileGrid;
}

function layout(slide: OpenSlide, slideMpp: number, predictor: Predictor, o: SegmentOptions): Layout {
  const plan = chooseLevel(slide.levels, slideMpp, predictor.inputMpp);
  const d = plan.gridDownsample;
  const r = o.region ?? { x: 0, y: 0, width: slide.dimensions[0], height: slide.dimensions[1] };
  if (![r.x, r.y, r.width, r.height].every(Number.isInteger) || r.width < 1 || r.height < 1) {
    throw new Error(`${slide.path}: region ${JSON.stringify(r)} must be whole level-0 pixels with a positive size`);
  }
  const gx = Math.max(0, Math.floor(r.x / d));
  const gy = Math.max(0, Math.floor(r.y / d));
  const width = Math.min(plan.width, Math.ceil((r.x + r.width) / d)) - gx;
  const height = Math.min(plan.height, Math.ceil((r.y + r.height) / d)) - gy;
  if (width < 1 || height < 1) throw new Error(`${slide.path}: region ${JSON.stringify(r)} lies outside the slide`);
  const t = predictor.tileSize;
  const overlap = o.overlap ?? Math.floor(t / 4);
  const margin = o.margin ?? Math.floor(overlap / 4);
  return { plan, gx, gy, grid: tileGrid(width, height, t, overlap, margin) };
}

/** The output's bit-flag encoding and geometry, as JSON for the label TIFF's ImageDescription. */
function describeLabels(slidePath: string, classes: readonly string[], L: Layout, predictorId: string, threshold: number): string {
  return JSON.stringify({
    format: 'mmfd-labels',
    version: 1,
    encoding: `bit flags: bit c (value 2^c) where class c's probability > ${threshold}; ${TISSUE_BIT} where tissue`,
    classes: classes.map((code, bit) => ({ bit, value: 1 << bit, code })),
    tissue_value: TISSUE_BIT,
    slide: basename(slidePath),
    model: predictorId,
    mpp: L.plan.gridMpp,
    downsample: L.plan.gridDownsample,
    origin: [L.gx * L.plan.gridDownsample, L.gy * L.plan.gridDownsample],
  });
}

/** The label map's tissue rows: the mask, its edge decided at the label grid's resolution (tissue_edges.ts). */
function tissueEdges(slide: OpenSlide, slideMpp: number, L: Layout, mask: TissueMask, o: Required<TissueOptions>): TissueEdges {
  const { grid, plan } = L;
  const f = mask.mpp / slideMpp; // level-0 pixels per mask pixel
  return new TissueEdges(
    mask,
    {
      width: grid.width,
      height: grid.height,
      mpp: plan.gridMpp,
      columns: maskIndex(grid.width, L.gx, plan.gridDownsample, f, mask.width),
      rows: maskIndex(grid.height, L.gy, plan.gridDownsample, f, mask.height),
      read: (x, y, w, h) => readGridWindow(slide, plan, L.gx + x, L.gy + y, w, h),
    },
    o,
  );
}

/** OpenSlide.open, saying so when a file OpenSlide refuses is a TIFF (most likely cut short or damaged). */
function openSlide(path: string): OpenSlide {
  try {
    return OpenSlide.open(path);
  } catch (err) {
    if (!(err instanceof SlideError) || !/not a slide format/.test(err.message)) throw err;
    const head = Buffer.alloc(4);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, head, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
    const tiff = ['49492a00', '4d4d002a', '49492b00', '4d4d002b'].includes(head.toString('hex'));
    if (!tiff) throw err;
    throw new SlideError(`${path}: a TIFF file OpenSlide cannot read (${statSync(path).size} bytes): truncated, damaged, or not tiled`);
  }
}

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

/** Segments one slide with `predictor`; see the top of this file. */
export async function segmentSlide(slidePath: string, predictor: Predictor, options: SegmentOptions): Promise<SegmentResult> {
  const start = process.hrtime.bigint();
  const o = options;
  if (!/\.tiff?$/i.test(o.out)) throw new Error(`${o.out}: the label output must be a .tif or .tiff file`);
  const C = predictor.classes.length;
  if (C < 1 || C > MAX_CLASSES) throw new Error(`${predictor.id}: ${C} classes; the label TIFF holds 1 to ${MAX_CLASSES} class bits`);
  const threshold = o.threshold ?? 0.5;
  const batchSize = o.batchSize ?? 2;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer (got ${batchSize})`);
  const timings: SegmentTimings = { tissue: 0, read: 0, predict: 0, stitch: 0, write: 0, total: 0 };

  const slide = openSlide(slidePath);
  try {
    const resolved = resolveSlideMpp(slidePath, slide.mpp, o.mpp);
    checkUpsample(slidePath, resolved, slide.mpp, predictor.inputMpp, o.allowUpsample);
    const { mpp: slideMpp, source } = resolved;
    const L = layout(slide, slideMpp, predictor, o);
    const { grid, plan } = L;
    const d = plan.gridDownsample;
    const t = grid.tile;

    let t0 = process.hrtime.bigint();
    const tissueOptions = o.tissue === false ? undefined : { ...TISSUE_DEFAULTS, ...o.tissue };
    const tissue = tissueOptions && slideTissueMask(slide, slideMpp, tissueOptions);
    const edges = tissue && tissueOptions && tissueEdges(slide, slideMpp, L, tissue, tissueOptions);
    // The tiles whose pixels hold tissue: every tile that reaches a tissue pixel is run, so its blend is whole.
    const runTiles = edges?.tilesWithTissue(grid) ?? grid.ys.map(() => [...grid.xs.keys()]);
    timings.tissue = seconds(t0);
    const tilesTotal = runTiles.reduce((n, row) => n + row.length, 0);

    // Outputs and the resumable state.
    const stem = join(dirname(o.out), basename(o.out, extname(o.out)));
    const probabilityTiffs = o.probabilities ? Object.fromEntries(predictor.classes.map((c) => [c, `${stem}_prob_${c}.tif`])) : undefined;
    const tiffTileSize = o.tiffTileSize ?? 256;
    const stat = statSync(slidePath);
    const key = {
      slide: {
        path: resolve(slidePath),
        bytes: stat.size,
        modified: stat.mtimeMs,
        quickhash: slide.properties['openslide.quickhash-1'] ?? null,
      },
      model: predictor.id,
      classes: predictor.classes,
      inputMpp: predictor.inputMpp,
      slideMpp,
      plan,
      origin: [L.gx, L.gy],
      grid: [grid.width, grid.height, grid.tile, grid.overlap, grid.margin],
      threshold,
      probabilities: o.probabilities ?? false,
      tissue: tissueOptions ?? false,
      tiffTileSize,
    };
    const { run: partial, resumed, discarded } = await PartialRun.open(`${o.out}.partial`, key, o.resume ?? true);
    let outputs: LabelOutputs | undefined;
    try {
      outputs = await LabelOutputs.create({
        label: o.out,
        probabilities: probabilityTiffs,
        width: grid.width,
        height: grid.height,
        maxRows: t,
        tiffTileSize,
        mpp: plan.gridMpp,
        description: describeLabels(slidePath, predictor.classes, L, predictor.id, threshold),
        classes: C,
        threshold,
        tissue: edges && {
          rows: (from: number, to: number, classes: Uint8Array) => edges.rows(from, to, classes),
          clip: tissueOptions!.clip,
        },
      });
      const stitcher = new Stitcher(grid, C, outputs.sink);

      let firstRow = 0;
      let tilesDone = 0;
      let rowsDone = 0;
      if (resumed !== undefined) {
        t0 = process.hrtime.bigint();
        await outputs.replay(partial);
        await partial.readCarry(stitcher.carry);
        timings.write += seconds(t0);
        ({ tileRowsDone: firstRow, tilesDone, rowsDone } = resumed);
      }
      const resumedTiles = tilesDone;
      const loopStart = process.hrtime.bigint();
      let lastCheckpoint = loopStart;
      let checkpointed = firstRow;
      const checkpoint = async (k: number) => {
        await partial.checkpoint({ tileRowsDone: k, rowsDone, tilesDone }, stitcher.carry);
        lastCheckpoint = process.hrtime.bigint();
        checkpointed = k;
      };
      const interrupted = () =>
        new Error(`${slidePath}: interrupted after ${tilesDone} of ${tilesTotal} tiles; run again to resume from the last checkpoint`);
      const report = (k: number) => {
        const rate = (tilesDone - resumedTiles) / Math.max(seconds(loopStart), 1e-9);
        o.onProgress?.({
          tilesDone,
          tilesTotal,
          tileRowsDone: k,
          tileRows: grid.ys.length,
          elapsed: seconds(start),
          tilesPerSecond: rate,
          eta: rate > 0 ? (tilesTotal - tilesDone) / rate : Number.NaN,
        });
      };
      report(firstRow);

      for (let k = firstRow; k < grid.ys.length; k++) {
        if (o.signal?.aborted) {
          // Between tile rows the stitcher's carry is consistent: keep everything done so far.
          if (checkpointed < k) await checkpoint(k);
          throw interrupted();
        }
        stitcher.startRow(k);
        const row = runTiles[k]!;
        for (let b = 0; b < row.length; b += batchSize) {
          if (o.signal?.aborted) throw interrupted();
          const js = row.slice(b, b + batchSize);
          t0 = process.hrtime.bigint();
          const input = new Float32Array(js.length * 3 * t * t);
          js.forEach((j, i) => {
            input.set(readGridWindow(slide, plan, L.gx + grid.xs[j]!, L.gy + grid.ys[k]!, t, t), i * 3 * t * t);
          });
          timings.read += seconds(t0);
          t0 = process.hrtime.bigint();
          const probs = await predictTiles(predictor, input, js.length);
          timings.predict += seconds(t0);
          t0 = process.hrtime.bigint();
          js.forEach((j, i) => {
            stitcher.addTile(j, probs.subarray(i * C * t * t, (i + 1) * C * t * t));
          });
          timings.stitch += seconds(t0);
          tilesDone += js.length;
          report(k);
          // Let the writers' compression and file writes, queued on the thread pool, make progress.
          await new Promise<void>((done) => setImmediate(done));
        }
        t0 = process.hrtime.bigint();
        const { from, to } = stitcher.endRow();
        const last = k === grid.ys.length - 1;
        await outputs.finishRows(from, to, last ? undefined : partial);
        rowsDone = to;
        if (!last && seconds(lastCheckpoint) >= (o.checkpointSeconds ?? 60)) await checkpoint(k + 1);
        timings.write += seconds(t0);
        report(k + 1);
      }
      t0 = process.hrtime.bigint();
      await outputs.close();
      await partial.remove();
      timings.write += seconds(t0);
      timings.total = seconds(start);
      return {
        labelTiff: o.out,
        probabilityTiffs,
        classes: predictor.classes,
        mpp: { slide: slideMpp, source, used: plan.gridMpp, plan },
        width: grid.width,
        height: grid.height,
        origin: { x: L.gx * d, y: L.gy * d },
        downsample: d,
        tissueMask: tissue,
        tiles: {
          grid: grid.xs.length * grid.ys.length,
          tissue: tilesTotal,
          run: tilesDone - resumedTiles,
          resumed: resumedTiles,
          size: t,
          overlap: grid.overlap,
          margin: grid.margin,
        },
        discardedPartial: discarded,
        timings,
      };
    } catch (err) {
      await outputs?.abort();
      await partial.close();
      throw err;
    }
  } finally {
    slide.close();
  }
}

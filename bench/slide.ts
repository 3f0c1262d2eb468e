// npm run bench:slide — whole-slide segmentation (src/slides/pipeline/segment.ts) on synthetic slides of 10k, 20k and
// 40k pixels square at 0.5 um/px (read at the student's input_mpp: 1.0 um/px halves them), 2 CPU threads.
// Every measurement runs in its own process, so its peak RSS is its own:
//   student-band   the student on a full-width band
//                  of 3 tile rows, where the slide has the most tissue: the same work per tile row at every
//                  width, so peak RSS shows what the slide's size costs;
//   student-full   the real student on each whole slide (--full 10000 for fewer: the 40k slide has about
//                  1,100 tissue tiles, 6 minutes at 3 tiles/s on an idle machine, hours on a busy one);
//   pipeline-full  every stage but the network (tissue detection, reading, resampling, blending, writing,
//                  checkpoints) on each whole slide, the student replaced by a per-pixel colour function
//                  of the same input and output shapes: peak RSS of whole slides of every size.
//   real-full      the real-size student (TinyViT-5M + decoder, 9,676,024 parameters, random weights: speed
//                  only) at its reference input scale (1 um/px, 512-pixel tiles) on the --real slides (default
//                  10k; 20k adds about four times the tiles), once per engine and precision (--real-engines,
//                  default torch:fp32,onnx:fp32,onnx:int8); the int8 label map is compared with the fp32 one.
//                  --only real-full runs just these and updates the real_size section of slide.json.
//   --only student-full  just the student on the smallest --full slide, scored (below), updating its runs and
//                  the dice section of slide.json.
// The student is --checkpoint <file>, or else configs/tiny-mobilesam-slides.yaml trained first (in .tmp/bench-slide;
// about 13 minutes on 2 cores, reused by later runs) on windows of other synthetic slides. The smallest whole slide
// is scored against its ground truth: per-class Dice and area fractions (src/slides/export/compare_labels.ts), the
// tissue area, and the same Dice without the tissue mask and with its coarse 16 um edge (two more runs).
// Writes bench/results/slide.json.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeDerivedConfig } from '../src/config/derive.js';
import { loadConfig } from '../src/config/index.js';
import { FINAL_CLASSES } from '../src/data/classes.js';
import { compareLabels } from '../src/slides/export/compare_labels.js';
import { OpenSlide } from '../src/slides/io/openslide.js';
import { type Engine, openPredictor, type Precision } from '../src/slides/pipeline/onnx_predictor.js';
import { loadPredictor, type Predictor } from '../src/slides/pipeline/predictor.js';
import { type SegmentResult, segmentSlide, TISSUE_BIT } from '../src/slides/pipeline/segment.js';
import { slideTissueMask, type TissueMask, type TissueOptions } from '../src/slides/pipeline/tissue.js';
import { labelPaths, writeSyntheticSlide } from '../src/synth/slide/slide.js';
import * as torch from '../src/torch/index.js';
import { trainStudentAlone } from '../src/train/baseline.js';
import { writeBenchResult } from './results_file.js';

const root = new URL('../..', import.meta.url).pathname;
const SLIDE_MPP = 0.5;
const SEED = 1;
const THREADS = 2;
const BAND_TILE_ROWS = 3;
const SETTINGS = { batchSize: 2, checkpointSeconds: 60 } as const;

type Mode = 'student-band' | 'student-full' | 'pipeline-full' | 'real-full';

interface Job {
  mode: Mode;
  slide: string;
  size: number;
  out: string;
  checkpoint: string;
  engine?: Engine;
  precision?: Precision;
  /** Tissue settings for segmentSlide (student-full's variants); default: the defaults. */
  tissue?: TissueOptions;
}

interface Run {
  mode: Mode;
  tissue?: TissueOptions;
  engine?: string;
  size: number;
  model: string;
  region: { x: number; y: number; width: number; height: number } | null;
  tiles_run: number;
  tiles_in_region: number;
  tissue_mm2: number;
  seconds: number;
  tiles_per_s: number;
  tissue_mm2_per_min: number;
  peak_rss_mb: number;
  timings: SegmentResult['timings'];
  mpp_used: number;
  tile: { size: number; overlap: number; margin: number };
}

/** A stand-in for the network with its input and output shapes: class probabilities from each pixel's colour. */
function colourModel(tileSize: number): Predictor {
  return {
    tileSize,
    classes: ['villit', 'thrombus', 'bloodvessel', 'cellgroup'],
    inputMpp: 1.0,
    id: 'colour-stand-in',
    predict: (x) =>
      torch.tidy(() => {
        const [r, g, b] = [0, 1, 2].map((c) => x.narrow(1, c, 1));
        return torch.cat([g!.neg().add(1), r!.sub(g!).clamp(0, 1), b!.sub(r!).clamp(0, 1), r!.mul(b!)], 1);
      }),
    dispose: () => undefined,
  };
}

/** Tissue area (mm^2) of the mask inside a level-0 rectangle. */
function tissueIn(mask: TissueMask, region: { x: number; y: number; width: number; height: number }): number {
  const f = mask.mpp / SLIDE_MPP;
  let n = 0;
  for (let y = Math.floor(region.y / f); y < Math.min(mask.height, Math.ceil((region.y + region.height) / f)); y++) {
    for (let x = Math.floor(region.x / f); x < Math.min(mask.width, Math.ceil((region.x + region.width) / f)); x++)
      n += mask.data[y * mask.width + x]!;
  }
  return (n * mask.mpp * mask.mpp) / 1e6;
}

/**
 * The full-width band of BAND_TILE_ROWS tile rows (at the default overlap, a quarter tile; 2 level-0 pixels
 * per grid pixel) holding the most tissue, in level-0 pixels.
 */
function tissiestBand(path: string, size: number, tile: number): { x: number; y: number; width: number; height: number } {
  const slide = OpenSlide.open(path);
  const mask = slideTissueMask(slide, SLIDE_MPP);
  slide.close();
  const f = mask.mpp / SLIDE_MPP;
  const stride = ((3 * tile) / 4) * 2;
  const height = (tile + (BAND_TILE_ROWS - 1) * ((3 * tile) / 4)) * 2;
  let best = { y: 0, tissue: -1 };
  for (let y = 0; y + height <= size; y += stride) {
    let tissue = 0;
    for (let my = Math.floor(y / f); my < Math.min(mask.height, Math.ceil((y + height) / f)); my++) {
      for (let mx = 0; mx < mask.width; mx++) tissue += mask.data[my * mask.width + mx]!;
    }
    if (tissue > best.tissue) best = { y, tissue };
  }
  return { x: 0, y: best.y, width: size, height };
}

/** In the child: one segmentation; prints its figures as JSON on the last line. */
async function one(job: Job): Promise<void> {
  const predictor =
    job.mode === 'pipeline-full'
      ? colourModel(512)
      : job.mode === 'real-full'
        ? await openPredictor({ model: 'student', randomSeed: 0, engine: job.engine, precision: job.precision, device: 'cpu' })
        : loadPredictor({ model: job.checkpoint });
  const size = job.size;
  const region = job.mode === 'student-band' ? tissiestBand(job.slide, size, predictor.tileSize) : undefined;
  let lastTenth = -1;
  const result = await segmentSlide(job.slide, predictor, {
    out: job.out,
    region,
    tissue: job.tissue,
    ...SETTINGS,
    onProgress: (p) => {
      const tenth = Math.floor((10 * p.tilesDone) / Math.max(1, p.tilesTotal));
      if (tenth > lastTenth) {
        lastTenth = tenth;
        process.stderr.write(
          `  ${job.mode} ${size}: ${p.tilesDone}/${p.tilesTotal} tiles, ${p.elapsed.toFixed(0)} s, ETA ${Number.isFinite(p.eta) ? p.eta.toFixed(0) : '?'} s\n`,
        );
      }
    },
  });
  predictor.dispose();
  const mask = result.tissueMask!;
  const tissue = tissueIn(mask, region ?? { x: 0, y: 0, width: size, height: size });
  const run: Run = {
    mode: job.mode,
    ...(job.tissue !== undefined ? { tissue: job.tissue } : {}),
    ...(job.engine !== undefined ? { engine: `${job.engine} ${job.precision ?? 'fp32'}` } : {}),
    size,
    model: predictor.id,
    region: region ?? null,
    tiles_run: result.tiles.run,
    tiles_in_region: result.tiles.grid,
    tissue_mm2: tissue,
    seconds: result.timings.total,
    tiles_per_s: result.tiles.run / result.timings.total,
    tissue_mm2_per_min: tissue / (result.timings.total / 60),
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    timings: result.timings,
    mpp_used: result.mpp.used,
    tile: { size: result.tiles.size, overlap: result.tiles.overlap, margin: result.tiles.margin },
  };
  console.log(JSON.stringify(run));
}

/**
 * The student bench:slide scores: configs/tiny-mobilesam-slides.yaml (TinyViT trained alone on windows of other
 * synthetic slides at 1.0 um/px) trained in .tmp/bench-slide, or resumed or reused when already there.
 */
async function trainSlideStudent(): Promise<{ checkpoint: string; training: Record<string, unknown> }> {
  const out = join(root, '.tmp', 'bench-slide');
  const config = join(out, 'configs', 'tiny-mobilesam-slides.yaml');
  await writeDerivedConfig(join(root, 'configs', 'tiny-mobilesam-slides.yaml'), config, { out_dir: join(out, 'exp') });
  console.log(`training the slide student (${config}) ...`);
  const t0 = performance.now();
  const [run] = await trainStudentAlone(loadConfig(config), config);
  if (run === undefined) throw new Error(`${config}: no run`);
  const t = run.test;
  const training = {
    config: 'configs/tiny-mobilesam-slides.yaml',
    iterations: run.training.iteration,
    training_images_per_s: run.training.images_per_s,
    seconds: (performance.now() - t0) / 1000,
    // Patch-level test scores on windows of slides it never saw (synth_slide_crops_test).
    test_miou: t.MIoU_mean_L0,
    test_per_class: Object.fromEntries(FINAL_CLASSES.map((c, i) => [c.display, t[`MIoU_${i}_L0`]])),
  };
  return { checkpoint: join(run.dir, 'best.json'), training };
}

/** Runs one job in its own process (its peak RSS is its own) and prints its figures. */
function runJob(job: Job): Run {
  console.log(`${job.mode}${job.engine !== undefined ? ` (${job.engine} ${job.precision ?? 'fp32'})` : ''} on ${job.size} ...`);
  const stdout = execFileSync(process.execPath, [new URL(import.meta.url).pathname, '--one', JSON.stringify(job)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, MMFD_NUM_THREADS: String(THREADS) },
    maxBuffer: 64 * 2 ** 20,
  });
  const run = JSON.parse(stdout.trim().split('\n').at(-1)!) as Run;
  console.log(
    `  ${run.tiles_run} tiles in ${run.seconds.toFixed(0)} s: ${run.tiles_per_s.toFixed(2)} tiles/s, ` +
      `${run.tissue_mm2_per_min.toFixed(2)} mm^2 tissue/min, peak RSS ${run.peak_rss_mb.toFixed(0)} MB`,
  );
  return run;
}

/** The real-size student on each of `sizes` per engine; the int8 label map scored against the fp32 one. */
async function realSize(work: string, sizes: number[], engines: { engine: Engine; precision: Precision }[]) {
  const runs: Run[] = [];
  const int8VsFp32: Record<string, unknown> = {};
  for (const size of sizes) {
    const folder = join(work, `real-${size}`);
    mkdirSync(folder);
    const slide = join(folder, `slide_${size}.tif`);
    console.log(`writing a ${size} x ${size} synthetic slide (mpp ${SLIDE_MPP}) ...`);
    await writeSyntheticSlide({ out: slide, width: size, height: size, seed: SEED, mpp: SLIDE_MPP });
    const outs = new Map<string, string>();
    for (const { engine, precision } of engines) {
      const out = join(folder, `labels_${engine}_${precision}.tif`);
      runs.push(runJob({ mode: 'real-full', slide, size, out, checkpoint: '', engine, precision }));
      outs.set(`${engine}:${precision}`, out);
    }
    const [fp32, int8] = [outs.get('onnx:fp32'), outs.get('onnx:int8')];
    if (fp32 !== undefined && int8 !== undefined) {
      const a = compareLabels(int8, fp32, { classBits: 4, tissueBit: TISSUE_BIT, downsample: 1 });
      // issue 15's goal: per-class Dice >= 0.98 and every tissue fraction within 0.005 of fp32's
      const summary = a.classes.map((c, i) => ({
        class: FINAL_CLASSES[i]?.display,
        dice: c.dice,
        fraction_int8: c.predictedFraction,
        fraction_fp32: c.trueFraction,
        met: c.dice >= 0.98 && Math.abs(c.predictedFraction - c.trueFraction) <= 0.005,
      }));
      for (const c of summary)
        console.log(
          `  int8 vs fp32, ${c.class}: Dice ${c.dice.toFixed(4)}, fractions ${c.fraction_int8.toFixed(4)} / ${c.fraction_fp32.toFixed(4)}`,
        );
      int8VsFp32[String(size)] = summary;
    }
    rmSync(folder, { recursive: true, force: true });
  }
  return { student: 'real-size, random weights (seed 0), 512-pixel tiles at 1 um/px', engines, runs, int8_vs_fp32: int8VsFp32 };
}

/** slide.json with the sections `update` returns replaced (an --only run), the rest kept. */
function updateResults(update: (previous: Record<string, unknown>) => Record<string, unknown>): void {
  const file = new URL('../../bench/results/slide.json', import.meta.url).pathname;
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  writeBenchResult('slide', { ...previous, ...update(previous) }, torch.best_device());
}

/** The student-full label map against the slide's ground truth: per-class Dice, fractions and tissue area. */
function agreementWithTruth(out: string, slide: string, run: Run) {
  // The prediction is at the model's pixel size: run.mpp_used / SLIDE_MPP truth pixels per predicted pixel.
  const a = compareLabels(out, labelPaths(slide).labels, { classBits: 4, tissueBit: TISSUE_BIT, downsample: run.mpp_used / SLIDE_MPP });
  const pixelMm2 = (run.mpp_used * run.mpp_used) / 1e6;
  return {
    ...a,
    tissue: {
      predicted_mm2: a.predictedTissue * pixelMm2,
      true_mm2: a.trueTissue * pixelMm2,
      area_error_pct: 100 * (a.predictedTissue / a.trueTissue - 1),
    },
  };
}

/**
 * Scores the student-full run on the smallest full slide against its truth, then runs it twice more: without the
 * mask (every class the network predicts kept: tissue.clip false, the same tiles) and with the mask's coarse
 * edge (tissue.edgeBand 0, as before the edge was decided at the label resolution). The goals: Dice >= 0.85 per
 * class and each tissue fraction within 0.02 (issue 6), tissue area within 1% of the truth and no class Dice
 * lower with the mask than without it (issue 14).
 */
function scoreAgainstTruth(slide: string, size: number, out: string, checkpoint: string, run: Run) {
  const withMask = agreementWithTruth(out, slide, run);
  const variants: Record<string, TissueOptions> = { without_mask: { clip: false }, coarse_edge: { edgeBand: 0 } };
  const runs: Run[] = [];
  const scored: Record<string, ReturnType<typeof agreementWithTruth>> = {};
  for (const [name, tissue] of Object.entries(variants)) {
    const variantOut = out.replace(/\.tif$/, `_${name}.tif`);
    const r = runJob({ mode: 'student-full', slide, size, out: variantOut, checkpoint, tissue });
    runs.push(r);
    scored[name] = agreementWithTruth(variantOut, slide, r);
    rmSync(variantOut, { force: true });
  }
  const without = scored.without_mask!;
  const coarse = scored.coarse_edge!;
  const summary = withMask.classes.map((c, i) => ({
    class: FINAL_CLASSES[i]?.display,
    dice: c.dice,
    dice_without_mask: without.classes[i]!.dice,
    dice_coarse_edge: coarse.classes[i]!.dice,
    fraction_error: c.predictedFraction - c.trueFraction,
    met: c.dice >= 0.85 && Math.abs(c.predictedFraction - c.trueFraction) <= 0.02 && c.dice >= without.classes[i]!.dice,
  }));
  for (const c of summary)
    console.log(
      `  ${c.class}: Dice ${c.dice.toFixed(4)} (without the mask ${c.dice_without_mask.toFixed(4)}, coarse edge ` +
        `${c.dice_coarse_edge.toFixed(4)}), tissue fraction error ${c.fraction_error.toFixed(4)}`,
    );
  const tissue = {
    ...withMask.tissue,
    met: Math.abs(withMask.tissue.area_error_pct) <= 1,
    coarse_edge_area_error_pct: coarse.tissue.area_error_pct,
  };
  console.log(
    `  tissue: ${tissue.predicted_mm2.toFixed(3)} mm^2 vs ${tissue.true_mm2.toFixed(3)} true ` +
      `(${tissue.area_error_pct.toFixed(2)}%; coarse edge ${tissue.coarse_edge_area_error_pct.toFixed(2)}%)`,
  );
  const { tissue: _, ...agreement } = withMask;
  return {
    dice: { slide_size: size, checkpoint, summary, tissue, ...agreement, without_mask: without.classes, coarse_edge: coarse.classes },
    runs,
  };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--one') return one(JSON.parse(process.argv[3]!) as Job);
  const { values } = parseArgs({
    options: {
      checkpoint: { type: 'string' },
      sizes: { type: 'string', default: '10000,20000,40000' },
      full: { type: 'string', default: '10000,20000,40000' },
      real: { type: 'string', default: '10000' },
      'real-engines': { type: 'string', default: 'torch:fp32,onnx:fp32,onnx:int8' },
      only: { type: 'string' },
    },
  });
  const realSizes = values.real.split(',').filter(Boolean).map(Number);
  const engines = values['real-engines'].split(',').map((e) => {
    const [engine, precision = 'fp32'] = e.split(':');
    if ((engine !== 'torch' && engine !== 'onnx') || (precision !== 'fp32' && precision !== 'int8'))
      throw new Error(`--real-engines: ${e}?`);
    return { engine, precision } as { engine: Engine; precision: Precision };
  });
  const machine = () => ({ cores: availableParallelism(), threads: THREADS, device: torch.best_device() });
  if (values.only === 'real-full') {
    const work = mkdtempSync(join(tmpdir(), 'mmfd-bench-segment-'));
    const loadStart = loadavg();
    try {
      const real = await realSize(work, realSizes, engines);
      const real_size = {
        date: new Date().toISOString(),
        machine: { ...machine(), load_average_start: loadStart, load_average_end: loadavg() },
        ...real,
      };
      updateResults(() => ({ real_size }));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return;
  }
  if (values.only === 'student-full') {
    // The student on the smallest --full slide and its variants, scored against the truth: runs and dice updated.
    const size = Math.min(...values.full.split(',').map(Number));
    const trained = values.checkpoint === undefined ? await trainSlideStudent() : undefined;
    const checkpoint = values.checkpoint ?? (trained?.checkpoint as string);
    const work = mkdtempSync(join(tmpdir(), 'mmfd-bench-segment-'));
    const loadStart = loadavg();
    try {
      const slide = join(work, `slide_${size}.tif`);
      console.log(`writing a ${size} x ${size} synthetic slide (mpp ${SLIDE_MPP}) ...`);
      await writeSyntheticSlide({ out: slide, width: size, height: size, seed: SEED, mpp: SLIDE_MPP });
      const run = runJob({ mode: 'student-full', slide, size, out: join(work, 'labels_student-full.tif'), checkpoint });
      const scored = scoreAgainstTruth(slide, size, join(work, 'labels_student-full.tif'), checkpoint, run);
      const dice = {
        ...scored.dice,
        date: new Date().toISOString(),
        machine: { ...machine(), load_average_start: loadStart, load_average_end: loadavg() },
        student_training: trained?.training ?? null,
      };
      updateResults((previous) => {
        const others = ((previous.runs as Run[] | undefined) ?? []).filter((r) => !(r.mode === 'student-full' && r.size === size));
        return { runs: [...others, run, ...scored.runs], dice };
      });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return;
  }
  const sizes = values.sizes.split(',').map(Number);
  const fullSizes = new Set(values.full.split(',').map(Number));
  const trained = values.checkpoint === undefined ? await trainSlideStudent() : undefined;
  const checkpoint = values.checkpoint ?? (trained?.checkpoint as string);
  const work = mkdtempSync(join(tmpdir(), 'mmfd-bench-segment-'));
  const runs: Run[] = [];
  let dice: unknown = null;
  let realSizeResult: unknown = null;
  const loadStart = loadavg();
  try {
    for (const size of sizes) {
      // One folder per size, deleted before the next: the 40k slide alone is about 1 GB.
      const folder = join(work, String(size));
      mkdirSync(folder);
      const slide = join(folder, `slide_${size}.tif`);
      console.log(`writing a ${size} x ${size} synthetic slide (mpp ${SLIDE_MPP}) ...`);
      await writeSyntheticSlide({ out: slide, width: size, height: size, seed: SEED, mpp: SLIDE_MPP });
      const modes: Mode[] = ['pipeline-full', 'student-band', ...(fullSizes.has(size) ? (['student-full'] as const) : [])];
      for (const mode of modes) {
        const out = join(folder, `labels_${mode}.tif`);
        const run = runJob({ mode, slide, size, out, checkpoint });
        runs.push(run);
        if (mode === 'student-full' && size === Math.min(...fullSizes)) {
          const scored = scoreAgainstTruth(slide, size, out, checkpoint, run);
          dice = scored.dice;
          runs.push(...scored.runs);
        }
        rmSync(out, { force: true });
      }
      rmSync(folder, { recursive: true, force: true });
    }
    realSizeResult = await realSize(work, realSizes, engines);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const rss = (mode: Mode) => Object.fromEntries(runs.filter((r) => r.mode === mode).map((r) => [String(r.size), r.peak_rss_mb]));
  const growth = (mode: Mode) => {
    const r = runs.filter((x) => x.mode === mode);
    return r.length >= 2 ? r.at(-1)!.peak_rss_mb / r[0]!.peak_rss_mb : null;
  };
  const result = {
    date: new Date().toISOString(),
    machine: {
      cores: availableParallelism(),
      threads: THREADS,
      device: torch.best_device(),
      load_average_start: loadStart,
      load_average_end: loadavg(),
    },
    slides: { mpp: SLIDE_MPP, seed: SEED, sizes },
    // Tiles in network-input pixels (the stand-in network of pipeline-full uses 512-pixel tiles).
    settings: { ...SETTINGS, band_tile_rows: BAND_TILE_ROWS, student_tile: runs.find((r) => r.mode !== 'pipeline-full')?.tile },
    model: checkpoint,
    student_training: trained?.training ?? null,
    runs,
    peak_rss_mb: { 'student-band': rss('student-band'), 'pipeline-full': rss('pipeline-full'), 'student-full': rss('student-full') },
    peak_rss_growth_smallest_to_largest: { 'student-band': growth('student-band'), 'pipeline-full': growth('pipeline-full') },
    dice,
    real_size: realSizeResult,
  };
  writeBenchResult('slide', result, torch.best_device());
}

await main();

// Segmenting a cohort: for each slide, the label map (from a SlideSegmenter), its measurements, GeoJSON,
// overlay views, report and manifest, in `<out>/<name>/`; then `<out>/cohort.csv` and `<out>/report.html`.
//
// - A slide is built in `<out>/.<name>.partial/` and renamed to `<out>/<name>/` only when complete, so an
//   output folder is always whole. A rerun after an interruption keeps the label map if segmentation had
//   finished for the same slide, model and segmentation settings (recorded beside it) and redoes the rest;
//   a segmenter may also resume inside its own run from what it left in that folder.
// - A slide whose manifest is complete and whose slide hash, model hash and settings are unchanged is
//   skipped; any change runs it again.
// - A slide that fails is reported with its error and the others go on.
// Progress is reported per stage; the overall fraction weighs slides by file size and stages by rough
// shares of the time (STAGE_WEIGHTS), which is what an ETA can be computed from.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InterruptedError } from '../interrupt.js';
import { makeDir } from '../make_dir.js';
import { removeOrphanTemps } from '../orphan_temps.js';
import { THUMBNAIL, VIEWER_PAGE, writeOverlayViews } from '../slides/export/deepzoom.js';
import { writeGeoJson } from '../slides/export/geojson.js';
import { measureSlide, type SlideMeasurements, writeCohortCsv, writeMeasurementsJson } from '../slides/export/measure.js';
import { openLabelTiff } from '../slides/io/label_raster.js';
import { OpenSlide } from '../slides/io/openslide.js';
import { slideRgbBands } from '../slides/io/rgb_bands.js';
import { atomicTempPattern, FOLDER_TEMP_NAME, swapFolderIn, writeFileAtomic } from '../torch/io/files.js';
import { type CohortReportRow, measurementLines, writeCohortReport, writeSlideReport } from './html.js';
import { fileSha256, MANIFEST, newManifest, type RunKey, readManifest, type SegmentSettings, sameKey } from './manifest.js';
import { missingSlide, outputNameClash, type SlideInput } from './slide_list.js';

export interface SegmentRequest {
  slide: string;
  /** Where to write the label map: a pyramidal TIFF of bit flags (label_raster.ts). */
  labels: string;
  /** The user's --mpp, overriding the slide's metadata. */
  mpp?: number;
  /** Allow upsampling a coarse slide more than MAX_UPSAMPLE times (mpp.ts). */
  allowUpsample?: boolean;
  /** Aborted (Ctrl-C): stop at the next safe point, keeping what a rerun resumes from. */
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface SegmentResult {
  /** Microns per level-0 pixel of the slide, as used. */
  slideMpp: number;
  /** Microns per level-0 pixel of the label map. */
  labelMpp: number;
}

/** Whole-slide segmentation as the cohort runner sees it: slides/pipeline/segment.ts in use, a stand-in in tests. */
export interface SlideSegmenter {
  /** What the model is (kind and weights), for manifests and reports. */
  readonly id: string;
  /** SHA-256 of the model's weights: part of the resume key. */
  readonly sha256: string;
  segment(request: SegmentRequest): Promise<SegmentResult>;
  /** Frees the model, after the last slide. */
  dispose?(): void;
}

export type Stage = 'hash' | 'segment' | 'measure' | 'geojson' | 'overlay' | 'report';

/** Rough shares of a slide's time per stage, for the overall fraction done. */
export const STAGE_WEIGHTS: Readonly<Record<Stage, number>> = {
  hash: 0.02,
  segment: 0.75,
  measure: 0.03,
  geojson: 0.05,
  overlay: 0.13,
  report: 0.02,
};
const STAGES = Object.keys(STAGE_WEIGHTS) as Stage[];

export type CohortEvent =
  | {
      kind: 'slide';
      index: number;
      total: number;
      name: string;
      status: 'running' | 'skipped' | 'done' | 'failed';
      error?: string;
      seconds?: number;
      /** Fraction of the cohort's work done. */
      overall: number;
    }
  | { kind: 'progress'; index: number; name: string; stage: Stage; stageFraction: number; overall: number };

export interface CohortOptions {
  out: string;
  segmenter: SlideSegmenter;
  settings: SegmentSettings;
  /** Allow upsampling a coarse slide more than MAX_UPSAMPLE times (mpp.ts): permits, changes no output. */
  allowUpsample?: boolean;
  /** Aborted (Ctrl-C, interrupt.ts): the running slide stops at its next checkpoint and no further slide starts. */
  signal?: AbortSignal;
  onEvent?: (event: CohortEvent) => void;
  /** false: leave cohort.csv and report.html to `mmfd cohort report` (one shard of a cohort). */
  writeReport?: boolean;
}

export interface SlideOutcome {
  name: string;
  path: string;
  status: 'done' | 'skipped' | 'failed';
  error?: string;
  measurements?: SlideMeasurements;
}

export const LABELS_FILE = 'labels.tif';
export const MEASUREMENTS_FILE = 'measurements.json';
export const COHORT_CSV = 'cohort.csv';
export const REPORT_FILE = 'report.html';
/** A slide's viewer folder (deepzoom.ts). */
export const OVERLAY_DIR = 'overlay';
/** What the cohort writes beside the slide folders: no slide's folder may take these names. */
export const COHORT_FILES: readonly string[] = [COHORT_CSV, REPORT_FILE];
/** Beside the label map in a partial folder: the key it was made under, so a rerun can keep it. */
const SEGMENTATION_RECORD = 'segmentation.json';

export const partialDir = (out: string, name: string) => join(out, `.${name}.partial`);

/** Runs every slide, then writes the cohort CSV and report; returns each slide's outcome. */
export async function runCohort(slides: readonly SlideInput[], options: CohortOptions): Promise<SlideOutcome[]> {
  const { out, onEvent } = options;
  const clash = outputNameClash(slides);
  if (clash !== undefined) throw new Error(clash);
  makeDir(out);
  removeOrphanTemps(out, atomicTempPattern(COHORT_FILES));
  const weights = slides.map((s) => (existsSync(s.path) ? Math.max(1, statSync(s.path).size) : 1));
  let totalWeight = weights.reduce((a, b) => a + b, 0);
  let doneWeight = 0;
  const fractionDone = (extra = 0) => (totalWeight > 0 ? (doneWeight + extra) / totalWeight : 1);
  const outcomes: SlideOutcome[] = [];
  for (const [index, slide] of slides.entries()) {
    const started = Date.now();
    onEvent?.({ kind: 'slide', index, total: slides.length, name: slide.name, status: 'running', overall: fractionDone() });
    const progress = (stage: Stage, stageFraction: number) => {
      const before = STAGES.slice(0, STAGES.indexOf(stage)).reduce((sum, s) => sum + STAGE_WEIGHTS[s], 0);
      const slideFraction = before + STAGE_WEIGHTS[stage] * stageFraction;
      onEvent?.({
        kind: 'progress',
        index,
        name: slide.name,
        stage,
        stageFraction,
        overall: fractionDone(weights[index]! * slideFraction),
      });
    };
    let outcome: SlideOutcome;
    try {
      outcome = await runSlide(slide, options, progress);
    } catch (err) {
      outcome = { name: slide.name, path: slide.path, status: 'failed', error: err instanceof Error ? err.message : String(err) };
    }
    if (options.signal?.aborted) {
      const rest = slides.length - index - (outcome.status === 'failed' ? 0 : 1);
      throw new InterruptedError(
        `${slide.path}: interrupted by ${String(options.signal.reason)} (${outcome.status === 'failed' ? 'its partial run is kept' : 'it is finished'}); ${rest} slide(s) not finished; run the same command again to resume`,
        String(options.signal.reason),
      );
    }
    // A skipped slide took no real time: leave it out of the work the ETA is estimated from.
    if (outcome.status === 'skipped') totalWeight -= weights[index]!;
    else doneWeight += weights[index]!;
    outcomes.push(outcome);
    const { status, error } = outcome;
    onEvent?.({
      kind: 'slide',
      index,
      total: slides.length,
      name: slide.name,
      status,
      error,
      seconds: (Date.now() - started) / 1000,
      overall: fractionDone(),
    });
  }
  if (options.writeReport !== false) await writeCohortOutputs(out, outcomes);
  return outcomes;
}

/** `<out>/cohort.csv` and `<out>/report.html` from the slides' outcomes, in cohort order. */
export async function writeCohortOutputs(out: string, outcomes: readonly SlideOutcome[]): Promise<void> {
  try {
    await writeCohortCsv(
      join(out, COHORT_CSV),
      outcomes.map((o) => ({ slide: o.name, measurements: o.measurements, error: o.error })),
    );
    const rows: CohortReportRow[] = outcomes.map((o) => {
      const kept = (...path: string[]) => {
        const file = join(out, o.name, ...path);
        return o.status !== 'failed' && existsSync(file) ? file : undefined;
      };
      return { ...o, thumbnail: kept(OVERLAY_DIR, THUMBNAIL), report: kept(REPORT_FILE), viewer: kept(OVERLAY_DIR, VIEWER_PAGE) };
    });
    await writeCohortReport(join(out, REPORT_FILE), rows, join(out, COHORT_CSV));
  } catch (err) {
    // Hours of per-slide work are on disk: say what each slide did, not only why the table failed.
    const each = outcomes.map((o) => `  ${o.name}: ${o.status}${o.error === undefined ? '' : `: ${o.error}`}`);
    throw new Error(`${(err as Error).message}\nthe slides (those done or skipped are complete in ${out}):\n${each.join('\n')}`, {
      cause: err,
    });
  }
}

/** One slide's outputs in `<out>/<name>/` (built in its partial folder, then renamed); throws when it fails.
 *  The one-machine cohort, a queue worker and a shard all run slides through this. */
export async function runSlide(
  slide: SlideInput,
  options: CohortOptions,
  progress: (stage: Stage, fraction: number) => void,
): Promise<SlideOutcome> {
  const { out, segmenter, settings } = options;
  const finalDir = join(out, slide.name);
  const tmp = partialDir(out, slide.name);
  const started = new Date();
  const timings: Record<string, number> = {};
  let clock = Date.now();
  const lap = (stage: Stage) => {
    timings[stage] = (Date.now() - clock) / 1000;
    clock = Date.now();
  };
  const done = { name: slide.name, path: slide.path };

  progress('hash', 0);
  if (!existsSync(slide.path)) throw new Error(missingSlide(slide.path));
  const input = await fileSha256(slide.path);
  const key: RunKey = { slideSha256: input.sha256, modelSha256: segmenter.sha256, settings };
  const previous = readManifest(finalDir);
  if (previous !== undefined && sameKey(previous, key) && existsSync(join(finalDir, MEASUREMENTS_FILE))) {
    const measurements = JSON.parse(readFileSync(join(finalDir, MEASUREMENTS_FILE), 'utf8')) as SlideMeasurements;
    return { ...done, status: 'skipped', measurements };
  }
  lap('hash');

  await mkdir(tmp, { recursive: true });
  // What a killed run was writing here (an overlay folder of thousands of tiles) must not end up in the output.
  for (const pattern of [atomicTempPattern(), FOLDER_TEMP_NAME]) removeOrphanTemps(tmp, pattern);
  const labelsPath = join(tmp, LABELS_FILE);
  const record = join(tmp, SEGMENTATION_RECORD);
  // Only what the label map depends on: a rerun with other export settings keeps it.
  const segmentationKey = {
    slide: input.sha256,
    model: segmenter.sha256,
    settings: { model: settings.model, checkpoint: settings.checkpoint, mpp: settings.mpp },
  };
  let seg = await keptSegmentation(record, labelsPath, segmentationKey);
  if (seg === undefined) {
    await rm(record, { force: true });
    seg = await segmenter.segment({
      slide: slide.path,
      labels: labelsPath,
      mpp: settings.mpp ?? undefined,
      allowUpsample: options.allowUpsample,
      signal: options.signal,
      onProgress: (d, t) => progress('segment', d / t),
    });
    if (!(seg.slideMpp > 0 && seg.labelMpp > 0)) throw new Error(`${slide.path}: the segmenter reported mpp ${JSON.stringify(seg)}`);
    await writeFileAtomic(record, JSON.stringify({ key: segmentationKey, result: seg }));
  }
  lap('segment');

  const labels = await openLabelTiff(labelsPath);
  const measurements = await measureSlide(labels, {
    mpp: seg.labelMpp,
    minObjectUm2: settings.min_object_um2,
    onProgress: (d, t) => progress('measure', d / t),
  });
  await writeMeasurementsJson(join(tmp, MEASUREMENTS_FILE), basename(slide.path), measurements);
  lap('measure');

  // Level-0 slide pixels per label pixel: labels may be made at a coarser pixel size than the scan.
  const downsample = seg.labelMpp / seg.slideMpp;
  const geojsonName = `${slide.name}.geojson`;
  const opened = OpenSlide.open(slide.path);
  try {
    const [slideWidth, slideHeight] = opened.dimensions;
    const geoLabels = settings.geojson_level === 0 ? labels : await openLabelTiff(labelsPath, settings.geojson_level);
    await writeGeoJson(geoLabels, join(tmp, geojsonName), {
      scale: downsample * geoLabels.downsample,
      slideWidth,
      slideHeight,
      onProgress: (d, t) => progress('geojson', d / t),
    });
    lap('geojson');
    // The viewer's slide layer is the scan at 2^k times its level-0 pixel size (k = 0: the scan's own pixels),
    // its class layers level k of the label map.
    const viewLabels = settings.overlay_level === 0 ? labels : await openLabelTiff(labelsPath, settings.overlay_level);
    const viewScale = 2 ** settings.overlay_level;
    const rgb = slideRgbBands(opened, viewScale, Math.ceil(slideWidth / viewScale), Math.ceil(slideHeight / viewScale));
    await writeOverlayViews(rgb, viewLabels, join(tmp, OVERLAY_DIR), {
      title: slide.name,
      mpp: seg.slideMpp * viewScale,
      labelScale: (downsample * viewLabels.downsample) / viewScale,
      details: measurementLines(measurements),
      thumbnailMax: settings.thumbnail_max,
      onProgress: (d, t) => progress('overlay', d / t),
    });
    lap('overlay');
  } finally {
    opened.close();
  }

  const manifest = newManifest({
    slide: { path: slide.path, bytes: input.bytes, sha256: input.sha256 },
    model: { id: segmenter.id, sha256: segmenter.sha256 },
    mpp: { slide: seg.slideMpp, labels: seg.labelMpp },
    label_grid: { width: labels.width, height: labels.height, stored: [labels.fileWidth, labels.fileHeight] },
    settings,
    started: started.toISOString(),
    finished: new Date().toISOString(),
    timings_s: timings,
    outputs: {
      labels: LABELS_FILE,
      geojson: geojsonName,
      measurements: MEASUREMENTS_FILE,
      viewer: `${OVERLAY_DIR}/${VIEWER_PAGE}`,
      thumbnail: `${OVERLAY_DIR}/${THUMBNAIL}`,
      report: REPORT_FILE,
    },
  });
  progress('report', 0);
  await writeSlideReport(join(tmp, REPORT_FILE), {
    name: slide.name,
    manifest,
    measurements,
    thumbnail: join(tmp, OVERLAY_DIR, THUMBNAIL),
    folder: tmp,
  });
  lap('report');
  manifest.timings_s.total = (Date.now() - started.getTime()) / 1000;
  manifest.finished = new Date().toISOString();
  await writeFileAtomic(join(tmp, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  await rm(record, { force: true });

  // The old folder (an earlier run with other inputs) is replaced whole.
  await swapFolderIn(tmp, finalDir);
  return { ...done, status: 'done', measurements };
}

/** The segmentation an interrupted run finished under the same key, if its label map is still there. */
async function keptSegmentation(record: string, labels: string, key: unknown): Promise<SegmentResult | undefined> {
  if (!existsSync(record) || !existsSync(labels)) return undefined;
  try {
    const kept = JSON.parse(await readFile(record, 'utf8')) as { key: unknown; result: SegmentResult };
    return JSON.stringify(kept.key) === JSON.stringify(key) ? kept.result : undefined;
  } catch {
    return undefined;
  }
}

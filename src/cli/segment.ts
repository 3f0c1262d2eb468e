// `mmfd segment <slide|folder|list.txt> --out <dir> [--model student|teacher] [--checkpoint <ckpt>] [--mpp <um/px>]
//   [--engine torch|onnx] [--precision fp32|int8] [--min-object-um2 20] [--geojson-level 0] [--overlay-level 0] [--thumbnail 1024]`:
// segments one slide or a cohort (slides/cohort.ts), with progress per slide and overall, and an ETA.
// Exit code 0 when every slide is done or was already done, 1 when any failed, 2 for a usage error.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatDuration } from '../progress.js';
import { COHORT_CSV, type CohortEvent, REPORT_FILE, runCohort, type SlideSegmenter } from '../slides/cohort.js';
import type { SegmentSettings } from '../slides/manifest.js';
import { DEFAULT_MIN_OBJECT_UM2 } from '../slides/measure.js';
import { PLAUSIBLE_MPP } from '../slides/mpp.js';
import { type ModelSelection, networkSegmenter } from '../slides/segmenter.js';
import { listSlides } from '../slides/slide_list.js';

const USAGE = `usage: mmfd segment <slide|folder|list.txt> --out <dir> [--model student|teacher] [--checkpoint <ckpt>] [--mpp <um/px>]
       [--engine torch|onnx] [--precision fp32|int8] [--min-object-um2 ${DEFAULT_MIN_OBJECT_UM2}] [--geojson-level 0] [--overlay-level 0] [--thumbnail 1024]`;

/** Makes the segmenter for the chosen model; tests pass their own. */
export type SegmenterFactory = (selection: ModelSelection) => Promise<SlideSegmenter>;

class UsageError extends Error {}

function number(name: string, text: string, check: (v: number) => boolean, what: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || !check(v)) throw new UsageError(`--${name} needs ${what} (got ${text})`);
  return v;
}

/**
 * Progress on stderr: one line per slide event, and the running stage with the overall fraction and ETA,
 * rewritten in place on a terminal, or printed at each new stage and every 10% of it otherwise.
 */
function progressPrinter(): (event: CohortEvent) => void {
  const start = Date.now();
  const tty = process.stderr.isTTY === true;
  let lastKey = '';
  let open = false;
  const line = (text: string) => {
    if (open) process.stderr.write('\n');
    open = false;
    process.stderr.write(`${text}\n`);
  };
  return (event) => {
    const elapsed = (Date.now() - start) / 1000;
    const overall = `overall ${(100 * event.overall).toFixed(1)}%${event.overall > 0 && event.overall < 1 ? ` ETA ${formatDuration((elapsed / event.overall) * (1 - event.overall))}` : ''}`;
    if (event.kind === 'slide') {
      const head = `[${event.index + 1}/${event.total}] ${event.name}`;
      if (event.status === 'running') line(`${head}: started`);
      else if (event.status === 'skipped') line(`${head}: skipped (finished earlier; slide, model and settings unchanged) | ${overall}`);
      else if (event.status === 'done') line(`${head}: done in ${formatDuration(event.seconds ?? 0)} | ${overall}`);
      else line(`${head}: FAILED: ${event.error} | ${overall}`);
      return;
    }
    const text = `  ${event.name}: ${event.stage} ${(100 * event.stageFraction).toFixed(0)}% | ${overall}`;
    if (tty) {
      process.stderr.write(`\r${text.padEnd(78)}`);
      open = true;
      return;
    }
    const key = `${event.index}:${event.stage}:${Math.floor(event.stageFraction * 10)}`;
    if (key !== lastKey) process.stderr.write(`${text}\n`);
    lastKey = key;
  };
}

export async function run(args: string[], makeSegmenter: SegmenterFactory = networkSegmenter): Promise<number> {
  let values: Record<string, string | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        model: { type: 'string', default: 'student' },
        checkpoint: { type: 'string' },
        mpp: { type: 'string' },
        engine: { type: 'string' },
        precision: { type: 'string' },
        'min-object-um2': { type: 'string', default: String(DEFAULT_MIN_OBJECT_UM2) },
        'geojson-level': { type: 'string', default: '0' },
        'overlay-level': { type: 'string', default: '0' },
        thumbnail: { type: 'string', default: '1024' },
      },
    }));
  } catch (err) {
    console.error(`mmfd segment: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    if (positionals.length !== 1 || values.out === undefined) throw new UsageError('give one slide, folder or list, and --out');
    const model = values.model;
    if (model !== 'student' && model !== 'teacher') throw new UsageError(`--model is student or teacher (got ${model})`);
    const { engine, precision } = values;
    if (engine !== undefined && engine !== 'torch' && engine !== 'onnx') throw new UsageError(`--engine is torch or onnx (got ${engine})`);
    if (precision !== undefined && precision !== 'fp32' && precision !== 'int8')
      throw new UsageError(`--precision is fp32 or int8 (got ${precision})`);
    const checkpoint = values.checkpoint ?? null;
    if (checkpoint !== null && !existsSync(checkpoint)) throw new UsageError(`--checkpoint ${checkpoint}: no such file`);
    const level = (name: string) => number(name, values[name]!, (v) => Number.isInteger(v) && v >= 0 && v <= 16, 'a pyramid level 0-16');
    const settings: SegmentSettings = {
      model,
      checkpoint,
      mpp:
        values.mpp === undefined
          ? null
          : number(
              'mpp',
              values.mpp,
              (v) => v >= PLAUSIBLE_MPP.min && v <= PLAUSIBLE_MPP.max,
              `microns per pixel in ${PLAUSIBLE_MPP.min}-${PLAUSIBLE_MPP.max}`,
            ),
      min_object_um2: number('min-object-um2', values['min-object-um2']!, (v) => v >= 0, 'an area >= 0 in um^2'),
      geojson_level: level('geojson-level'),
      overlay_level: level('overlay-level'),
      thumbnail_max: number('thumbnail', values.thumbnail!, (v) => Number.isInteger(v) && v >= 16, 'a size in pixels >= 16'),
    };
    let slides: ReturnType<typeof listSlides>;
    try {
      slides = listSlides(positionals[0]!);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const segmenter = await makeSegmenter({ model, checkpoint, engine, precision });
    process.stderr.write(`mmfd segment: ${slides.length} slide(s) -> ${values.out} (model ${segmenter.id})\n`);
    let outcomes: Awaited<ReturnType<typeof runCohort>>;
    try {
      outcomes = await runCohort(slides, { out: values.out, segmenter, settings, onEvent: progressPrinter() });
    } finally {
      segmenter.dispose?.();
    }
    const count = (status: string) => outcomes.filter((o) => o.status === status).length;
    const failed = count('failed');
    console.log(
      `${count('done')} done, ${count('skipped')} skipped, ${failed} failed; ${values.out}/${REPORT_FILE} and ${values.out}/${COHORT_CSV}`,
    );
    for (const o of outcomes) if (o.status === 'failed') console.log(`failed: ${o.name}: ${o.error}`);
    return failed > 0 ? 1 : 0;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`mmfd segment: ${err.message}\n${USAGE}`);
    return 2;
  }
}

// `mmfd segment <slide|folder|list.txt> --out <dir> [--model student|teacher] [--checkpoint <ckpt>] [--mpp <um/px>]
//   [--min-object-um2 20] [--geojson-level 0] [--overlay-level 0] [--thumbnail 1024]
//   [--queue <redis-url> [--attempts 3] [--retry-delay 10] | --shard i/n]`:
// segments one slide or a cohort (cohort/run.ts), with progress per slide and overall, and an ETA; or
// enqueues the cohort for `mmfd worker`s (--queue), or runs one part of it (--shard; segment_cohort.ts).
// Exit code 0 when every slide is done or was already done, 1 when any failed, 2 for a usage error.
import { existsSync } from 'node:fs';
import type { SegmentSettings } from '../cohort/manifest.js';
import { COHORT_CSV, REPORT_FILE, runCohort, type SlideSegmenter } from '../cohort/run.js';
import { type ModelSelection, networkSegmenter } from '../cohort/segmenter.js';
import { parseShard, type Shard } from '../cohort/shard.js';
import { listSlides } from '../cohort/slide_list.js';
import { interruptible, interruption } from '../interrupt.js';
import { cohortProgressPrinter } from '../progress.js';
import { DEFAULT_MIN_OBJECT_UM2 } from '../slides/export/measure.js';
import { PLAUSIBLE_MPP } from '../slides/io/mpp.js';
import { command, UsageError } from './args.js';
import { enqueueCommand, shardCommand } from './segment_cohort.js';

/** Makes the segmenter for the chosen model; tests pass their own. */
export type SegmenterFactory = (selection: ModelSelection) => Promise<SlideSegmenter>;

const SPEC = {
  name: 'segment',
  positionals: { usage: '<slide|folder|list.txt>', min: 1, max: 1 },
  options: {
    out: { type: 'string', value: '<dir>', required: true, help: 'output folder: one folder per slide, cohort.csv and report.html' },
    model: { type: 'string', value: 'student|teacher', default: 'student', help: 'which network' },
    checkpoint: { type: 'string', value: '<file>', help: "the model's trained weights (an mmfd checkpoint or a state-dict file)" },
    mpp: { type: 'string', value: '<um/px>', help: "level-0 pixel size, overriding the slide's metadata" },
    engine: {
      type: 'string',
      value: 'torch|onnx',
      help: 'libtorch or ONNX Runtime (default: ONNX Runtime for the student on the CPU when onnxruntime-node loads, else libtorch)',
    },
    precision: {
      type: 'string',
      value: 'fp32|int8',
      default: 'fp32',
      help: 'int8: dynamically quantised weights and activations (ONNX Runtime)',
    },
    'min-object-um2': {
      type: 'string',
      value: '<um2>',
      default: String(DEFAULT_MIN_OBJECT_UM2),
      help: 'objects smaller than this are left out of counts and GeoJSON',
    },
    'geojson-level': { type: 'string', value: '<k>', default: '0', help: 'pyramid level whose pixels the GeoJSON traces' },
    'overlay-level': {
      type: 'string',
      value: '<k>',
      default: '0',
      help: "the viewer halved k times: the slide at 2^k of the scan's pixels, the classes at label level k",
    },
    thumbnail: {
      type: 'string',
      value: '<px>',
      default: '1024',
      help: 'longest side of the thumbnail (a smaller overlay is not enlarged)',
    },
    queue: {
      type: 'string',
      value: '<redis-url>',
      help: 'enqueue the slides for mmfd worker processes: redis://[:password@]host:port/db, rediss:// for TLS',
    },
    attempts: { type: 'string', value: '<n>', default: '3', help: 'with --queue: runs of a slide before it ends as failed' },
    'retry-delay': { type: 'string', value: '<s>', default: '10', help: 'with --queue: seconds before the first retry (doubling)' },
    shard: { type: 'string', value: '<i/n>', help: 'run only part i of n of the cohort (Slurm arrays); then mmfd cohort report' },
    'allow-upsample': { type: 'boolean', help: "segment a slide more than 2x coarser than the network's input (upsampled)" },
  },
} as const;

/** `mmfd segment`, with the segmenter factory tests replace. */
export function segmentCommand(makeSegmenter: SegmenterFactory = networkSegmenter) {
  return command(SPEC, async (args) => {
    const out = args.required('out');
    const model = args.choice('model', ['student', 'teacher'] as const);
    const engine = args.string('engine') === undefined ? undefined : args.choice('engine', ['torch', 'onnx'] as const);
    const precision = args.choice('precision', ['fp32', 'int8'] as const);
    const checkpoint = args.string('checkpoint') ?? null;
    if (checkpoint !== null && !existsSync(checkpoint)) throw new UsageError(`--checkpoint ${checkpoint}: no such file`);
    const level = (name: 'geojson-level' | 'overlay-level') => args.number(name, { integer: true, min: 0, max: 16 }) as number;
    const settings: SegmentSettings = {
      model,
      checkpoint,
      mpp: args.number('mpp', { min: PLAUSIBLE_MPP.min, max: PLAUSIBLE_MPP.max }) ?? null,
      min_object_um2: args.number('min-object-um2', { min: 0 }) as number,
      geojson_level: level('geojson-level'),
      overlay_level: level('overlay-level'),
      thumbnail_max: args.number('thumbnail', { integer: true, min: 16 }) as number,
    };
    let slides: ReturnType<typeof listSlides>;
    try {
      slides = listSlides(args.positionals[0] as string);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const queue = args.string('queue');
    const shardText = args.string('shard');
    if (queue !== undefined && shardText !== undefined) throw new UsageError('give --queue or --shard, not both');
    const attempts = args.number('attempts', { integer: true, min: 1 }) as number;
    const retryDelayMs = 1000 * (args.number('retry-delay', { min: 0 }) as number);
    let shard: Shard | undefined;
    try {
      shard = shardText === undefined ? undefined : parseShard(shardText);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const segmenter = await makeSegmenter({ model, checkpoint, engine, precision });
    let outcomes: Awaited<ReturnType<typeof runCohort>>;
    try {
      if (queue !== undefined) return await enqueueCommand(slides, { url: queue, attempts, retryDelayMs, out, settings, segmenter });
      const allowUpsample = args.flag('allow-upsample');
      if (shard !== undefined) {
        return await shardCommand(slides, { shard, out, settings, segmenter, allowUpsample, onEvent: cohortProgressPrinter() });
      }
      process.stderr.write(`mmfd segment: ${slides.length} slide(s) -> ${out} (model ${segmenter.id})\n`);
      const ran = await interruptible(() =>
        runCohort(slides, { out, segmenter, settings, allowUpsample, signal: interruption(), onEvent: cohortProgressPrinter() }),
      );
      if (typeof ran === 'number') return ran;
      outcomes = ran;
    } finally {
      segmenter.dispose?.();
    }
    const count = (status: string) => outcomes.filter((o) => o.status === status).length;
    const failed = count('failed');
    console.log(`${count('done')} done, ${count('skipped')} skipped, ${failed} failed; ${out}/${REPORT_FILE} and ${out}/${COHORT_CSV}`);
    for (const o of outcomes) if (o.status === 'failed') console.log(`failed: ${o.name}: ${o.error}`);
    return failed > 0 ? 1 : 0;
  });
}

export const { spec, run } = segmentCommand();

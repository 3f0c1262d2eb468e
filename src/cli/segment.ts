// `mmfd segment <slide|folder|list.txt> --out <dir> [--model student|teacher] [--checkpoint <ckpt>] [--mpp <um/px>]
//   [--min-object-um2 20] [--geojson-level 0] [--overlay-level 0] [--thumbnail 1024]`:
// segments one slide or a cohort (slides/cohort.ts), with progress per slide and overall, and an ETA.
// Exit code 0 when every slide is done or was already done, 1 when any failed, 2 for a usage error.
import { existsSync } from 'node:fs';
import { cohortProgressPrinter } from '../progress.js';
import { COHORT_CSV, REPORT_FILE, runCohort, type SlideSegmenter } from '../slides/cohort.js';
import type { SegmentSettings } from '../slides/manifest.js';
import { DEFAULT_MIN_OBJECT_UM2 } from '../slides/measure.js';
import { PLAUSIBLE_MPP } from '../slides/mpp.js';
import { type ModelSelection, networkSegmenter } from '../slides/segmenter.js';
import { listSlides } from '../slides/slide_list.js';
import { command, UsageError } from './args.js';

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
    'min-object-um2': {
      type: 'string',
      value: '<um2>',
      default: String(DEFAULT_MIN_OBJECT_UM2),
      help: 'objects smaller than this are left out of counts and GeoJSON',
    },
    'geojson-level': { type: 'string', value: '<k>', default: '0', help: 'pyramid level whose pixels the GeoJSON traces' },
    'overlay-level': { type: 'string', value: '<k>', default: '0', help: 'pyramid level of the overlay viewer' },
    thumbnail: { type: 'string', value: '<px>', default: '1024', help: 'longest side of the thumbnail' },
  },
} as const;

/** `mmfd segment`, with the segmenter factory tests replace. */
export function segmentCommand(makeSegmenter: SegmenterFactory = networkSegmenter) {
  return command(SPEC, async (args) => {
    const out = args.required('out');
    const model = args.choice('model', ['student', 'teacher'] as const);
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
    const segmenter = await makeSegmenter({ model, checkpoint });
    process.stderr.write(`mmfd segment: ${slides.length} slide(s) -> ${out} (model ${segmenter.id})\n`);
    let outcomes: Awaited<ReturnType<typeof runCohort>>;
    try {
      outcomes = await runCohort(slides, { out, segmenter, settings, onEvent: cohortProgressPrinter() });
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

// `mmfd patches --slides <slide|folder|list.txt> [--annotations <file|folder>] --out <dataset> [--mpp 0.5] [--size 1024]
//   [--classes map.yaml] [--ignore-unmapped] [--min-labelled 1] [--per-class-min N] [--seed S] [--fewshot 10,20,50]
//   [--slide-mpp <um/px>] [--allow-upsample] [--force]`: QuPath GeoJSON or label images on slides to a PMFT training set.
import { ClassMap } from '../annotations/class_map.js';
import { writePatchDataset } from '../annotations/patches.js';
import { listSlides } from '../cohort/slide_list.js';
import { progressCallback } from '../progress.js';
import { PLAUSIBLE_MPP } from '../slides/io/mpp.js';
import { command, UsageError } from './args.js';

export const { spec, run } = command(
  {
    name: 'patches',
    options: {
      slides: { type: 'string', value: '<slide|folder|list.txt>', required: true, help: 'the annotated slides' },
      annotations: {
        type: 'string',
        value: '<file|folder>',
        help: 'QuPath GeoJSON or label image (one slide), or a folder of <slide stem>.geojson (default: beside each slide)',
      },
      out: { type: 'string', value: '<dir>', required: true, help: 'the PMFT dataset folder to write' },
      mpp: { type: 'string', value: '<um/px>', default: '0.5', help: 'pixel size of the patches' },
      size: { type: 'string', value: '<px>', default: '1024', help: 'patch side in pixels' },
      classes: {
        type: 'string',
        value: '<map.yaml>',
        help: "annotation class names -> mmfd classes ('Name: villi|...|region|ignore|skip')",
      },
      'ignore-unmapped': { type: 'boolean', help: 'leave out annotations of classes the map does not know, instead of stopping' },
      'min-labelled': {
        type: 'string',
        value: '<share>',
        default: '1',
        help: 'share of a patch that must lie in annotated regions; the rest is marked ignore, not background',
      },
      'per-class-min': { type: 'string', value: 'N', default: '0', help: 'add patches centred on annotations until each class shows in N' },
      seed: { type: 'string', value: 'S', default: '1', help: 'seed of the splits and of added patches' },
      fewshot: { type: 'string', value: '<P,P,...>', default: '10,20,50', help: 'few-shot percentages to write splits for (and 100)' },
      'slide-mpp': { type: 'string', value: '<um/px>', help: "the slides' level-0 pixel size, overriding their metadata" },
      'allow-upsample': { type: 'boolean', help: 'cut patches more than 2x finer than the slide (upsampled)' },
      force: { type: 'boolean', help: 'replace an existing dataset folder' },
    },
    notes: [
      "QuPath: File > Export objects as GeoJSON (annotations, 'Pretty JSON' optional); draw 'Region' annotations around what you labelled.",
    ],
  },
  async (args) => {
    const range = { min: PLAUSIBLE_MPP.min, max: PLAUSIBLE_MPP.max };
    const fewshot = (args.string('fewshot') ?? '')
      .split(',')
      .filter((t) => t.trim() !== '')
      .map((t) => {
        const v = Number(t);
        if (!(v > 0 && v <= 100)) throw new UsageError(`--fewshot needs percentages in (0, 100] (got '${t}')`);
        return v;
      });
    let slides: ReturnType<typeof listSlides>;
    try {
      slides = listSlides(args.required('slides'));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const result = await writePatchDataset({
      slides,
      annotations: args.string('annotations'),
      out: args.required('out'),
      mpp: args.number('mpp', range) as number,
      size: args.number('size', { integer: true, min: 16, max: 8192 }) as number,
      classMap: ClassMap.load(args.string('classes')),
      ignoreUnmapped: args.flag('ignore-unmapped'),
      minLabelled: args.number('min-labelled', { above: 0, max: 1 }),
      perClassMin: args.number('per-class-min', { integer: true, min: 0 }),
      seed: args.number('seed', { integer: true, min: 0 }) as number,
      fewshot,
      slideMpp: args.number('slide-mpp', range),
      allowUpsample: args.flag('allow-upsample'),
      force: args.flag('force'),
      onNote: (line) => process.stderr.write(`note: ${line}\n`),
      onProgress: progressCallback('patches: patch'),
    });
    for (const s of result.slides) {
      console.log(
        `${s.slide}: ${s.patches} patch(es) from ${s.annotations} (villus/fibrin/capillary/aggregate in ${s.perClass.join('/')})`,
      );
    }
    console.log(`dataset ${result.dir}: ${result.samples.length} patch(es) (train ${result.train.length}, val ${result.val.length})`);
    return 0;
  },
);

// `mmfd synth --out <dir> --count N --seed S [--size 1024] [--mpp UM] [--from patches|slides] [--force]`: a synthetic
// PMFT placenta dataset (images, both label layers, meta_info.json, sample list and a 70/30 split), drawn by the patch
// generator or cut from synthetic whole slides.
import { progressCallback } from '../progress.js';
import { type SyntheticSource, writeSyntheticDataset } from '../synth/patch/dataset.js';
import { command } from './args.js';

const SOURCES = ['patches', 'slides'] as const satisfies readonly SyntheticSource[];

export const { spec, run } = command(
  {
    name: 'synth',
    options: {
      out: { type: 'string', value: '<dir>', required: true, help: 'the dataset folder to write' },
      count: { type: 'string', value: 'N', required: true, help: 'number of images' },
      seed: { type: 'string', value: 'S', required: true, help: 'random seed (the same seed gives the same bytes)' },
      size: { type: 'string', value: '<px>', default: '1024', help: 'image side in pixels' },
      mpp: { type: 'string', value: '<um/px>', help: 'pixel size recorded in meta_info.json (default: the generator scale)' },
      from: { type: 'string', value: 'patches|slides', default: 'patches', help: 'draw patches, or cut them from synthetic slides' },
      force: { type: 'boolean', help: 'replace an existing dataset folder' },
    },
  },
  async (args) => {
    const result = await writeSyntheticDataset(args.required('out'), {
      count: args.requiredNumber('count', { integer: true }),
      seed: args.requiredNumber('seed', { integer: true }),
      size: args.number('size', { integer: true }) as number,
      mpp: args.number('mpp', { above: 0 }),
      source: args.choice('from', SOURCES),
      force: args.flag('force'),
      onProgress: progressCallback('synth: image'),
    });
    console.log(
      `dataset ${result.dir}: ${result.samples.length} image${result.samples.length === 1 ? '' : 's'} (train ${result.train.length}, val ${result.val.length})`,
    );
    return 0;
  },
);

// `mmfd synth --out <dir> --count N --seed S [--size 1024] [--mpp UM] [--from patches|slides] [--force]`: a synthetic
// PMFT placenta dataset (images, both label layers, meta_info.json, sample list and a 70/30 split), drawn by the patch
// generator or cut from synthetic whole slides.
import { parseArgs } from 'node:util';
import { progressCallback } from '../progress.js';
import { type SyntheticSource, writeSyntheticDataset } from '../synth/patch/dataset.js';
import { integerArg, positiveArg } from './args.js';

const USAGE = 'usage: mmfd synth --out <dir> --count N --seed S [--size 1024] [--mpp UM] [--from patches|slides] [--force]';
const SOURCES: readonly SyntheticSource[] = ['patches', 'slides'];

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string' },
      count: { type: 'string' },
      seed: { type: 'string' },
      size: { type: 'string', default: '1024' },
      mpp: { type: 'string' },
      from: { type: 'string', default: 'patches' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.out === undefined) {
    console.error(USAGE);
    return 2;
  }
  const source = values.from as SyntheticSource;
  if (!SOURCES.includes(source)) {
    console.error(`mmfd synth: --from must be one of ${SOURCES.join(', ')} (got '${values.from}')\n${USAGE}`);
    return 2;
  }
  const result = await writeSyntheticDataset(values.out, {
    count: integerArg('count', values.count, USAGE),
    seed: integerArg('seed', values.seed, USAGE),
    size: integerArg('size', values.size, USAGE),
    mpp: values.mpp === undefined ? undefined : positiveArg('mpp', values.mpp, USAGE),
    source,
    force: values.force,
    onProgress: progressCallback('synth: image'),
  });
  console.log(
    `dataset ${result.dir}: ${result.samples.length} image${result.samples.length === 1 ? '' : 's'} (train ${result.train.length}, val ${result.val.length})`,
  );
  return 0;
}

// `mmfd synth --out <dir> --count N --seed S [--size 1024] [--mpp UM] [--force]`: a synthetic PMFT placenta dataset
// (images, both label layers, meta_info.json, sample list and a 70/30 split).
import { parseArgs } from 'node:util';
import { writeSyntheticDataset } from '../data/synth/dataset.js';
import { Progress } from '../progress.js';

const USAGE = 'usage: mmfd synth --out <dir> --count N --seed S [--size 1024] [--mpp UM] [--force]';

function integer(name: string, text: string | undefined): number {
  const v = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isInteger(v))
    throw new Error(`--${name} needs an integer (got ${text ?? 'nothing'})\n${USAGE}`);
  return v;
}

function positive(name: string, text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !(v > 0)) throw new Error(`--${name} needs a positive number (got ${text})\n${USAGE}`);
  return v;
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string' },
      count: { type: 'string' },
      seed: { type: 'string' },
      size: { type: 'string', default: '1024' },
      mpp: { type: 'string' },
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
  const result = await writeSyntheticDataset(values.out, {
    count: integer('count', values.count),
    seed: integer('seed', values.seed),
    size: integer('size', values.size),
    mpp: values.mpp === undefined ? undefined : positive('mpp', values.mpp),
    force: values.force,
    onProgress: progressTo('synth: image'),
  });
  console.log(
    `dataset ${result.dir}: ${result.samples.length} image${result.samples.length === 1 ? '' : 's'} (train ${result.train.length}, val ${result.val.length})`,
  );
  return 0;
}

/** Reports (done, total) on one live progress line with an ETA. */
function progressTo(label: string): (done: number, total: number) => void {
  let progress: Progress | undefined;
  return (done, total) => {
    progress ??= new Progress(label, total, { every: Math.max(1, Math.ceil(total / 10)) });
    progress.update(done, '');
    if (done >= total) progress.end();
  };
}

// `mmfd synth-slide --out <file.tif> --width W --height H --seed S [--mpp 0.5] [--tile-size 256] [--jpeg]`:
// a synthetic placenta whole slide (tiled pyramidal BigTIFF) with its label image and class table beside it.
import { parseArgs } from 'node:util';
import { progressCallback } from '../progress.js';
import { writeSyntheticSlide } from '../synth/slide/slide.js';
import { integerArg, positiveArg } from './args.js';

const USAGE = 'usage: mmfd synth-slide --out <file.tif> --width W --height H --seed S [--mpp 0.5] [--tile-size 256] [--jpeg]';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string' },
      width: { type: 'string' },
      height: { type: 'string' },
      seed: { type: 'string' },
      mpp: { type: 'string', default: '0.5' },
      'tile-size': { type: 'string', default: '256' },
      jpeg: { type: 'boolean', default: false },
    },
  });
  if (values.out === undefined) {
    console.error(USAGE);
    return 2;
  }
  const result = await writeSyntheticSlide({
    out: values.out,
    width: integerArg('width', values.width, USAGE),
    height: integerArg('height', values.height, USAGE),
    seed: integerArg('seed', values.seed, USAGE),
    mpp: positiveArg('mpp', values.mpp, USAGE),
    tileSize: integerArg('tile-size', values['tile-size'], USAGE),
    compression: values.jpeg ? 'jpeg' : 'deflate',
    onProgress: progressCallback('synth-slide: band'),
  });
  console.log(`slide  ${result.slide}`);
  console.log(`labels ${result.labels} (bit flags, table in ${result.table})`);
  return 0;
}

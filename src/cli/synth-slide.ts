// `mmfd synth-slide --out <file.tif> --width W --height H --seed S [--mpp 0.5] [--tile-size 256] [--jpeg]`:
// a synthetic placenta whole slide (tiled pyramidal BigTIFF) with its label image and class table beside it.
import { parseArgs } from 'node:util';
import { writeSyntheticSlide } from '../data/synth_slide.js';
import { Progress } from '../progress.js';

const USAGE = 'usage: mmfd synth-slide --out <file.tif> --width W --height H --seed S [--mpp 0.5] [--tile-size 256] [--jpeg]';

function integer(name: string, text: string | undefined): number {
  const v = Number(text);
  if (text === undefined || !Number.isInteger(v)) throw new Error(`--${name} needs an integer (got ${text ?? 'nothing'})\n${USAGE}`);
  return v;
}

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
  const mpp = Number(values.mpp);
  if (!Number.isFinite(mpp)) throw new Error(`--mpp needs a number (got ${values.mpp})\n${USAGE}`);
  const result = await writeSyntheticSlide({
    out: values.out,
    width: integer('width', values.width),
    height: integer('height', values.height),
    seed: integer('seed', values.seed),
    mpp,
    tileSize: integer('tile-size', values['tile-size']),
    compression: values.jpeg ? 'jpeg' : 'deflate',
    onProgress: progressTo('synth-slide: band'),
  });
  console.log(`slide  ${result.slide}`);
  console.log(`labels ${result.labels} (bit flags, table in ${result.table})`);
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

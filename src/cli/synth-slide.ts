// `mmfd synth-slide --out <file.tif> --width W --height H --seed S [--mpp 0.5] [--tile-size 256] [--jpeg]`:
// a synthetic placenta whole slide (tiled pyramidal BigTIFF) with its label image and class table beside it.
import { parseArgs } from 'node:util';
import { writeSyntheticSlide } from '../data/synth_slide.js';

const USAGE = 'usage: mmfd synth-slide --out <file.tif> --width W --height H --seed S [--mpp 0.5] [--tile-size 256] [--jpeg]';

function integer(name: string, text: string | undefined): number {
  const v = Number(text);
  if (text === undefined || !Number.isInteger(v)) throw new Error(`--${name} needs an integer (got ${text ?? 'nothing'})\n${USAGE}`);
  return v;
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** One progress line on stderr: rewritten in place on a terminal, every 10% otherwise. */
function progressLine(): (done: number, total: number) => void {
  const start = Date.now();
  let lastTenth = -1;
  return (done, total) => {
    const elapsed = (Date.now() - start) / 1000;
    const eta = done < total ? ` ETA ${duration((elapsed / done) * (total - done))}` : ` in ${duration(elapsed)}`;
    const line = `synth-slide: band ${done}/${total} (${((100 * done) / total).toFixed(1)}%)${eta}`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${line.padEnd(60)}${done === total ? '\n' : ''}`);
    } else if (Math.floor((10 * done) / total) > lastTenth) {
      lastTenth = Math.floor((10 * done) / total);
      process.stderr.write(`${line}\n`);
    }
  };
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
    onProgress: progressLine(),
  });
  console.log(`slide  ${result.slide}`);
  console.log(`labels ${result.labels} (bit flags, table in ${result.table})`);
  return 0;
}

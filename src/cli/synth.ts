// `mmfd synth --out <dir> --count N --seed S [--size 1024] [--force]`: a synthetic PMFT placenta dataset
// (images, both label layers, meta_info.json, sample list and a 70/30 split).
import { parseArgs } from 'node:util';
import { writeSyntheticDataset } from '../data/synth/dataset.js';

const USAGE = 'usage: mmfd synth --out <dir> --count N --seed S [--size 1024] [--force]';

function integer(name: string, text: string | undefined): number {
  const v = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isInteger(v))
    throw new Error(`--${name} needs an integer (got ${text ?? 'nothing'})\n${USAGE}`);
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
    const line = `synth: image ${done}/${total} (${((100 * done) / total).toFixed(0)}%)${eta}`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${line.padEnd(50)}${done === total ? '\n' : ''}`);
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
      count: { type: 'string' },
      seed: { type: 'string' },
      size: { type: 'string', default: '1024' },
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
    force: values.force,
    onProgress: progressLine(),
  });
  console.log(
    `dataset ${result.dir}: ${result.samples.length} image${result.samples.length === 1 ? '' : 's'} (train ${result.train.length}, val ${result.val.length})`,
  );
  return 0;
}

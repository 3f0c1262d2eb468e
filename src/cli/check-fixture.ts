// `mmfd check-fixture <folder> [--device cuda]`: rebuild a reference fixture and compare every output.
import { parseArgs } from 'node:util';
import { checkFixture } from '../parity/check.js';
import '../parity/kinds.js';
import * as torch from '../torch/index.js';

const USAGE = 'usage: mmfd check-fixture <fixture-folder> [--device cpu|cuda|cuda:N]';

function device(text: string): torch.Device {
  if (text !== 'cpu' && !/^cuda(:\d+)?$/.test(text)) throw new Error(`--device must be cpu, cuda or cuda:N (got ${text})\n${USAGE}`);
  if (text !== 'cpu' && !torch.cuda.is_available()) throw new Error(`--device ${text}: this build of libtorch sees no CUDA device`);
  return text as torch.Device;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { device: { type: 'string', default: 'cpu' } }, allowPositionals: true });
  const dir = positionals[0];
  if (dir === undefined || positionals.length > 1) {
    console.error(USAGE);
    return 2;
  }
  const { kind, lines, ok } = await checkFixture(dir, device(values.device));
  console.log(`fixture ${dir} (${kind}) on ${values.device}`);
  const width = Math.max(...lines.map((l) => l.name.length), 4);
  for (const l of lines) {
    const diff = Number.isNaN(l.diff) ? '-' : l.diff.toExponential(3);
    console.log(
      `${l.ok ? 'ok  ' : 'FAIL'} ${l.name.padEnd(width)}  diff ${diff.padStart(10)}  tol ${l.tolerance}${l.note ? `  (${l.note})` : ''}`,
    );
  }
  console.log(`${ok ? 'PASS' : 'FAIL'}: ${lines.filter((l) => l.ok).length}/${lines.length} within tolerance`);
  return ok ? 0 : 1;
}

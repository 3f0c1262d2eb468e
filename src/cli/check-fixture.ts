// `mmfd check-fixture <folder> [--device cuda]`: rebuild a reference fixture and compare every output.
import { checkFixture } from '../parity/check.js';
import '../parity/kinds.js';
import * as torch from '../torch/index.js';
import { command, UsageError } from './args.js';

function device(text: string): torch.Device {
  if (text !== 'cpu' && !/^cuda(:\d+)?$/.test(text)) throw new UsageError(`--device must be cpu, cuda or cuda:N (got ${text})`);
  if (text !== 'cpu' && !torch.cuda.is_available()) throw new Error(`--device ${text}: this build of libtorch sees no CUDA device`);
  return text as torch.Device;
}

export const { spec, run } = command(
  {
    name: 'check-fixture',
    positionals: { usage: '<fixture-folder>', min: 1, max: 1 },
    options: { device: { type: 'string', value: 'cpu|cuda|cuda:N', default: 'cpu', help: 'where to run the rebuilt model' } },
  },
  async (args) => {
    const dir = args.positionals[0] as string;
    const values = { device: args.required('device') };
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
  },
);

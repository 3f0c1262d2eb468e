// `mmfd demo [--out data/demo]`: the main job on built-in data, CPU, no downloads: synthetic placenta
// patches -> tiny fused teacher -> distilled tiny student (and the student alone) -> tested -> HTML report
// (src/train/workflow.ts). A rerun resumes an interrupted demo and skips what is finished.
import { parseArgs } from 'node:util';
import { formatDuration } from '../progress.js';
import * as torch from '../torch/index.js';
import { runWorkflow, workflowThreads } from '../train/workflow.js';

const USAGE = 'usage: mmfd demo [--out <dir>] [--iterations N]';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string', default: 'data/demo' },
      // Shortens both stages (the tests use it); the tiny configs' own length otherwise.
      iterations: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const iterations = values.iterations === undefined ? undefined : Number(values.iterations);
  if (iterations !== undefined && !(Number.isInteger(iterations) && iterations > 0))
    throw new Error(`--iterations needs a positive integer (got ${values.iterations})\n${USAGE}`);
  const device = torch.cuda.is_available() ? 'CUDA' : `CPU, ${workflowThreads()} intra-op thread(s)`;
  console.log(`mmfd demo: libtorch ${torch.libtorch_version()} (${device}); output in ${values.out}`);
  const t0 = performance.now();
  const r = await runWorkflow({ out: values.out, iterations, evalEvery: iterations });
  const line = (name: string, s: typeof r.teacher) => `${name}: test mIoU ${(s.run.test.MIoU_mean_L0 as number).toFixed(3)} (${s.run.dir})`;
  console.log(line('teacher', r.teacher));
  console.log(line('student', r.student));
  console.log(line('student alone', r.studentAlone));
  console.log(`report: ${r.report} (${formatDuration((performance.now() - t0) / 1000)})`);
  return 0;
}

// `mmfd demo [--out data/demo]`: the main job on built-in data, CPU, no downloads: synthetic placenta
// patches -> tiny fused teacher -> distilled tiny student (and the student alone) -> tested -> HTML report
// (src/train/workflow.ts). A rerun resumes an interrupted demo and skips what is finished.
import { formatDuration } from '../progress.js';
import * as torch from '../torch/index.js';
import { runWorkflow, workflowThreads } from '../train/workflow.js';
import { command } from './args.js';

export const { spec, run } = command(
  {
    name: 'demo',
    options: {
      out: { type: 'string', value: '<dir>', default: 'data/demo', help: 'where the demo writes (a rerun resumes)' },
      // Shortens both stages (the tests use it); the tiny configs' own length otherwise.
      iterations: { type: 'string', value: 'N', help: "iterations of each stage (default: the tiny configs')" },
    },
  },
  async (args) => {
    const values = { out: args.required('out') };
    const iterations = args.number('iterations', { integer: true, min: 1 });
    const device = torch.cuda.is_available() ? 'CUDA' : `CPU, ${workflowThreads()} intra-op thread(s)`;
    console.log(`mmfd demo: libtorch ${torch.libtorch_version()} (${device}); output in ${values.out}`);
    const t0 = performance.now();
    const r = await runWorkflow({ out: values.out, iterations, evalEvery: iterations });
    const line = (name: string, s: typeof r.teacher) =>
      `${name}: test mIoU ${(s.run.test.MIoU_mean_L0 as number).toFixed(3)} (${s.run.dir})`;
    console.log(line('teacher', r.teacher));
    console.log(line('student', r.student));
    console.log(line('student alone', r.studentAlone));
    console.log(`report: ${r.report} (${formatDuration((performance.now() - t0) / 1000)})`);
    return 0;
  },
);

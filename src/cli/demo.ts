// `mmfd demo [--out data/demo]`: the main job on built-in data, CPU, no downloads: synthetic placenta
// patches -> tiny fused teacher -> distilled tiny student (and the student alone) -> tested -> HTML report
// (src/train/workflow.ts). A rerun resumes an interrupted demo and skips what is finished.
import { formatDuration } from '../progress.js';
import * as torch from '../torch/index.js';
import type { StageRun } from '../train/stage1.js';
import { runWorkflow, workflowThreads } from '../train/workflow.js';
import { command } from './args.js';

export const { spec, run } = command(
  {
    name: 'demo',
    options: {
      out: { type: 'string', value: '<dir>', default: 'data/demo', help: 'where the demo writes (a rerun resumes)' },
      // Shortens both stages (the tests use it); the tiny configs' own length otherwise.
      iterations: {
        type: 'string',
        value: 'N',
        help: 'iterations of each stage, the pretraining included (default: 150, pretraining 600)',
      },
      percentages: { type: 'string', value: 'P,P,..', help: 'few-shot percentages of the curve (default: 5,100)' },
    },
  },
  async (args) => {
    const values = { out: args.required('out') };
    const iterations = args.number('iterations', { integer: true, min: 1 });
    const device = torch.cuda.is_available() ? 'CUDA' : `CPU, ${workflowThreads()} intra-op thread(s)`;
    console.log(`mmfd demo: libtorch ${torch.libtorch_version()} (${device}); output in ${values.out}`);
    const t0 = performance.now();
    const percentages = args.numberList('percentages', { above: 0, max: 100 });
    const r = await runWorkflow({ out: values.out, iterations, evalEvery: iterations, percentages });
    for (const [i, perc] of r.percentages.entries()) {
      console.log(`few-shot ${perc} % (${r.patches[i]} labelled patches):`);
      for (const [name, s] of [
        ['teacher', r.teacher],
        ['student', r.student],
        ['student alone', r.studentAlone],
      ] as const) {
        const run = s.runs[i] as StageRun;
        console.log(`${name} at ${perc} %: test mIoU ${(run.test.MIoU_mean_L0 as number).toFixed(3)} (${run.dir})`);
      }
    }
    console.log(`few-shot curve: ${r.curve}`);
    console.log(`report: ${r.report} (${formatDuration((performance.now() - t0) / 1000)})`);
    return 0;
  },
);

// `mmfd demo [--out data/demo]`: the main job on built-in data, CPU, no downloads: synthetic placenta
// patches -> tiny fused teacher -> distilled tiny student (and the student alone) -> tested -> HTML report
// (src/train/workflow.ts), and a few-shot curve on pretrained encoders (fewshot_workflow.ts), trained beside them
// on the second core.
// A rerun resumes an interrupted demo and skips what is finished.
import { formatDuration } from '../progress.js';
import * as torch from '../torch/index.js';
import { DEMO_FEWSHOT_ITERATIONS, DEMO_PERCENTAGES, DEMO_PRETRAIN_ITERATIONS, fewshotMargins } from '../train/fewshot_workflow.js';
import type { StageRun } from '../train/stage1.js';
import { DEMO_TEACHER_ITERATIONS, runWorkflow, workflowThreads } from '../train/workflow.js';
import { command, UsageError } from './args.js';

export const { spec, run } = command(
  {
    name: 'demo',
    options: {
      out: { type: 'string', value: '<dir>', default: 'data/demo', help: 'where the demo writes (a rerun resumes)' },
      // Shortens all three stages (the tests use it).
      iterations: {
        type: 'string',
        value: 'N',
        help: "iterations of each stage at 100 % (default: the students' tiny configs', the teacher's below)",
      },
      'teacher-iterations': {
        type: 'string',
        value: 'N',
        help: `iterations of the teacher at 100 % (default: --iterations, else ${DEMO_TEACHER_ITERATIONS}; bench:learning trains the tiny config's longer run)`,
      },
      percentages: {
        type: 'string',
        value: 'P,P,..',
        help: `the few-shot curve's percentages of the labelled patches (default: ${DEMO_PERCENTAGES.join(',')})`,
      },
      'no-fewshot': { type: 'boolean', help: 'leave the few-shot curve out (the 100 % runs only)' },
      'fewshot-iterations': {
        type: 'string',
        value: 'N',
        help: `iterations of each few-shot stage (default: ${DEMO_FEWSHOT_ITERATIONS})`,
      },
      'pretrain-iterations': {
        type: 'string',
        value: 'N',
        help: `iterations of the encoders' pretraining (default: ${DEMO_PRETRAIN_ITERATIONS})`,
      },
    },
  },
  async (args) => {
    const values = { out: args.required('out') };
    const iterations = args.number('iterations', { integer: true, min: 1 });
    const teacherIterations = args.number('teacher-iterations', { integer: true, min: 1 }) ?? iterations ?? DEMO_TEACHER_ITERATIONS;
    const device = torch.cuda.is_available() ? 'CUDA' : `CPU, ${workflowThreads()} intra-op thread(s)`;
    console.log(`mmfd demo: libtorch ${torch.libtorch_version()} (${device}); output in ${values.out}`);
    const t0 = performance.now();
    const percentages = args.numberList('percentages', { above: 0, max: 100 });
    const fewshotIterations = args.number('fewshot-iterations', { integer: true, min: 1 });
    const pretrainIterations = args.number('pretrain-iterations', { integer: true, min: 1 });
    const noFewshot = args.flag('no-fewshot');
    if (noFewshot && (percentages || fewshotIterations !== undefined || pretrainIterations !== undefined))
      throw new UsageError(
        '--percentages, --fewshot-iterations and --pretrain-iterations set the few-shot curve, which --no-fewshot leaves out',
      );
    const fewshot = noFewshot ? undefined : { percentages, iterations: fewshotIterations, pretrainIterations };
    const r = await runWorkflow({ out: values.out, iterations, teacherIterations, evalEvery: iterations, fewshot });
    const line = (name: string, s: typeof r.teacher) =>
      `${name}: test mIoU ${(s.run.test.MIoU_mean_L0 as number).toFixed(3)} (${s.run.dir})`;
    console.log(line('teacher', r.teacher));
    console.log(line('student', r.student));
    console.log(line('student alone', r.studentAlone));
    const f = r.fewshot;
    if (f) {
      const names = { teacher: 'teacher', student: 'student', studentAlone: 'student alone' } as const;
      for (const [i, perc] of f.percentages.entries())
        for (const [key, name] of Object.entries(names) as [keyof typeof names, string][]) {
          const run = f[key].runs[i] as StageRun;
          const at = `few-shot ${perc} % (${f.patches[i]} labelled patches)`;
          console.log(`${at} ${name}: test mIoU ${(run.test.MIoU_mean_L0 as number).toFixed(3)} (${run.dir})`);
        }
      console.log(`few-shot margins: ${fewshotMargins(f)}`);
      console.log(`few-shot curve: ${f.curve}`);
    }
    console.log(`report: ${r.report} (${formatDuration((performance.now() - t0) / 1000)})`);
    return 0;
  },
);

// npm run bench:learning — does the workflow learn? The demo workflow's 100 % runs (src/train/workflow.ts:
// synthetic patches -> tiny fused teacher -> distilled tiny student; the few-shot curve is bench:fewshot's) from scratch, at
// the tiny configs' lengths (the demo's teacher is shorter: DEMO_TEACHER_ITERATIONS), scored on the
// held-out synthetic test set (synth_tiny_test, another seed). Goals (issue 5): teacher test mIoU
// >= 0.80, student >= teacher - 0.05. Writes bench/results/learning.json with the per-class scores
// and both stages' training images/s.
import { rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { FINAL_CLASSES } from '../src/data/classes.js';
import type { Summary } from '../src/eval/evaluator.js';
import * as torch from '../src/torch/index.js';
import { runWorkflow, type WorkflowStage, workflowThreads } from '../src/train/workflow.js';
import { writeBenchResult } from './results_file.js';

const root = new URL('../..', import.meta.url).pathname;
const TEACHER_GOAL = 0.8;
const STUDENT_MARGIN = 0.05;

function scores(s: Summary): { miou: number; per_class: Record<string, number> } {
  return {
    miou: s.MIoU_mean_L0 as number,
    per_class: Object.fromEntries(FINAL_CLASSES.map((c, i) => [c.display, s[`MIoU_${i}_L0`] as number])),
  };
}

function stage(s: WorkflowStage) {
  return {
    test: scores(s.run.test),
    best_validation_miou: s.run.training.best_miou,
    iterations: s.run.training.iteration,
    training_images_per_s: s.run.training.images_per_s,
    stage_seconds: s.seconds,
  };
}

async function main(): Promise<void> {
  const out = join(root, '.tmp', 'bench-learning');
  rmSync(out, { recursive: true, force: true }); // from scratch: a finished earlier run would be skipped
  const cores = availableParallelism();
  console.log(`bench:learning: the demo workflow from scratch in ${out} (${workflowThreads()} intra-op threads, ${cores} cores)`);
  const r = await runWorkflow({ out });
  const teacher = stage(r.teacher);
  const student = stage(r.student);
  const studentAlone = stage(r.studentAlone);
  const result = {
    date: new Date().toISOString(),
    machine: { cores, threads: workflowThreads(), load_average_1m: loadavg()[0], device: torch.best_device() },
    data: 'synth_tiny (140 train / 60 validation) -> test on synth_tiny_test (60 held-out images), 128 px at 1.0 um/px',
    teacher,
    student,
    // The reference's student-only baseline: the same TinyViT trained without a teacher.
    student_alone: studentAlone,
    goals: {
      teacher_miou: TEACHER_GOAL,
      student_miou: teacher.test.miou - STUDENT_MARGIN,
      teacher_met: teacher.test.miou >= TEACHER_GOAL,
      student_met: student.test.miou >= teacher.test.miou - STUDENT_MARGIN,
    },
    report: r.report,
  };
  for (const [name, s] of [
    ['teacher', teacher],
    ['student', student],
    ['student alone', studentAlone],
  ] as const) {
    const per = Object.entries(s.test.per_class)
      .map(([k, v]) => `${k} ${v.toFixed(3)}`)
      .join(', ');
    console.log(
      `${name}: test mIoU ${s.test.miou.toFixed(3)} (${per}); ${s.training_images_per_s.toFixed(1)} training images/s, ${s.stage_seconds.toFixed(0)} s`,
    );
  }
  console.log(
    `goals: teacher >= ${TEACHER_GOAL}: ${result.goals.teacher_met}; student >= teacher - ${STUDENT_MARGIN}: ${result.goals.student_met}`,
  );
  writeBenchResult('learning', result, torch.best_device());
}

await main();

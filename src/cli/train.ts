// `mmfd train --config <teacher.yaml> [--test]`: stage I, the fused teacher trained for every
// percentage in fewshot_perc_list (resuming from `last` when resume: true), then tested; --test
// only tests the trained teacher.
import { testTeacher, trainTeacher } from '../train/stage1.js';
import { runStage } from './stage_command.js';

export async function run(args: string[]): Promise<number> {
  return runStage(
    {
      command: 'train',
      task: 'multimodel2s',
      description: 'the stage I teacher',
      other: { task: 'multimodel2s_distill', hint: 'a distillation config: use mmfd distill' },
      train: trainTeacher,
      test: testTeacher,
    },
    args,
  );
}

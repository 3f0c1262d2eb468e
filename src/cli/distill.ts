// `mmfd distill --config <distill.yaml> [--test]`: stage II, the student distilled from the frozen
// stage I teacher named in network_t (resuming from `last` when resume: true), then tested; --test
// only tests the distilled student.
import { distill, testStudent } from '../train/stage2.js';
import { runStage } from './stage_command.js';

export async function run(args: string[]): Promise<number> {
  return runStage(
    {
      command: 'distill',
      task: 'multimodel2s_distill',
      description: 'the stage II distillation',
      other: { task: 'multimodel2s', hint: 'a teacher config: use mmfd train' },
      train: distill,
      test: testStudent,
    },
    args,
  );
}

// `mmfd distill --config <distill.yaml> [--test]`: stage II, the student distilled from the frozen
// stage I teacher named in network_t (resuming from `last` when resume: true), then tested; --test
// only tests the distilled student.
import { distill, testStudent } from '../train/stage2.js';
import { stageCommand } from './stage_command.js';

export const { spec, run } = stageCommand({
  command: 'distill',
  tasks: { multimodel2s_distill: { train: distill, test: testStudent } },
  description: 'the stage II distillation',
  other: { task: 'multimodel2s', hint: 'a teacher config: use mmfd train' },
});

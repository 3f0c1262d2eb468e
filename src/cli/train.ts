// `mmfd train --config <teacher.yaml> [--test]`: stage I, the fused teacher trained for every
// percentage in fewshot_perc_list (resuming from `last` when resume: true), then tested; --test
// only tests the trained teacher. A student config (task mobilesam) trains the student alone: the
// reference's student-only baseline.
import { testStudentAlone, trainStudentAlone } from '../train/baseline.js';
import { testTeacher, trainTeacher } from '../train/stage1.js';
import { stageCommand } from './stage_command.js';

export const { spec, run } = stageCommand({
  command: 'train',
  tasks: {
    multimodel2s: { train: trainTeacher, test: testTeacher },
    mobilesam: { train: trainStudentAlone, test: testStudentAlone },
  },
  description: 'the stage I teacher or the student-only baseline',
  other: { task: 'multimodel2s_distill', hint: 'a distillation config: use mmfd distill' },
});

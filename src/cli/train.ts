// `mmfd train --config <teacher.yaml> [--test]`: stage I, the fused teacher trained for every
// percentage in fewshot_perc_list (resuming from `last` when resume: true), then tested; --test
// only tests the trained teacher.
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.js';
import { str } from '../train/run_config.js';
import { testTeacher, trainTeacher } from '../train/stage1.js';

const USAGE = 'usage: mmfd train --config <teacher.yaml> [--test]';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      test: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.config === undefined) {
    console.error(USAGE);
    return 2;
  }
  const cfg = loadConfig(values.config);
  const task = str(cfg, 'task');
  if (task !== 'multimodel2s') {
    const hint = task === 'multimodel2s_distill' ? ' (a distillation config: use mmfd distill)' : '';
    throw new Error(`${values.config}: task '${task}' is not the stage I teacher 'multimodel2s'${hint}`);
  }
  if (values.test) await testTeacher(cfg, values.config);
  else {
    for (const r of await trainTeacher(cfg, values.config)) {
      const best = r.training.best_miou === null ? 'no validation' : `best validation mIoU ${r.training.best_miou.toFixed(4)}`;
      console.log(`${r.dir}: ${r.training.iteration} iterations, ${best}`);
    }
  }
  return 0;
}

// `mmfd distill --config <distill.yaml> [--test]`: stage II, the student distilled from the frozen
// stage I teacher named in network_t (resuming from `last` when resume: true), then tested; --test
// only tests the distilled student.
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.js';
import { str } from '../train/run_config.js';
import { distill, testStudent } from '../train/stage2.js';

const USAGE = 'usage: mmfd distill --config <distill.yaml> [--test]';

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
  if (task !== 'multimodel2s_distill') {
    const hint = task === 'multimodel2s' ? ' (a teacher config: use mmfd train)' : '';
    throw new Error(`${values.config}: task '${task}' is not the stage II distillation 'multimodel2s_distill'${hint}`);
  }
  if (values.test) await testStudent(cfg, values.config);
  else {
    for (const r of await distill(cfg, values.config)) {
      const best = r.training.best_miou === null ? 'no validation' : `best validation mIoU ${r.training.best_miou.toFixed(4)}`;
      console.log(`${r.dir}: ${r.training.iteration} iterations, ${best}`);
    }
  }
  return 0;
}

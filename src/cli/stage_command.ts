// What `mmfd train` and `mmfd distill` share: arguments, the task check, train-or-test, the summary.
import { parseArgs } from 'node:util';
import { type ConfigTree, loadConfig } from '../config/index.js';
import { str } from '../train/run_config.js';
import type { StageRun } from '../train/stage1.js';

export interface Stage {
  command: string;
  /** The config `task` this stage runs, and what to say for the other stage's task. */
  task: string;
  description: string;
  other: { task: string; hint: string };
  train(cfg: ConfigTree, source: string): Promise<StageRun[]>;
  test(cfg: ConfigTree, source: string): Promise<unknown>;
}

export async function runStage(stage: Stage, args: string[]): Promise<number> {
  const usage = `usage: mmfd ${stage.command} --config <yaml> [--test]`;
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      test: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (values.config === undefined) {
    console.error(usage);
    return 2;
  }
  const cfg = loadConfig(values.config);
  const task = str(cfg, 'task');
  if (task !== stage.task) {
    const hint = task === stage.other.task ? ` (${stage.other.hint})` : '';
    throw new Error(`${values.config}: task '${task}' is not ${stage.description} '${stage.task}'${hint}`);
  }
  if (values.test) await stage.test(cfg, values.config);
  else {
    for (const r of await stage.train(cfg, values.config)) {
      const best = r.training.best_miou === null ? 'no validation' : `best validation mIoU ${r.training.best_miou.toFixed(4)}`;
      console.log(`${r.dir}: ${r.training.iteration} iterations, ${best}`);
    }
  }
  return 0;
}

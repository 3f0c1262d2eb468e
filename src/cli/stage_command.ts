// What `mmfd train` and `mmfd distill` share: arguments, the task check, train-or-test, the summary.
import { parseArgs } from 'node:util';
import { type Config, loadConfig } from '../config/index.js';
import type { StageRun } from '../train/stage1.js';

export interface Stage {
  command: string;
  /** What the command runs for each config `task` it accepts, and what to say for the other stage's task. */
  tasks: Readonly<Record<string, StageTask>>;
  description: string;
  other: { task: string; hint: string };
}

export interface StageTask {
  train(cfg: Config, source: string): Promise<StageRun[]>;
  test(cfg: Config, source: string): Promise<unknown>;
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
  const task = cfg.task;
  const run = stage.tasks[task];
  if (run === undefined) {
    const hint = task === stage.other.task ? ` (${stage.other.hint})` : '';
    const known = Object.keys(stage.tasks).map((t) => `'${t}'`);
    throw new Error(`${values.config}: task '${task}' is not ${stage.description} ${known.join(' or ')}${hint}`);
  }
  if (values.test) await run.test(cfg, values.config);
  else {
    for (const r of await run.train(cfg, values.config)) {
      const best = r.training.best_miou === null ? 'no validation' : `best validation mIoU ${r.training.best_miou.toFixed(4)}`;
      console.log(`${r.dir}: ${r.training.iteration} iterations, ${best}`);
    }
  }
  return 0;
}

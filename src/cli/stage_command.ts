// What `mmfd train` and `mmfd distill` share: arguments, the task check, train-or-test, the summary.
import { type ConfigTree, loadConfig } from '../config/index.js';
import { str } from '../train/run_config.js';
import type { StageRun } from '../train/stage1.js';
import { command } from './args.js';

export interface Stage {
  command: string;
  /** What the command runs for each config `task` it accepts, and what to say for the other stage's task. */
  tasks: Readonly<Record<string, StageTask>>;
  description: string;
  other: { task: string; hint: string };
}

export interface StageTask {
  train(cfg: ConfigTree, source: string): Promise<StageRun[]>;
  test(cfg: ConfigTree, source: string): Promise<unknown>;
}

/** The `mmfd train` / `mmfd distill` command for `stage`. */
export function stageCommand(stage: Stage) {
  return command(
    {
      name: stage.command,
      options: {
        config: { type: 'string', value: '<yaml>', required: true, help: 'the reference-format config' },
        test: { type: 'boolean', help: 'only test the trained checkpoints' },
      },
    },
    async (args) => {
      const values = { config: args.required('config'), test: args.flag('test') };
      const cfg = loadConfig(values.config);
      const task = str(cfg, 'task');
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
    },
  );
}

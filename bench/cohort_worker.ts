// bench:cohort's model in a process of its own: the tiny slide student (configs/tiny-mobilesam-slides.yaml)
// with fixed random weights, whose speed is a trained one's. node dist/bench/cohort_worker.js worker|segment
// <args>: `mmfd worker` or `mmfd segment` with that model.
import { join } from 'node:path';
import { segmentCommand } from '../src/cli/segment.js';
import { workerCommand } from '../src/cli/worker.js';
import { networkSegmenter } from '../src/cohort/segmenter.js';
import { loadPredictor } from '../src/slides/pipeline/predictor.js';

const config = join(new URL('../..', import.meta.url).pathname, 'configs', 'tiny-mobilesam-slides.yaml');
const [name, ...args] = process.argv.slice(2);
const command = (name === 'worker' ? workerCommand : segmentCommand)((selection) =>
  networkSegmenter(selection, (choice) => loadPredictor({ ...choice, config, randomSeed: 1 })),
);
process.exitCode = await command.run(args);

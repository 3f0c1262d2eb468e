// bench:cohort's model in a process of its own: the tiny slide student (configs/tiny-mobilesam-slides.yaml)
// with fixed random weights, whose speed is a trained one's. node dist/bench/cohort_worker.js worker|segment
// <args>: `mmfd worker` or `mmfd segment` with that model.
import { join } from 'node:path';
import { loadPredictor } from '../src/slides/predictor.js';
import { networkSegmenter } from '../src/slides/segmenter.js';

const config = join(new URL('../..', import.meta.url).pathname, 'configs', 'tiny-mobilesam-slides.yaml');
const [command, ...args] = process.argv.slice(2);
const cli = command === 'worker' ? await import('../src/cli/worker.js') : await import('../src/cli/segment.js');
process.exitCode = await cli.run(args, (selection) =>
  networkSegmenter(selection, (choice) => loadPredictor({ ...choice, config, randomSeed: 1 })),
);

// `mmfd segment` or `mmfd worker` in a process of its own with the ground-truth stand-in model
// (truth_segmenter.ts): node dist/test/helpers/truth_cli.js segment|worker <args>. MMFD_TEST_LOG and
// MMFD_TEST_HANG set the stand-in's hooks.
import { segmentCommand } from '../../src/cli/segment.js';
import { workerCommand } from '../../src/cli/worker.js';
import { truthSegmenter } from './truth_segmenter.js';

const [name, ...args] = process.argv.slice(2);
const segmenter = truthSegmenter({ log: process.env.MMFD_TEST_LOG, hang: process.env.MMFD_TEST_HANG });
const command = (name === 'worker' ? workerCommand : segmentCommand)(async () => segmenter);
process.exitCode = await command.run(args);

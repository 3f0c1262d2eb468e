// `mmfd segment` or `mmfd worker` in a process of its own with the ground-truth stand-in model
// (truth_segmenter.ts): node dist/test/helpers/truth_cli.js segment|worker <args>. MMFD_TEST_LOG and
// MMFD_TEST_HANG set the stand-in's hooks.
import { truthSegmenter } from './truth_segmenter.js';

const [command, ...args] = process.argv.slice(2);
const cli = command === 'worker' ? await import('../../src/cli/worker.js') : await import('../../src/cli/segment.js');
const segmenter = truthSegmenter({ log: process.env.MMFD_TEST_LOG, hang: process.env.MMFD_TEST_HANG });
process.exitCode = await cli.run(args, async () => segmenter);

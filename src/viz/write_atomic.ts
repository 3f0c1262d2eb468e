// The atomic write is torch/io/files.ts's; this re-export only serves the modules not yet pointed there
// (cohort.ts, config/derive.ts, cli/visualize.ts) and goes when they are.
export { writeFileAtomic } from '../torch/io/files.js';

// mmfd's public entry point: `import { torch, models, synth, slides, cohort } from 'mmfd'`. One namespace per role;
// each lists its public names in its folder's index.ts, and nothing else is part of the API.
export * as cohort from './cohort/index.js';
export * as config from './config/index.js';
export * as data from './data/index.js';
export * as evaluate from './eval/index.js';
export * as models from './models/index.js';
export * as slides from './slides/index.js';
export * as synth from './synth/index.js';
export * as torch from './torch/index.js';
export * as train from './train/index.js';

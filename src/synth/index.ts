// The synthetic placenta as library users see it (`import { synth } from 'mmfd'`): one patch in memory, a PMFT
// dataset on disk, a whole slide with its exact labels.

export { LABEL_CLASSES } from '../data/classes.js';
export { type SyntheticDatasetOptions, writeSyntheticDataset } from './patch/dataset.js';
export { type SynthPatch, synthesizePatch } from './patch/placenta.js';
export { labelPaths, type SynthSlideOptions, type SynthSlideResult, writeSyntheticSlide } from './slide/slide.js';

// The synthetic placenta as library users see it (`import { synth } from 'mmfd'`): one patch in memory, a PMFT
// dataset on disk, a whole slide with its exact labels.

export { type SyntheticDatasetOptions, writeSyntheticDataset } from '../data/synth/dataset.js';
export { type SynthPatch, synthesizePatch } from '../data/synth/placenta.js';
export { LABEL_CLASSES, labelPaths, type SynthSlideOptions, type SynthSlideResult, writeSyntheticSlide } from '../data/synth_slide.js';

// PMFT data as library users see it (`import { data } from 'mmfd'`): the class table, datasets by name or
// folder, and the batch loader a config describes.

export { lookupDataset } from './catalog.js';
export { FINAL_CLASSES, type FinalClass, LABEL_BITS, LABEL_CLASSES } from './classes.js';
export { type Batch, DataLoader, type LoaderOptions, loaderFromConfig } from './loader.js';
export { PmftDataset } from './pmft.js';

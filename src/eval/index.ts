// Evaluation as library users see it (`import { evaluate } from 'mmfd'`): the reference's per-image scores
// and summary, exact surface distances, and the result tables.
export { hausdorffDistance, hd95, type Mask } from './distance.js';
export { Evaluator, type EvaluatorOptions, type Summary } from './evaluator.js';
export { type ImageScores, imageScores, iouScores, probabilities } from './metrics.js';
export { resultTable, writeReport as writeResultTables } from './report.js';

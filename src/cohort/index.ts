// Cohorts as library users see them (`import { cohort } from 'mmfd'`): a list of slides segmented on one
// machine with every export, resumable through each slide's manifest.

export { type CohortOptions, runCohort, type SlideOutcome } from './run.js';
export { listSlides } from './slide_list.js';

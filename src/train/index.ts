// Training as library users see it (`import { train } from 'mmfd'`): the reference's stages, each taking a
// loaded config and the config's path (for messages), and the tiny end-to-end workflow.
export { testStudentAlone, trainStudentAlone } from './baseline.js';
export { type StageRun, testTeacher, trainTeacher } from './stage1.js';
export { distill, testStudent } from './stage2.js';
export { runWorkflow, TINY_CONFIGS, type WorkflowOptions, type WorkflowResult } from './workflow.js';

// The networks as library users see them (`import { models } from 'mmfd'`): built from a config, with the
// reference's state-dict keys, so its checkpoints load unchanged.
export { buildForConfig, buildStudent, buildTeacher } from './build.js';
export { Student, type StudentOptions, type StudentOutput } from './student.js';
export { LoRAMultiModelSeg, MultiModelSeg, type MultiModelSegOptions, type MultiModelSegOutput } from './teacher.js';

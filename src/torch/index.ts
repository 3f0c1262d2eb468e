// The engine as TS users see it: `import * as torch from './torch/index.js'`, then torch.zeros,
// torch.nn.Linear, torch.nn.functional.conv2d, torch.optim.AdamW, ... as in PyTorch.
import { availableParallelism } from 'node:os';
import { set_num_threads } from './ops.js';

export * from './creation.js';
export { Derived } from './derived.js';
export * from './dtype.js';
export * as io from './io/index.js';
export * as nn from './nn/index.js';
export * from './ops.js';
export * as optim from './optim/index.js';
export { dispose, pipe, tidy } from './scope.js';
export { callOp, type Device, Generator, op, opSchema, type Shape, Tensor } from './tensor.js';

/** Intra-op threads: MMFD_NUM_THREADS if set, else every core (libtorch's own default is physical cores). */
function defaultThreads(): number {
  const env = process.env.MMFD_NUM_THREADS;
  if (env === undefined || env === '') return availableParallelism();
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) throw new Error(`MMFD_NUM_THREADS must be a positive integer, got '${env}'`);
  return n;
}
set_num_threads(defaultThreads());

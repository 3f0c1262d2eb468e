// torch.optim: optimizers, learning-rate schedules and gradient clipping, as in PyTorch.
export { Adam, type AdamOptions, AdamW } from './adam.js';
export { clip_grad_norm_ } from './clip_grad.js';
export {
  type HasParamGroups,
  LambdaLR,
  LRScheduler,
  type SchedulerState,
  WarmupCosine,
  type WarmupCosineOptions,
} from './lr_scheduler.js';
export {
  type GroupOptions,
  type JsonValue,
  Optimizer,
  type OptimizerMeta,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInit,
  type ParamState,
} from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';

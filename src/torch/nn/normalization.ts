import { ones, tensor, zeros } from '../creation.js';
import { no_grad } from '../ops.js';
import { tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';
import * as F from './functional.js';
import { Module, Parameter } from './module.js';

/** Batch normalisation over [N, C, H, W]: batch statistics when training (updating the running
 *  ones), running statistics in eval mode. */
export class BatchNorm2d extends Module {
  weight: Parameter | undefined;
  bias: Parameter | undefined;
  readonly running_mean: Tensor | undefined;
  readonly running_var: Tensor | undefined;
  readonly num_batches_tracked: Tensor | undefined;

  constructor(
    readonly num_features: number,
    readonly eps = 1e-5,
    readonly momentum = 0.1,
    affine = true,
    readonly track_running_stats = true,
  ) {
    super();
    this.weight = affine ? tidy(() => new Parameter(ones([num_features]))) : undefined;
    this.bias = affine ? tidy(() => new Parameter(zeros([num_features]))) : undefined;
    if (track_running_stats) {
      this.running_mean = this.register_buffer('running_mean', zeros([num_features]));
      this.running_var = this.register_buffer('running_var', ones([num_features]));
      this.num_batches_tracked = this.register_buffer('num_batches_tracked', tensor(0, { dtype: 'int64' }));
    }
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4) throw new Error(`BatchNorm2d: expected a 4-D input [N, C, H, W], got [${x.shape.join(', ')}]`);
    const useBatchStats = this.training || !this.track_running_stats;
    if (this.training && this.num_batches_tracked) {
      const counter = this.num_batches_tracked;
      no_grad(() => counter.add_(1));
    }
    return F.batch_norm(x, this.running_mean, this.running_var, this.weight, this.bias, useBatchStats, this.momentum, this.eps);
  }
}

/** Layer normalisation over the trailing normalized_shape dims. */
export class LayerNorm extends Module {
  weight: Parameter | undefined;
  bias: Parameter | undefined;
  readonly normalized_shape: number[];

  constructor(
    normalized_shape: number | number[],
    readonly eps = 1e-5,
    elementwise_affine = true,
  ) {
    super();
    this.normalized_shape = typeof normalized_shape === 'number' ? [normalized_shape] : normalized_shape;
    this.weight = elementwise_affine ? tidy(() => new Parameter(ones(this.normalized_shape))) : undefined;
    this.bias = elementwise_affine ? tidy(() => new Parameter(zeros(this.normalized_shape))) : undefined;
  }

  forward(x: Tensor): Tensor {
    return F.layer_norm(x, this.normalized_shape, this.weight, this.bias, this.eps);
  }
}

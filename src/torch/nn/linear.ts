import { tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';
import * as F from './functional.js';
import { reset_linear_like, uninitialized } from './init.js';
import { Module, Parameter } from './module.js';

/** y = x W^T + b. weight [out_features, in_features]. */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | undefined;

  constructor(
    readonly in_features: number,
    readonly out_features: number,
    bias = true,
  ) {
    super();
    [this.weight, this.bias] = tidy(() => {
      const w = new Parameter(uninitialized([out_features, in_features]));
      const b = bias ? new Parameter(uninitialized([out_features])) : undefined;
      reset_linear_like(w, b, in_features);
      return [w, b];
    });
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}

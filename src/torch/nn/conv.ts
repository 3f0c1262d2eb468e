import { tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';
import * as F from './functional.js';
import { reset_linear_like, uninitialized } from './init.js';
import { Module, Parameter } from './module.js';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

/** What Conv2d and ConvTranspose2d share (PyTorch's _ConvNd): hyperparameters, weight, bias, init. */
abstract class ConvBase extends Module {
  weight: Parameter;
  bias: Parameter | undefined;
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly in_channels: number,
    readonly out_channels: number,
    kernel_size: Pair,
    o: Conv2dOptions,
    transposed: boolean,
  ) {
    super();
    this.stride = pair(o.stride ?? 1);
    this.padding = pair(o.padding ?? 0);
    this.dilation = pair(o.dilation ?? 1);
    this.groups = o.groups ?? 1;
    if (in_channels % this.groups || out_channels % this.groups) {
      throw new Error(`${this.constructor.name}: channels ${in_channels}->${out_channels} are not divisible by groups ${this.groups}`);
    }
    const [kh, kw] = pair(kernel_size);
    // weight [out, in/groups, kh, kw]; transposed: [in, out/groups, kh, kw]. PyTorch takes fan_in from
    // weight.shape[1] * kernel in both cases.
    const shape = transposed ? [in_channels, out_channels / this.groups, kh, kw] : [out_channels, in_channels / this.groups, kh, kw];
    [this.weight, this.bias] = tidy(() => {
      const w = new Parameter(uninitialized(shape));
      const b = o.bias === false ? undefined : new Parameter(uninitialized([out_channels]));
      reset_linear_like(w, b, (shape[1] as number) * kh * kw);
      return [w, b];
    });
  }
}

/** 2-D convolution. weight [out, in/groups, kh, kw]. */
export class Conv2d extends ConvBase {
  constructor(in_channels: number, out_channels: number, kernel_size: Pair, o: Conv2dOptions = {}) {
    super(in_channels, out_channels, kernel_size, o, false);
  }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}

/** Transposed 2-D convolution. weight [in, out/groups, kh, kw], as in PyTorch. */
export class ConvTranspose2d extends ConvBase {
  readonly output_padding: [number, number];

  constructor(in_channels: number, out_channels: number, kernel_size: Pair, o: Conv2dOptions & { output_padding?: Pair } = {}) {
    super(in_channels, out_channels, kernel_size, o, true);
    this.output_padding = pair(o.output_padding ?? 0);
  }

  forward(x: Tensor): Tensor {
    return F.conv_transpose2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      output_padding: this.output_padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}

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

/** 2-D convolution. weight [out, in/groups, kh, kw]. */
export class Conv2d extends Module {
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
    o: Conv2dOptions = {},
  ) {
    super();
    this.stride = pair(o.stride ?? 1);
    this.padding = pair(o.padding ?? 0);
    this.dilation = pair(o.dilation ?? 1);
    this.groups = o.groups ?? 1;
    if (in_channels % this.groups || out_channels % this.groups) {
      throw new Error(`Conv2d: channels ${in_channels}->${out_channels} are not divisible by groups ${this.groups}`);
    }
    const [kh, kw] = pair(kernel_size);
    [this.weight, this.bias] = tidy(() => {
      const w = new Parameter(uninitialized([out_channels, in_channels / this.groups, kh, kw]));
      const b = o.bias === false ? undefined : new Parameter(uninitialized([out_channels]));
      reset_linear_like(w, b, (in_channels / this.groups) * kh * kw);
      return [w, b];
    });
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
export class ConvTranspose2d extends Module {
  weight: Parameter;
  bias: Parameter | undefined;
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly output_padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly in_channels: number,
    readonly out_channels: number,
    kernel_size: Pair,
    o: Conv2dOptions & { output_padding?: Pair } = {},
  ) {
    super();
    this.stride = pair(o.stride ?? 1);
    this.padding = pair(o.padding ?? 0);
    this.output_padding = pair(o.output_padding ?? 0);
    this.dilation = pair(o.dilation ?? 1);
    this.groups = o.groups ?? 1;
    const [kh, kw] = pair(kernel_size);
    [this.weight, this.bias] = tidy(() => {
      const w = new Parameter(uninitialized([in_channels, out_channels / this.groups, kh, kw]));
      const b = o.bias === false ? undefined : new Parameter(uninitialized([out_channels]));
      // PyTorch computes fan_in from weight.shape[1] * kernel for transposed convs too.
      reset_linear_like(w, b, (out_channels / this.groups) * kh * kw);
      return [w, b];
    });
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

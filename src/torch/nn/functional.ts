// torch.nn.functional: pure functions over tensors, each one ATen operator (or a short composition).
import { op, type Tensor } from '../tensor.js';

type Pair = number | [number, number];
export type Reduction = 'none' | 'mean' | 'sum';
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

export function linear(input: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  return op('linear', input, weight, bias);
}

export interface ConvOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor, o: ConvOptions = {}): Tensor {
  return op('conv2d', input, weight, bias, o.stride ?? 1, o.padding ?? 0, o.dilation ?? 1, o.groups ?? 1);
}

export function conv_transpose2d(input: Tensor, weight: Tensor, bias?: Tensor, o: ConvOptions & { output_padding?: Pair } = {}): Tensor {
  return op(
    'conv_transpose2d.input',
    input,
    weight,
    bias,
    o.stride ?? 1,
    o.padding ?? 0,
    o.output_padding ?? 0,
    o.groups ?? 1,
    o.dilation ?? 1,
  );
}

export interface PoolOptions {
  stride?: Pair;
  padding?: Pair;
  ceil_mode?: boolean;
}

export function max_pool2d(input: Tensor, kernel_size: Pair, o: PoolOptions & { dilation?: Pair } = {}): Tensor {
  return op('max_pool2d', input, kernel_size, o.stride ?? kernel_size, o.padding ?? 0, o.dilation ?? 1, o.ceil_mode ?? false);
}

export function avg_pool2d(input: Tensor, kernel_size: Pair, o: PoolOptions & { count_include_pad?: boolean } = {}): Tensor {
  return op('avg_pool2d', input, kernel_size, o.stride ?? kernel_size, o.padding ?? 0, o.ceil_mode ?? false, o.count_include_pad ?? true);
}

export function adaptive_avg_pool2d(input: Tensor, output_size: Pair): Tensor {
  return op('adaptive_avg_pool2d', input, output_size);
}

export function layer_norm(input: Tensor, normalized_shape: readonly number[], weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  return op('layer_norm', input, [...normalized_shape], weight, bias, eps);
}

/**
 * Batch normalisation. In training it normalises with the batch statistics and updates the running
 * ones in place (momentum as PyTorch: new = (1 - m) * old + m * batch, unbiased batch variance).
 */
export function batch_norm(
  input: Tensor,
  running_mean: Tensor | undefined,
  running_var: Tensor | undefined,
  weight?: Tensor,
  bias?: Tensor,
  training = false,
  momentum = 0.1,
  eps = 1e-5,
): Tensor {
  return op('batch_norm', input, weight, bias, running_mean, running_var, training, momentum, eps, false);
}

export function group_norm(input: Tensor, num_groups: number, weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  return op('group_norm', input, num_groups, weight, bias, eps);
}

export function softmax(input: Tensor, dim: number): Tensor {
  return op('softmax.int', input, dim);
}
export function log_softmax(input: Tensor, dim: number): Tensor {
  return op('log_softmax.int', input, dim);
}

/** GELU, exact (erf) by default or the tanh approximation. */
export function gelu(input: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  return op('gelu', input, approximate);
}
export function relu(input: Tensor): Tensor {
  return op('relu', input);
}
export function sigmoid(input: Tensor): Tensor {
  return op('sigmoid', input);
}
export function tanh(input: Tensor): Tensor {
  return op('tanh', input);
}
export function silu(input: Tensor): Tensor {
  return op('silu', input);
}
export function erf(input: Tensor): Tensor {
  return op('erf', input);
}
export function leaky_relu(input: Tensor, negative_slope = 0.01): Tensor {
  return op('leaky_relu', input, negative_slope);
}

export interface InterpolateOptions {
  size?: Pair;
  scale_factor?: Pair;
  mode?: 'nearest' | 'bilinear';
  align_corners?: boolean;
}

/** Resizes NCHW maps, as F.interpolate (nearest: PyTorch's legacy 'nearest'; bilinear without antialias). */
export function interpolate(input: Tensor, o: InterpolateOptions): Tensor {
  if ((o.size === undefined) === (o.scale_factor === undefined)) {
    throw new Error('interpolate: give exactly one of size and scale_factor');
  }
  const size = o.size === undefined ? undefined : typeof o.size === 'number' ? [o.size, o.size] : o.size;
  const scale =
    o.scale_factor === undefined ? undefined : typeof o.scale_factor === 'number' ? [o.scale_factor, o.scale_factor] : o.scale_factor;
  const mode = o.mode ?? 'nearest';
  if (mode === 'nearest') {
    if (o.align_corners !== undefined) throw new Error('interpolate: align_corners only applies to bilinear');
    return op('upsample_nearest2d.vec', input, size, scale);
  }
  return op('upsample_bilinear2d.vec', input, size, o.align_corners ?? false, scale);
}

/** Constant padding; pad lists (left, right, top, bottom, ...) from the last dim backwards, as F.pad. */
export function pad(input: Tensor, padding: readonly number[], value = 0): Tensor {
  return op('constant_pad_nd', input, [...padding], value);
}

/** Zeroes elements with probability p and scales the rest by 1/(1-p) when training; identity otherwise. */
export function dropout(input: Tensor, p = 0.5, training = true): Tensor {
  if (p < 0 || p > 1) throw new RangeError(`dropout: p must be in [0, 1], got ${p}`);
  return op('dropout', input, p, training);
}

export function embedding(input: Tensor, weight: Tensor, padding_idx = -1): Tensor {
  return op('embedding', weight, input, padding_idx, false, false);
}

export function binary_cross_entropy_with_logits(
  input: Tensor,
  target: Tensor,
  o: { weight?: Tensor; pos_weight?: Tensor; reduction?: Reduction } = {},
): Tensor {
  return op('binary_cross_entropy_with_logits', input, target, o.weight, o.pos_weight, REDUCTION[o.reduction ?? 'mean']);
}

export function mse_loss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return op('mse_loss', input, target, REDUCTION[reduction]);
}

export function pixel_shuffle(input: Tensor, upscale_factor: number): Tensor {
  return op('pixel_shuffle', input, upscale_factor);
}

/** Extracts sliding local blocks (im2col), as F.unfold. */
export function unfold(input: Tensor, kernel_size: Pair, o: { dilation?: Pair; padding?: Pair; stride?: Pair } = {}): Tensor {
  return op('im2col', input, kernel_size, o.dilation ?? 1, o.padding ?? 0, o.stride ?? 1);
}

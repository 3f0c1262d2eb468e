// Parameter initialisation as torch.nn.init, drawing from the global generator (torch.manual_seed),
// so a module built after the same seed starts from the same numbers as in PyTorch.
import { empty } from '../creation.js';
import { no_grad } from '../ops.js';
import type { Tensor } from '../tensor.js';

/** fan_in and fan_out of a weight [out, in, ...kernel], as torch.nn.init._calculate_fan_in_and_fan_out. */
export function fans(shape: readonly number[]): { fan_in: number; fan_out: number } {
  if (shape.length < 2) throw new Error('fans: a weight needs at least 2 dims');
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fan_in: (shape[1] as number) * receptive, fan_out: (shape[0] as number) * receptive };
}

export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  return no_grad(() => t.uniform_(a, b));
}
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  return no_grad(() => t.normal_(mean, std));
}
export function zeros_(t: Tensor): Tensor {
  return no_grad(() => t.zero_());
}
export function ones_(t: Tensor): Tensor {
  return no_grad(() => t.fill_(1));
}
export function constant_(t: Tensor, value: number): Tensor {
  return no_grad(() => t.fill_(value));
}

/** kaiming_uniform_ with leaky-ReLU gain for slope a (a = sqrt(5) is PyTorch's Linear/Conv default). */
export function kaiming_uniform_(t: Tensor, a = 0): Tensor {
  const gain = Math.sqrt(2 / (1 + a * a));
  const bound = gain * Math.sqrt(3 / fans(t.shape).fan_in);
  return uniform_(t, -bound, bound);
}

export function xavier_uniform_(t: Tensor, gain = 1): Tensor {
  const { fan_in, fan_out } = fans(t.shape);
  const bound = gain * Math.sqrt(6 / (fan_in + fan_out));
  return uniform_(t, -bound, bound);
}

/** An uninitialised float32 tensor, for modules to fill with one of the initialisers above. */
export function uninitialized(shape: readonly number[]): Tensor {
  return empty(shape);
}

/** PyTorch's default init for Linear/Conv weight and bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export function reset_linear_like(weight: Tensor, bias: Tensor | undefined, fan_in: number): void {
  kaiming_uniform_(weight, Math.sqrt(5));
  if (bias) {
    const bound = fan_in > 0 ? 1 / Math.sqrt(fan_in) : 0;
    uniform_(bias, -bound, bound);
  }
}

// ONNX emitters for the engine's building blocks (src/torch/nn and the shared model blocks): each adds
// the nodes its module's eval-mode forward runs, with the module's weights as initializers.
import type { LayerNorm2d } from '../models/common.js';
import type { Conv2dBN } from '../models/tinyvit/conv2d_bn.js';
import * as torch from '../torch/index.js';
import { float, type Graph, int, ints } from './graph.js';

type Tensor = torch.Tensor;

/** A tensor's values as an initializer (float32 on the CPU, C order). */
export function weight(g: Graph, hint: string, t: Tensor): string {
  return torch.tidy(() => {
    const c = t.detach().to({ dtype: 'float32', device: 'cpu' }).contiguous();
    return g.init(hint, c.toTypedArray() as Float32Array, c.shape);
  });
}

/** x @ W^T + b over the last dim, as nn.Linear. */
export function linear(g: Graph, m: torch.nn.Linear, x: string, hint: string): string {
  const w = torch.tidy(() => weight(g, `${hint}.weight_t`, m.weight.t()));
  const y = g.op('MatMul', [x, w]);
  return m.bias ? g.op('Add', [y, weight(g, `${hint}.bias`, m.bias)]) : y;
}

export function layerNorm(g: Graph, m: torch.nn.LayerNorm, x: string, hint: string): string {
  if (!m.weight || !m.bias) throw new Error(`${hint}: LayerNorm without affine weights is not exported`);
  const axis = -m.normalized_shape.length;
  return g.op('LayerNormalization', [x, weight(g, `${hint}.weight`, m.weight), weight(g, `${hint}.bias`, m.bias)], {
    axis: int(axis),
    epsilon: float(m.eps),
  });
}

/** SAM's LayerNorm2d over the channels of NCHW, as its forward computes it (mean, biased variance). */
export function layerNorm2d(g: Graph, m: LayerNorm2d, x: string, hint: string): string {
  const u = g.op('ReduceMean', [x], { axes: ints([1]), keepdims: int(1) });
  const d = g.op('Sub', [x, u]);
  const s = g.op('ReduceMean', [g.op('Mul', [d, d])], { axes: ints([1]), keepdims: int(1) });
  const y = g.op('Div', [d, g.op('Sqrt', [g.op('Add', [s, g.scalar(m.eps)])])]);
  const w = torch.tidy(() => weight(g, `${hint}.weight`, m.weight.reshape(-1, 1, 1)));
  const b = torch.tidy(() => weight(g, `${hint}.bias`, m.bias.reshape(-1, 1, 1)));
  return g.op('Add', [g.op('Mul', [y, w]), b]);
}

/** Exact (erf) GELU, in the pattern ONNX Runtime fuses into one Gelu kernel. */
export function gelu(g: Graph, x: string): string {
  const e = g.op('Erf', [g.op('Div', [x, g.scalar(Math.SQRT2)])]);
  return g.op('Mul', [g.op('Mul', [x, g.op('Add', [e, g.scalar(1)])]), g.scalar(0.5)]);
}

function convAttrs(m: { stride: number[]; padding: number[]; dilation: number[]; groups: number }, kernel: number[]) {
  const [ph, pw] = m.padding as [number, number];
  return {
    kernel_shape: ints(kernel),
    strides: ints(m.stride),
    pads: ints([ph, pw, ph, pw]),
    dilations: ints(m.dilation),
    group: int(m.groups),
  };
}

/** nn.Conv2d (zero padding). */
export function conv2d(g: Graph, m: torch.nn.Conv2d, x: string, hint: string): string {
  const inputs = [x, weight(g, `${hint}.weight`, m.weight)];
  if (m.bias) inputs.push(weight(g, `${hint}.bias`, m.bias));
  return g.op('Conv', inputs, convAttrs(m, m.weight.shape.slice(2)));
}

/** nn.ConvTranspose2d. */
export function convTranspose2d(g: Graph, m: torch.nn.ConvTranspose2d, x: string, hint: string): string {
  const inputs = [x, weight(g, `${hint}.weight`, m.weight)];
  if (m.bias) inputs.push(weight(g, `${hint}.bias`, m.bias));
  return g.op('ConvTranspose', inputs, { ...convAttrs(m, m.weight.shape.slice(2)), output_padding: ints(m.output_padding) });
}

/** TinyViT's Conv2d_BN in eval mode: batch norm folded into the convolution, as Conv2dBN.forward does. */
export function convBN(g: Graph, m: Conv2dBN, x: string, hint: string): string {
  const { c, bn } = m;
  if (!bn.running_mean || !bn.running_var || !bn.weight || !bn.bias) throw new Error(`${hint}: batch norm without statistics`);
  const [w, b] = torch.tidy(() => {
    const s = bn.weight!.div(bn.running_var!.add(bn.eps).sqrt());
    return [
      weight(g, `${hint}.weight`, c.weight.mul(s.view(-1, 1, 1, 1))),
      weight(g, `${hint}.bias`, bn.bias!.sub(bn.running_mean!.mul(s))),
    ];
  });
  return g.op('Conv', [x, w, b], convAttrs(c, c.weight.shape.slice(2)));
}

/** [B, C, ...] -> [B, N, C] tokens ((x.flatten(2).transpose(1, 2)). */
export function tokens(g: Graph, x: string, channels: number): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.i64([0, channels, -1])])], { perm: ints([0, 2, 1]) });
}

/** Tokens [B, H*W, C] -> NCHW [B, C, H, W]. */
export function tokenMap(g: Graph, x: string, h: number, w: number, c: number): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.i64([-1, h, w, c])])], { perm: ints([0, 3, 1, 2]) });
}

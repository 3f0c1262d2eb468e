// TinyViTBlock: x + WindowAttention(x) -> depthwise Conv-BN ("local conv") -> x + Mlp(x).
// Windows are zero-padded at the bottom/right; padded tokens are not masked (as the reference).
import * as torch from '../../torch/index.js';
import { residual } from '../common.js';
import { Attention } from './attention.js';
import { Conv2dBN } from './conv2d_bn.js';
import { Mlp } from './mlp.js';

const { nn } = torch;
const F = torch.nn.functional;
type Tensor = torch.Tensor;

export interface TinyViTBlockOptions {
  dim: number;
  input_resolution: readonly [number, number];
  num_heads: number;
  window_size: number;
  mlp_ratio: number;
  local_conv_size: number;
}

export class TinyViTBlock extends nn.Module {
  attn: Attention;
  mlp: Mlp;
  local_conv: Conv2dBN;
  readonly input_resolution: readonly [number, number];
  readonly window_size: number;

  constructor(o: TinyViTBlockOptions) {
    super();
    if (o.dim % o.num_heads) throw new Error(`TinyViTBlock: dim ${o.dim} is not divisible by ${o.num_heads} heads`);
    this.input_resolution = o.input_resolution;
    this.window_size = o.window_size;
    this.attn = new Attention(o.dim, o.dim / o.num_heads, o.num_heads, 1, [o.window_size, o.window_size]);
    this.mlp = new Mlp(o.dim, Math.floor(o.dim * o.mlp_ratio));
    const pad = Math.floor(o.local_conv_size / 2);
    this.local_conv = new Conv2dBN(o.dim, o.dim, o.local_conv_size, 1, pad, 1, o.dim);
  }

  /** Window attention over the [B, H*W, C] token map. */
  windowAttention(x: Tensor): Tensor {
    return torch.tidy(() => {
      const [H, W] = this.input_resolution;
      const ws = this.window_size;
      const [b, l, c] = x.shape as [number, number, number];
      if (H === ws && W === ws) return this.attn.forward(x);
      const padB = (ws - (H % ws)) % ws;
      const padR = (ws - (W % ws)) % ws;
      const padded = padB > 0 || padR > 0;
      const pH = H + padB;
      const pW = W + padR;
      const nH = pH / ws;
      const nW = pW / ws;
      // one step per op: a view left in the scope would keep its base's storage alive past its last use
      return torch.pipe(
        x,
        (t) => t.view(b, H, W, c),
        (t) => (padded ? F.pad(t, [0, 0, 0, padR, 0, padB]) : t),
        // window partition: [B*nH*nW, ws*ws, C]
        (t) => t.view(b, nH, ws, nW, ws, c),
        (t) => t.transpose(2, 3),
        (t) => t.reshape(b * nH * nW, ws * ws, c),
        (t) => this.attn.forward(t),
        // window reverse
        (t) => t.view(b, nH, nW, ws, ws, c),
        (t) => t.transpose(2, 3),
        (t) => t.reshape(b, pH, pW, c),
        (t) => (padded ? t.slice(1, 0, H).slice(2, 0, W) : t),
        (t) => t.reshape(b, l, c),
      );
    });
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const [H, W] = this.input_resolution;
      const [b, l, c] = x.shape as [number, number, number];
      // the local conv reads the token map as NCHW in channels-last memory (no copy) and gives tokens back
      return torch.pipe(
        x,
        (t) => residual(t, (u) => this.windowAttention(u)),
        (t) => t.view(b, H, W, c),
        (t) => t.permute(0, 3, 1, 2),
        (t) => this.local_conv.forward(t),
        (t) => t.permute(0, 2, 3, 1),
        (t) => t.reshape(b, l, c),
        (t) => residual(t, (u) => this.mlp.forward(u)),
      );
    });
  }
}

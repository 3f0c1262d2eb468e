// A pre-LN ViT block with windowed or global attention (SAM's Block):
// x + attn(LN(x)) (inside windows when window_size > 0), then + MLP(LN(x)).
import * as torch from '../../torch/index.js';
import { MLPBlock } from '../common.js';
import { Attention } from './attention.js';
import { window_partition, window_unpartition } from './window.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export interface BlockOptions {
  num_heads: number;
  mlp_ratio: number;
  qkv_bias: boolean;
  use_rel_pos: boolean;
  layernorm_eps: number;
  /** 0: global attention over the whole grid. */
  window_size: number;
  /** The token grid of the image: [H, W]. */
  input_size: readonly [number, number];
}

export class Block extends nn.Module {
  norm1: torch.nn.LayerNorm;
  attn: Attention;
  norm2: torch.nn.LayerNorm;
  mlp: MLPBlock;
  readonly window_size: number;

  constructor(dim: number, o: BlockOptions) {
    super();
    this.window_size = o.window_size;
    this.norm1 = new nn.LayerNorm(dim, o.layernorm_eps);
    this.attn = new Attention(dim, {
      num_heads: o.num_heads,
      qkv_bias: o.qkv_bias,
      use_rel_pos: o.use_rel_pos,
      input_size: o.window_size === 0 ? o.input_size : [o.window_size, o.window_size],
    });
    this.norm2 = new nn.LayerNorm(dim, o.layernorm_eps);
    this.mlp = new MLPBlock(dim, Math.floor(dim * o.mlp_ratio));
  }

  /** x [B, H, W, C] -> [B, H, W, C]. */
  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const h = this.norm1.forward(x);
      let a: Tensor;
      if (this.window_size > 0) {
        const [, H, W] = x.shape as [number, number, number];
        const { windows, padded } = window_partition(h, this.window_size); // [B·nWin, ws, ws, C]
        a = window_unpartition(this.attn.forward(windows), this.window_size, padded, [H, W]);
      } else {
        a = this.attn.forward(h);
      }
      const y = x.add(a);
      return y.add(this.mlp.forward(this.norm2.forward(y)));
    });
  }
}

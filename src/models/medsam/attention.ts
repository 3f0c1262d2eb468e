// Multi-head self-attention over an NHWC token map with decomposed relative positions (SAM's Attention).
import * as torch from '../../torch/index.js';
import { add_decomposed_rel_pos } from './rel_pos.js';

const { nn } = torch;
type Tensor = torch.Tensor;

/** What `qkv` may be: the plain Linear, or a wrapper around it (LoRA, src/models/lora.ts). */
export type QKVProjection = torch.nn.Module & { forward(x: Tensor): Tensor };

export interface AttentionOptions {
  num_heads: number;
  qkv_bias: boolean;
  use_rel_pos: boolean;
  /** The token grid the relative-position tables are sized for: [H, W]. */
  input_size: readonly [number, number];
}

export class Attention extends nn.Module {
  rel_pos_h: torch.nn.Parameter | undefined;
  rel_pos_w: torch.nn.Parameter | undefined;
  qkv: QKVProjection;
  proj: torch.nn.Linear;
  readonly num_heads: number;
  readonly scale: number;

  constructor(dim: number, o: AttentionOptions) {
    super();
    this.num_heads = o.num_heads;
    const head_dim = Math.floor(dim / o.num_heads);
    this.scale = head_dim ** -0.5;
    this.qkv = new nn.Linear(dim, dim * 3, o.qkv_bias);
    this.proj = new nn.Linear(dim, dim);
    if (o.use_rel_pos) {
      // (tidy: Parameter keeps a detached alias; the zeros tensor itself is freed now, not by the GC)
      this.rel_pos_h = torch.tidy(() => new nn.Parameter(torch.zeros([2 * o.input_size[0] - 1, head_dim])));
      this.rel_pos_w = torch.tidy(() => new nn.Parameter(torch.zeros([2 * o.input_size[1] - 1, head_dim])));
    }
  }

  /** x [B, H, W, C] -> [B, H, W, C]. */
  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const [B, H, W] = x.shape as [number, number, number];
      const nh = this.num_heads;
      // qkv [3, B·heads, H·W, head_dim]
      const qkv = this.qkv
        .forward(x)
        .reshape(B, H * W, 3, nh, -1)
        .permute(2, 0, 3, 1, 4)
        .reshape(3, B * nh, H * W, -1);
      const [q, k, v] = qkv.unbind(0) as [Tensor, Tensor, Tensor];
      const attn = q.mul(this.scale).matmul(k.transpose(-2, -1)); // [B·heads, H·W, H·W]
      if (this.rel_pos_h !== undefined && this.rel_pos_w !== undefined) {
        add_decomposed_rel_pos(attn, q, this.rel_pos_h, this.rel_pos_w, [H, W], [H, W]);
      }
      const out = attn.softmax(-1).matmul(v).view(B, nh, H, W, -1).permute(0, 2, 3, 1, 4).reshape(B, H, W, -1);
      return this.proj.forward(out);
    });
  }
}

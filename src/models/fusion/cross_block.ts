// The FusePro cross block (CrossBlock_tokenkv): the queries come from the LayerNorm'd features, keys
// and values from a learned token set (not normalised), then a residual and an MLP on LN2.
//
// softmax_axis 'spatial' reproduces the reference, which normalises the attention over the query
// (spatial) positions, dim 1 of [B*heads, h*w, tokens] (spec §3.7, §12.6): every token spreads a unit of
// attention over the map, and a bias on q_lin has no effect. 'tokens' is standard cross-attention
// (each position's weights over the tokens sum to 1).
import * as torch from '../../torch/index.js';
import { MLPBlock } from '../common.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export type SoftmaxAxis = 'spatial' | 'tokens';

export interface CrossAttentionOptions {
  dim: number;
  num_heads: number;
  qkv_bias?: boolean;
  softmax_axis?: SoftmaxAxis;
}

export class CrossAttentionTokenKV extends nn.Module {
  kv_lin: torch.nn.Linear;
  q_lin: torch.nn.Linear;
  proj: torch.nn.Linear;
  readonly num_heads: number;
  readonly scale: number;
  readonly softmax_axis: SoftmaxAxis;

  constructor(o: CrossAttentionOptions) {
    super();
    if (o.dim % o.num_heads) throw new Error(`CrossAttentionTokenKV: dim ${o.dim} is not divisible by ${o.num_heads} heads`);
    this.num_heads = o.num_heads;
    this.scale = (o.dim / o.num_heads) ** -0.5;
    this.softmax_axis = o.softmax_axis ?? 'spatial';
    this.kv_lin = new nn.Linear(o.dim, 2 * o.dim, o.qkv_bias ?? true);
    this.q_lin = new nn.Linear(o.dim, o.dim, o.qkv_bias ?? true);
    this.proj = new nn.Linear(o.dim, o.dim);
  }

  /**
   * x [B, h, w, D] (already normalised), tokens [1, T, D] -> [B, h, w, D]; with require_attn also the
   * head-averaged attention [B, h, w, T].
   */
  forward(x: Tensor, tokens: Tensor, require_attn = false): { x: Tensor; attn?: Tensor } {
    return torch.tidy(() => {
      const [B, h, w, D] = x.shape as [number, number, number, number];
      const nh = this.num_heads;
      const hd = D / nh;
      const T = tokens.size(-2);
      const N = B * h * w;
      // The tokens are shared by the batch, so K and V are computed once ([nh, T, hd]) and the batch is
      // folded into the query axis: one matmul batched over the heads.
      const [k, v] = this.kv_lin.forward(tokens.reshape(T, D)).view(T, 2, nh, hd).permute(1, 2, 0, 3).unbind(0) as [Tensor, Tensor];
      const q = this.q_lin.forward(x).mul(this.scale).view(N, nh, hd).transpose(0, 1); // [nh, B·hw, hd]
      let o: Tensor;
      let headmean: Tensor | undefined;
      if (this.softmax_axis === 'spatial') {
        // Normalised over each image's hw positions, computed transposed so the softmax runs over the
        // contiguous last dim: attnT [nh, T, B·hw].
        const attnT = k
          .matmul(q.transpose(-1, -2))
          .view(nh, T, B, h * w)
          .softmax(-1)
          .view(nh, T, N);
        o = attnT.transpose(-1, -2).matmul(v); // [nh, B·hw, hd]
        if (require_attn) headmean = attnT.mean(0).view(T, B, h, w).permute(1, 2, 3, 0).contiguous();
      } else {
        const attn = q.matmul(k.transpose(-1, -2)).softmax(-1); // [nh, B·hw, T]
        o = attn.matmul(v);
        if (require_attn) headmean = attn.mean(0).view(B, h, w, T);
      }
      const out = this.proj.forward(o.transpose(0, 1).reshape(B, h, w, D));
      return headmean === undefined ? { x: out } : { x: out, attn: headmean };
    });
  }
}

export interface CrossBlockOptions extends CrossAttentionOptions {
  mlp_ratio?: number;
  layernorm_eps?: number;
}

export class CrossBlock extends nn.Module {
  norm1: torch.nn.LayerNorm;
  attn: CrossAttentionTokenKV;
  norm2: torch.nn.LayerNorm;
  mlp: MLPBlock;

  constructor(o: CrossBlockOptions) {
    super();
    const eps = o.layernorm_eps ?? 1e-6;
    this.norm1 = new nn.LayerNorm(o.dim, eps);
    this.attn = new CrossAttentionTokenKV(o);
    this.norm2 = new nn.LayerNorm(o.dim, eps);
    this.mlp = new MLPBlock(o.dim, Math.trunc(o.dim * (o.mlp_ratio ?? 4)));
  }

  /** x [B, h, w, D] (NHWC), tokens [1, T, D]. */
  forward(x: Tensor, tokens: Tensor, require_attn = false): { x: Tensor; attn?: Tensor } {
    return torch.tidy(() => {
      const a = this.attn.forward(this.norm1.forward(x), tokens, require_attn);
      const y = x.add(a.x);
      const out = y.add(this.mlp.forward(this.norm2.forward(y)));
      return a.attn === undefined ? { x: out } : { x: out, attn: a.attn };
    });
  }
}

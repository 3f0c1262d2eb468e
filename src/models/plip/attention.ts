// CLIPAttention: multi-head self-attention with separate q/k/v projections; q is scaled before q k^T.
import * as torch from '../../torch/index.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export class CLIPAttention extends nn.Module {
  k_proj: torch.nn.Linear;
  v_proj: torch.nn.Linear;
  q_proj: torch.nn.Linear;
  out_proj: torch.nn.Linear;
  readonly head_dim: number;
  readonly scale: number;

  constructor(
    readonly embed_dim: number,
    readonly num_heads: number,
  ) {
    super();
    if (embed_dim % num_heads) throw new Error(`CLIPAttention: embed_dim ${embed_dim} is not divisible by num_heads ${num_heads}`);
    this.head_dim = embed_dim / num_heads;
    this.scale = this.head_dim ** -0.5;
    this.k_proj = new nn.Linear(embed_dim, embed_dim);
    this.v_proj = new nn.Linear(embed_dim, embed_dim);
    this.q_proj = new nn.Linear(embed_dim, embed_dim);
    this.out_proj = new nn.Linear(embed_dim, embed_dim);
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const [B, T] = x.shape as [number, number];
      const heads = (t: Tensor) => t.view(B, T, this.num_heads, this.head_dim).transpose(1, 2); // [B, h, T, d]
      const q = heads(this.q_proj.forward(x).mul(this.scale));
      const k = heads(this.k_proj.forward(x));
      const v = heads(this.v_proj.forward(x));
      const attn = q.matmul(k.transpose(-2, -1)).softmax(-1); // [B, h, T, T]
      const o = attn.matmul(v).transpose(1, 2).reshape(B, T, this.embed_dim);
      return this.out_proj.forward(o);
    });
  }
}

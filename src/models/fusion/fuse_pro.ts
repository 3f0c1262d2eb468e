// FusePro with `share_token` (FusePro_Select -> FusePro_Parallel_ShareToken): per depth one learned
// token set mm_tokens.d [1, T, D] shared by all models, and one cross block per model. Keys and values
// come from the tokens only, so the models do not exchange information here.
import * as torch from '../../torch/index.js';
import { CrossBlock, type SoftmaxAxis } from './cross_block.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export interface FuseProOptions {
  num_models: number;
  embed_dim: number;
  depth: number;
  num_heads: number;
  /** Tokens per depth (share_token_num). */
  num_tokens: number;
  mlp_ratio?: number;
  qkv_bias?: boolean;
  layernorm_eps?: number;
  /** 'spatial' (default) as the reference; 'tokens' for standard cross-attention. */
  softmax_axis?: SoftmaxAxis;
}

export interface FuseProOutput {
  /** Per model, NHWC [B, h, w, D]. */
  xs: Tensor[];
  /** attn[d][m]: head-averaged attention [B, h, w, T] (only with require_attn). */
  attn?: Tensor[][];
}

/** One depth: a cross block per model (key cblocks.<m>). */
export class FuseProBlock extends nn.Module {
  cblocks: torch.nn.ModuleList<CrossBlock>;

  constructor(o: FuseProOptions) {
    super();
    const block = () =>
      new CrossBlock({
        dim: o.embed_dim,
        num_heads: o.num_heads,
        mlp_ratio: o.mlp_ratio,
        qkv_bias: o.qkv_bias,
        layernorm_eps: o.layernorm_eps,
        softmax_axis: o.softmax_axis,
      });
    this.cblocks = new nn.ModuleList(Array.from({ length: o.num_models }, block));
  }

  forward(xs: readonly Tensor[], tokens: Tensor, require_attn = false): { x: Tensor; attn?: Tensor }[] {
    return xs.map((x, m) => this.cblocks.at(m).forward(x, tokens, require_attn));
  }
}

export class FuseProShareToken extends nn.Module {
  blocks: torch.nn.ModuleList<FuseProBlock>;
  mm_tokens: torch.nn.ParameterList;

  constructor(o: FuseProOptions) {
    super();
    this.blocks = new nn.ModuleList(Array.from({ length: o.depth }, () => new FuseProBlock(o)));
    this.mm_tokens = new nn.ParameterList(
      Array.from({ length: o.depth }, () => torch.tidy(() => new nn.Parameter(torch.randn([1, o.num_tokens, o.embed_dim])))),
    );
  }

  /** One NHWC map per model -> the same shapes after every depth. */
  forward(xs: readonly Tensor[], require_attn = false): FuseProOutput {
    return torch.tidy(() => {
      let cur = [...xs];
      const attn: Tensor[][] = [];
      for (const [d, block] of this.blocks.items.entries()) {
        const outs = block.forward(cur, this.mm_tokens.at(d), require_attn);
        cur = outs.map((o) => o.x);
        if (require_attn) attn.push(outs.map((o) => o.attn as Tensor));
      }
      return require_attn ? { xs: cur, attn } : { xs: cur };
    });
  }
}

/** FusePro_Select: the parallel fuser under the key para_fuser. */
export class FusePro extends nn.Module {
  para_fuser: FuseProShareToken;

  constructor(o: FuseProOptions) {
    super();
    this.para_fuser = new FuseProShareToken(o);
  }

  forward(xs: readonly Tensor[], require_attn = false): FuseProOutput {
    return this.para_fuser.forward(xs, require_attn);
  }
}

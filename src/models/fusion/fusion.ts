// The fusion of the teacher (spec §3.6-3.8): FusePre -> NCHW to NHWC -> FusePro -> FuseFin, under the
// keys fuse_pre.*, fuse_pro.para_fuser.*, fuse_fin.fin_fuser.* (inside the teacher these three sit
// directly in MultiModelArch, which reuses fuse() below).
import * as torch from '../../torch/index.js';
import type { SoftmaxAxis } from './cross_block.js';
import { FuseFin } from './fuse_fin.js';
import { FusePre } from './fuse_pre.js';
import { FusePro } from './fuse_pro.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export interface FusionOptions {
  /** Channels of each model's encoder map, in model order (medsam, pidinet, plip or any subset). */
  in_chans: readonly number[];
  /** Fusion width D. */
  embed_dim: number;
  depth: number;
  num_heads: number;
  /** Learned tokens per depth (share_token_num). */
  num_tokens: number;
  /** Width of the fused embedding X_f. */
  out_chans: number;
  /** The MedSAM token grid every map is resized to in FuseFin, [h, w]. */
  out_size: readonly [number, number];
  mlp_ratio?: number;
  qkv_bias?: boolean;
  layernorm_eps?: number;
  layernorm2d_eps?: number;
  /** FinBlock MLP width (default embed_dim / 4). */
  fin_mlp_hidden?: number;
  /** FusePro attention normalisation: 'spatial' (reference, default) or 'tokens'. */
  softmax_axis?: SoftmaxAxis;
}

export interface FusionParts {
  fuse_pre: FusePre;
  fuse_pro: FusePro;
  fuse_fin: FuseFin;
}

export interface FusionOutput {
  /** The fused image embedding [B, out, s, s]. */
  x: Tensor;
  /** attn[d][m]: FusePro's head-averaged attention [B, h, w, T] (only with require_attn). */
  attn?: Tensor[][];
}

/** Builds the three stages from one set of options. */
export function buildFusion(o: FusionOptions): FusionParts {
  const num_models = o.in_chans.length;
  return {
    fuse_pre: new FusePre({ in_chans: o.in_chans, embed_dim: o.embed_dim, layernorm2d_eps: o.layernorm2d_eps }),
    fuse_pro: new FusePro({
      num_models,
      embed_dim: o.embed_dim,
      depth: o.depth,
      num_heads: o.num_heads,
      num_tokens: o.num_tokens,
      mlp_ratio: o.mlp_ratio,
      qkv_bias: o.qkv_bias,
      layernorm_eps: o.layernorm_eps,
      softmax_axis: o.softmax_axis,
    }),
    fuse_fin: new FuseFin({
      num_models,
      embed_dim: o.embed_dim,
      out_chans: o.out_chans,
      out_size: o.out_size,
      mlp_hidden: o.fin_mlp_hidden,
      layernorm2d_eps: o.layernorm2d_eps,
    }),
  };
}

/** Encoder maps (NCHW, model order) -> X_f. */
export function fuse(parts: FusionParts, feats: readonly Tensor[], require_attn = false): FusionOutput {
  return torch.tidy(() => {
    const pre = parts.fuse_pre.forward(feats).map((x) => x.permute(0, 2, 3, 1)); // NHWC [B, h, w, D]
    const pro = parts.fuse_pro.forward(pre, require_attn);
    const x = parts.fuse_fin.forward(pro.xs); // [B, out, s, s]
    return pro.attn === undefined ? { x } : { x, attn: pro.attn };
  });
}

/** FusePre + FusePro + FuseFin as one module (the `fusion` fixture's state dict). */
export class Fusion extends nn.Module implements FusionParts {
  fuse_pre: FusePre;
  fuse_pro: FusePro;
  fuse_fin: FuseFin;

  constructor(o: FusionOptions) {
    super();
    ({ fuse_pre: this.fuse_pre, fuse_pro: this.fuse_pro, fuse_fin: this.fuse_fin } = buildFusion(o));
  }

  forward(feats: readonly Tensor[], require_attn = false): FusionOutput {
    return fuse(this, feats, require_attn);
  }
}

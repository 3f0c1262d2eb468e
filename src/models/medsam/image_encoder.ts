// MedSAM's ViT image encoder (MMFD's ImageEncoderViTMS = SAM's ImageEncoderViT plus its own input
// normalisation): [0,1] RGB -> (255x - mean) / (std + 1e-6) -> patches + pos_embed -> blocks -> neck.
import * as torch from '../../torch/index.js';
import { LayerNorm2d } from '../common.js';
import { Block } from './block.js';
import { PatchEmbed } from './patch_embed.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export interface ImageEncoderViTOptions {
  img_size: number;
  patch_size: number;
  in_chans: number;
  embed_dim: number;
  depth: number;
  num_heads: number;
  mlp_ratio: number;
  out_chans: number;
  qkv_bias: boolean;
  use_abs_pos: boolean;
  use_rel_pos: boolean;
  /** Window of the blocks not in global_attn_indexes (0: all global). */
  window_size: number;
  global_attn_indexes: readonly number[];
  layernorm_eps: number;
  layernorm2d_eps: number;
  /** Input normalisation: (x * norm_pre_scale - norm_mean) / (norm_std + 1e-6), per channel. */
  norm_pre_scale: number;
  norm_mean: readonly number[];
  norm_std: readonly number[];
}

export class ImageEncoderViT extends nn.Module {
  pos_embed: torch.nn.Parameter | undefined;
  patch_embed: PatchEmbed;
  blocks: torch.nn.ModuleList<Block>;
  neck: torch.nn.Sequential;
  readonly norm_pre_scale: Tensor;
  readonly norm_mean: Tensor;
  readonly norm_std: Tensor;

  constructor(readonly options: ImageEncoderViTOptions) {
    super();
    const o = options;
    const grid = Math.floor(o.img_size / o.patch_size);
    this.patch_embed = new PatchEmbed(o.patch_size, o.patch_size, o.in_chans, o.embed_dim);
    if (o.use_abs_pos) this.pos_embed = torch.tidy(() => new nn.Parameter(torch.zeros([1, grid, grid, o.embed_dim])));
    const blocks: Block[] = [];
    for (let i = 0; i < o.depth; i++) {
      blocks.push(
        new Block(o.embed_dim, {
          num_heads: o.num_heads,
          mlp_ratio: o.mlp_ratio,
          qkv_bias: o.qkv_bias,
          use_rel_pos: o.use_rel_pos,
          layernorm_eps: o.layernorm_eps,
          window_size: o.global_attn_indexes.includes(i) ? 0 : o.window_size,
          input_size: [grid, grid],
        }),
      );
    }
    this.blocks = new nn.ModuleList(blocks);
    this.neck = new nn.Sequential(
      new nn.Conv2d(o.embed_dim, o.out_chans, 1, { bias: false }),
      new LayerNorm2d(o.out_chans, o.layernorm2d_eps),
      new nn.Conv2d(o.out_chans, o.out_chans, 3, { padding: 1, bias: false }),
      new LayerNorm2d(o.out_chans, o.layernorm2d_eps),
    );
    const perChannel = (v: readonly number[]): Tensor => torch.tidy(() => torch.tensor([...v]).reshape(1, -1, 1, 1));
    this.norm_pre_scale = this.register_buffer('norm_pre_scale', torch.tensor([o.norm_pre_scale]), false);
    this.norm_mean = this.register_buffer('norm_mean', perChannel(o.norm_mean), false);
    this.norm_std = this.register_buffer('norm_std', perChannel(o.norm_std), false);
  }

  /** x [B, 3, H, W] RGB in [0, 1] -> features [B, out_chans, H/patch, W/patch]. */
  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const xn = x.mul(this.norm_pre_scale).sub(this.norm_mean).div(this.norm_std.add(1e-6));
      let t = this.patch_embed.forward(xn); // [B, h, w, C]
      if (this.pos_embed !== undefined) t = t.add(this.pos_embed);
      for (const blk of this.blocks) t = blk.forward(t);
      return this.neck.forward(t.permute(0, 3, 1, 2)); // [B, out, h, w]
    });
  }
}

// Builders: config objects (the spec's sizes, a fixture's config.json) -> ImageEncoderViT.
import { z } from 'zod';
import { checked } from '../../config/load.js';
import { ImageEncoderViT, type ImageEncoderViTOptions } from './image_encoder.js';

/** SAM's pixel statistics (0-255 scale), which MedSAM's encoder applies to its [0,1] input. */
export const SAM_PIXEL_MEAN = [123.675, 116.28, 103.53] as const;
export const SAM_PIXEL_STD = [58.395, 57.12, 57.375] as const;

/** MedSAM ViT-B as the teacher uses it (spec §3.3): 512 input, 32x32 tokens, 12 blocks, 14x14 windows. */
export const MEDSAM_VIT_B: Readonly<ImageEncoderViTOptions> = {
  img_size: 512,
  patch_size: 16,
  in_chans: 3,
  embed_dim: 768,
  depth: 12,
  num_heads: 12,
  mlp_ratio: 4,
  out_chans: 256,
  qkv_bias: true,
  use_abs_pos: true,
  use_rel_pos: true,
  window_size: 14,
  global_attn_indexes: [2, 5, 8, 11],
  layernorm_eps: 1e-6,
  layernorm2d_eps: 1e-6,
  norm_pre_scale: 255,
  norm_mean: SAM_PIXEL_MEAN,
  norm_std: SAM_PIXEL_STD,
};

const d = MEDSAM_VIT_B;
const n = () => z.number('must be a finite number');
const flag = () => z.boolean('must be true or false');
const numbers = () => z.array(n(), 'must be a list of numbers');

/** A fixture's config.json keys (other keys are ignored); absent keys take MedSAM ViT-B's values. */
const FixtureEncoderConfig = z.object({
  act: z.enum(['gelu_erf', 'gelu'], "must be 'gelu_erf' or 'gelu' (exact GELU only)").default('gelu_erf'),
  img_size: n().default(d.img_size),
  patch_size: n().default(d.patch_size),
  in_chans: n().default(d.in_chans),
  embed_dim: n().default(d.embed_dim),
  depth: n().default(d.depth),
  num_heads: n().default(d.num_heads),
  mlp_ratio: n().default(d.mlp_ratio),
  out_chans: n().default(d.out_chans),
  qkv_bias: flag().default(d.qkv_bias),
  use_abs_pos: flag().default(d.use_abs_pos),
  use_rel_pos: flag().default(d.use_rel_pos),
  window_size: n().default(d.window_size),
  global_attn_indexes: numbers().default([...d.global_attn_indexes]),
  layernorm_eps: n().default(d.layernorm_eps),
  layernorm2d_eps: n().default(d.layernorm2d_eps),
  norm_pre_scale: n().default(d.norm_pre_scale),
  norm_mean: numbers().default([...d.norm_mean]),
  norm_std: numbers().default([...d.norm_std]),
});

/** Options from a config object with the fixture's plain keys (img_size, embed_dim, ...); keys that are
 *  absent take MedSAM ViT-B's values. `img_size` may be overridden (e.g. the ckpt_loading case has
 *  it one level up). */
export function medsamOptionsFromConfig(
  cfg: Record<string, unknown>,
  overrides: Partial<ImageEncoderViTOptions> = {},
): ImageEncoderViTOptions {
  const { act: _, ...options } = checked(FixtureEncoderConfig, cfg, 'medsam encoder config');
  return { ...options, ...overrides };
}

export function buildMedsamEncoder(options: ImageEncoderViTOptions = MEDSAM_VIT_B): ImageEncoderViT {
  return new ImageEncoderViT(options);
}

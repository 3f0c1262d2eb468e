// Builders: config objects (the spec's sizes, a fixture's config.json) -> ImageEncoderViT.
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

function num(cfg: Record<string, unknown>, key: string, fallback?: number): number {
  const v = cfg[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new Error(`medsam encoder config: '${key}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function bool(cfg: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = cfg[key] ?? fallback;
  if (typeof v !== 'boolean') throw new Error(`medsam encoder config: '${key}' must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function nums(cfg: Record<string, unknown>, key: string, fallback: readonly number[]): number[] {
  const v = cfg[key] ?? fallback;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) {
    throw new Error(`medsam encoder config: '${key}' must be a list of numbers, got ${JSON.stringify(v)}`);
  }
  return v as number[];
}

/** Options from a config object with the fixture's plain keys (img_size, embed_dim, ...); keys that are
 *  absent take MedSAM ViT-B's values. `img_size` may be overridden (e.g. the ckpt_loading case has
 *  it one level up). */
export function medsamOptionsFromConfig(
  cfg: Record<string, unknown>,
  overrides: Partial<ImageEncoderViTOptions> = {},
): ImageEncoderViTOptions {
  const d = MEDSAM_VIT_B;
  const act = cfg.act ?? 'gelu_erf';
  if (act !== 'gelu_erf' && act !== 'gelu')
    throw new Error(`medsam encoder config: act '${String(act)}' is not supported (exact GELU only)`);
  return {
    img_size: num(cfg, 'img_size', d.img_size),
    patch_size: num(cfg, 'patch_size', d.patch_size),
    in_chans: num(cfg, 'in_chans', d.in_chans),
    embed_dim: num(cfg, 'embed_dim', d.embed_dim),
    depth: num(cfg, 'depth', d.depth),
    num_heads: num(cfg, 'num_heads', d.num_heads),
    mlp_ratio: num(cfg, 'mlp_ratio', d.mlp_ratio),
    out_chans: num(cfg, 'out_chans', d.out_chans),
    qkv_bias: bool(cfg, 'qkv_bias', d.qkv_bias),
    use_abs_pos: bool(cfg, 'use_abs_pos', d.use_abs_pos),
    use_rel_pos: bool(cfg, 'use_rel_pos', d.use_rel_pos),
    window_size: num(cfg, 'window_size', d.window_size),
    global_attn_indexes: nums(cfg, 'global_attn_indexes', d.global_attn_indexes),
    layernorm_eps: num(cfg, 'layernorm_eps', d.layernorm_eps),
    layernorm2d_eps: num(cfg, 'layernorm2d_eps', d.layernorm2d_eps),
    norm_pre_scale: num(cfg, 'norm_pre_scale', d.norm_pre_scale),
    norm_mean: nums(cfg, 'norm_mean', d.norm_mean),
    norm_std: nums(cfg, 'norm_std', d.norm_std),
    ...overrides,
  };
}

export function buildMedsamEncoder(options: ImageEncoderViTOptions = MEDSAM_VIT_B): ImageEncoderViT {
  return new ImageEncoderViT(options);
}

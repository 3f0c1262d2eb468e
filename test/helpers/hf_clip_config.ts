// Reads the vision tower's settings from a Hugging Face CLIP config.json. Only the tests use it (they check that the
// CLIP folders they write are laid out as Hugging Face's): mmfd's PLIP loader needs the folder's config.json to
// exist (hfClipFiles) but takes the architecture from the config's arch.PLIP, and a mismatch shows as a shape error.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** CLIPVisionConfig's fields (Hugging Face names) with CLIP's defaults. */
export interface ClipVisionConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_channels: number;
  image_size: number;
  patch_size: number;
  hidden_act: string;
  layer_norm_eps: number;
  attention_dropout: number;
  projection_dim: number;
}

export const CLIP_VISION_DEFAULTS: Readonly<ClipVisionConfig> = {
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  num_channels: 3,
  image_size: 224,
  patch_size: 32,
  hidden_act: 'quick_gelu',
  layer_norm_eps: 1e-5,
  attention_dropout: 0,
  projection_dim: 512,
};

/** The vision tower's configuration from a Hugging Face CLIP config.json (a CLIPModel's `vision_config`,
 *  or a CLIPVisionModel's own fields), missing fields taking CLIP's defaults. */
export function readClipVisionConfig(dirOrFile: string): ClipVisionConfig {
  const file = existsSync(dirOrFile) && statSync(dirOrFile).isDirectory() ? join(dirOrFile, 'config.json') : dirOrFile;
  if (!existsSync(file)) throw new Error(`${file}: CLIP config not found (no such file)`);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file}: not a readable JSON config: ${(err as Error).message}`);
  }
  const nested = doc.vision_config ?? doc.vision_config_dict;
  const src = (nested !== null && typeof nested === 'object' ? nested : doc) as Record<string, unknown>;
  const out: ClipVisionConfig = { ...CLIP_VISION_DEFAULTS };
  for (const k of Object.keys(CLIP_VISION_DEFAULTS) as (keyof ClipVisionConfig)[]) {
    const v = src[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== typeof CLIP_VISION_DEFAULTS[k])
      throw new Error(`${file}: vision_config.${k} has the wrong type (${JSON.stringify(v)})`);
    (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

export { Attention, type AttentionOptions, type QKVProjection } from './attention.js';
export { Block, type BlockOptions } from './block.js';
export { buildMedsamEncoder, MEDSAM_VIT_B, medsamOptionsFromConfig, SAM_PIXEL_MEAN, SAM_PIXEL_STD } from './build.js';
export { ImageEncoderViT, type ImageEncoderViTOptions } from './image_encoder.js';
export { PatchEmbed } from './patch_embed.js';
export { add_decomposed_rel_pos, get_rel_pos } from './rel_pos.js';
export { window_partition, window_unpartition } from './window.js';

export { CLIPAttention } from './attention.js';
export { activation, type CLIPVisionConfig } from './config.js';
export { CLIPVisionEmbeddings } from './embeddings.js';
export { CLIPEncoder } from './encoder.js';
export { CLIPEncoderLayer } from './encoder_layer.js';
export { CLIPMLP } from './mlp.js';
export { CLIPVisionTransformer } from './vision_transformer.js';

// The semantic decoder the teacher and the student share (spec §3.9, §4): PromptEncoderIter +
// MaskDecoderIterSimple with SAM's widths by default, and the wrapper's input preprocessing.
import * as torch from '../../torch/index.js';
import { MaskDecoderIterSimple } from './mask_decoder.js';
import { PromptEncoderIter } from './prompt_encoder.js';
import { TwoWayTransformer } from './transformer.js';

type Tensor = torch.Tensor;

export interface DecoderOptions {
  transformer_dim: number;
  transformer_depth: number;
  transformer_mlp_dim: number;
  transformer_num_heads: number;
  attention_downsample_rate: number;
  mask_in_chans: number;
  /** Default dim/4, dim/8. */
  upscaling_channels?: readonly [number, number];
  /** Default dim and 3 layers. */
  hypernet_hidden_dim?: number;
  hypernet_num_layers?: number;
}

/** SAM's decoder widths, as build_sam_vit_t fixes them. */
export const SAM_DECODER: DecoderOptions = {
  transformer_dim: 256,
  transformer_depth: 2,
  transformer_mlp_dim: 2048,
  transformer_num_heads: 8,
  attention_downsample_rate: 2,
  mask_in_chans: 16,
};

/** The prompt encoder and mask decoder for num_classes tissues over an image embedding of the given size. */
export function buildSemanticDecoder(
  d: DecoderOptions,
  num_classes: number,
  image_embedding_size: [number, number],
  img_size: number,
): { prompt_encoder: PromptEncoderIter; mask_decoder: MaskDecoderIterSimple } {
  const prompt_encoder = new PromptEncoderIter({
    embed_dim: d.transformer_dim,
    image_embedding_size,
    input_image_size: [img_size, img_size],
    num_class: num_classes,
    mask_in_chans: d.mask_in_chans,
  });
  const mask_decoder = new MaskDecoderIterSimple({
    transformer_dim: d.transformer_dim,
    num_mask_tokens: num_classes,
    upscaling_channels: d.upscaling_channels,
    hypernet_hidden_dim: d.hypernet_hidden_dim,
    hypernet_num_layers: d.hypernet_num_layers,
    transformer: new TwoWayTransformer({
      depth: d.transformer_depth,
      embedding_dim: d.transformer_dim,
      num_heads: d.transformer_num_heads,
      mlp_dim: d.transformer_mlp_dim,
      attention_downsample_rate: d.attention_downsample_rate,
    }),
  });
  return { prompt_encoder, mask_decoder };
}

/** The wrapper's (x - mean) / std, then zero padding at the bottom/right to img_size (SAM's preprocess). Where
 *  mean is exactly 0 and std exactly 1 (MMFD's) the two full-image ops are skipped: (x - 0) / 1 is x bit for bit.
 *  The statistics are read on every call (3 + 3 numbers), so the shortcut cannot outlive a change to them. */
export function preprocess(x: Tensor, mean: Tensor, std: Tensor, img_size: number): Tensor {
  return torch.tidy(() => {
    const identity = x.dtype === mean.dtype && mean.toArray().every((m) => m === 0) && std.toArray().every((s) => s === 1); // no promotion skipped
    const y = identity ? x : x.sub(mean).div(std);
    const [h, w] = y.shape.slice(-2) as [number, number];
    return h === img_size && w === img_size ? y : torch.nn.functional.pad(y, [0, img_size - w, 0, img_size - h]);
  });
}

/** The wrapper's per-channel statistics as a non-persistent [3, 1, 1] buffer. */
export function channelStats(values: readonly number[]): Tensor {
  return torch.tidy(() => torch.tensor([...values]).view(-1, 1, 1));
}

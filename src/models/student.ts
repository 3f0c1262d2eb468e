// The student (spec 4): MobileSAM's SAM_Iter_Simple = TinyViT image encoder + PromptEncoderIter +
// MaskDecoderIterSimple. The initial logits are sized from the image, so no target is needed.
import * as torch from '../torch/index.js';
import { type MaskDecoderIterSimple, postprocess_masks } from './decoder/mask_decoder.js';
import type { PromptEncoderIter } from './decoder/prompt_encoder.js';
import { buildSemanticDecoder, channelStats, type DecoderOptions, preprocess, SAM_DECODER } from './decoder/semantic_decoder.js';
import { TINYVIT_5M, TinyViT, type TinyViTOptions } from './tinyvit/tiny_vit.js';

const { nn } = torch;
const _F = torch.nn.functional;
type Tensor = torch.Tensor;

export { type DecoderOptions, SAM_DECODER } from './decoder/semantic_decoder.js';

export interface StudentOptions {
  img_size: number;
  num_classes: number;
  /** TinyViT settings; default TinyViT-5M (its neck width is the decoder's transformer_dim). */
  encoder?: Partial<Omit<TinyViTOptions, 'img_size' | 'num_classes' | 'out_chans'>>;
  decoder?: Partial<DecoderOptions>;
  /** Refinement passes in mode 'train' / otherwise (both 1 in MMFD). */
  train_iter?: number;
  test_iter?: number;
  /** The wrapper's normalisation (MMFD: 0 and 1, an identity; TinyViT normalises inside). */
  pixel_mean?: number[];
  pixel_std?: number[];
}

export interface StudentOutput {
  /** Logits of every refinement pass, [B, num_classes, H/4, W/4]. */
  low_res_logits: Tensor[];
  /** The same upsampled to [B, num_classes, img_size, img_size]. */
  high_res_logits: Tensor[];
  /** The last high-res logits (independent sigmoid logits per class). */
  masks: Tensor;
  /** X_tiny [B, 256, img/16, img/16] (or ext_embed when given). */
  image_embedding: Tensor;
}

export type Mode = 'train' | 'test' | 'vis';

export class Student extends nn.Module {
  image_encoder: TinyViT;
  prompt_encoder: PromptEncoderIter;
  mask_decoder: MaskDecoderIterSimple;
  readonly pixel_mean: Tensor;
  readonly pixel_std: Tensor;
  readonly img_size: number;
  readonly train_iter: number;
  readonly test_iter: number;

  constructor(o: StudentOptions = { img_size: 512, num_classes: 4 }) {
    super();
    const d = { ...SAM_DECODER, ...o.decoder };
    this.img_size = o.img_size;
    this.train_iter = o.train_iter ?? 1;
    this.test_iter = o.test_iter ?? 1;
    this.image_encoder = new TinyViT({
      ...TINYVIT_5M,
      ...o.encoder,
      img_size: o.img_size,
      num_classes: o.num_classes,
      out_chans: d.transformer_dim,
    });
    const grid = this.image_encoder.resolutions.at(-1)!; // the embedding's token grid
    ({ prompt_encoder: this.prompt_encoder, mask_decoder: this.mask_decoder } = buildSemanticDecoder(
      d,
      o.num_classes,
      [grid, grid],
      o.img_size,
    ));
    this.pixel_mean = this.register_buffer('pixel_mean', channelStats(o.pixel_mean ?? [0, 0, 0]), false);
    this.pixel_std = this.register_buffer('pixel_std', channelStats(o.pixel_std ?? [1, 1, 1]), false);
  }

  /** (x - pixel_mean) / pixel_std, then zero padding at the bottom/right to img_size. */
  preprocess(x: Tensor): Tensor {
    return preprocess(x, this.pixel_mean, this.pixel_std, this.img_size);
  }

  /**
   * image [B, 3, H, W] RGB in [0, 1] (H, W <= img_size). mode 'train' runs train_iter passes, any other
   * test_iter. ext_embed replaces the encoder's output (the encoder is then not run).
   */
  forward(image: Tensor, mode: Mode = this.training ? 'train' : 'test', ext_embed?: Tensor): StudentOutput {
    return torch.tidy(() => {
      const image_embedding = ext_embed ?? this.image_encoder.forward(this.preprocess(image));
      const iters = mode === 'train' ? this.train_iter : this.test_iter;
      const low_res_logits = this.mask_decoder.forward(image_embedding, this.prompt_encoder.get_dense_pe(), this.prompt_encoder, iters);
      const high_res_logits = low_res_logits.map((m) => postprocess_masks(m, [this.img_size, this.img_size]));
      return { low_res_logits, high_res_logits, masks: high_res_logits.at(-1)!, image_embedding };
    });
  }
}

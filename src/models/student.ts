// The student (spec 4): MobileSAM's SAM_Iter_Simple = TinyViT image encoder + PromptEncoderIter +
// MaskDecoderIterSimple. The initial logits are sized from the image, so no target is needed.
import * as torch from '../torch/index.js';
import { MaskDecoderIterSimple, postprocess_masks } from './decoder/mask_decoder.js';
import { PromptEncoderIter } from './decoder/prompt_encoder.js';
import { TwoWayTransformer } from './decoder/transformer.js';
import { TINYVIT_5M, TinyViT, type TinyViTOptions } from './tinyvit/tiny_vit.js';

const { nn } = torch;
const F = torch.nn.functional;
type Tensor = torch.Tensor;

export interface DecoderOptions {
  transformer_dim: number;
  transformer_depth: number;
  transformer_mlp_dim: number;
  transformer_num_heads: number;
  attention_downsample_rate: number;
  mask_in_chans: number;
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
    const embedding = Math.floor(o.img_size / 16);
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
    this.prompt_encoder = new PromptEncoderIter({
      embed_dim: d.transformer_dim,
      image_embedding_size: [embedding, embedding],
      input_image_size: [o.img_size, o.img_size],
      num_class: o.num_classes,
      mask_in_chans: d.mask_in_chans,
    });
    this.mask_decoder = new MaskDecoderIterSimple({
      transformer_dim: d.transformer_dim,
      num_mask_tokens: o.num_classes,
      transformer: new TwoWayTransformer({
        depth: d.transformer_depth,
        embedding_dim: d.transformer_dim,
        num_heads: d.transformer_num_heads,
        mlp_dim: d.transformer_mlp_dim,
        attention_downsample_rate: d.attention_downsample_rate,
      }),
    });
    this.pixel_mean = this.register_buffer('pixel_mean', torch.tensor(o.pixel_mean ?? [0, 0, 0]).view(-1, 1, 1), false);
    this.pixel_std = this.register_buffer('pixel_std', torch.tensor(o.pixel_std ?? [1, 1, 1]).view(-1, 1, 1), false);
  }

  /** (x - pixel_mean) / pixel_std, then zero padding at the bottom/right to img_size. */
  preprocess(x: Tensor): Tensor {
    return torch.tidy(() => {
      const y = x.sub(this.pixel_mean).div(this.pixel_std);
      const [h, w] = y.shape.slice(-2) as [number, number];
      return h === this.img_size && w === this.img_size ? y : F.pad(y, [0, this.img_size - w, 0, this.img_size - h]);
    });
  }

  /**
   * image [B, 3, H, W] RGB in [0, 1] (H, W <= img_size). mode 'train' runs train_iter passes, any other
   * test_iter. ext_embed replaces the encoder's output (the encoder is then not run).
   */
  forward(image: Tensor, mode: Mode = this.training ? 'train' : 'test', ext_embed?: Tensor): StudentOutput {
    return torch.tidy(() => {
      const [h, w] = image.shape.slice(-2) as [number, number];
      const image_embedding = ext_embed ?? this.image_encoder.forward(this.preprocess(image));
      const iters = mode === 'train' ? this.train_iter : this.test_iter;
      const low_res_logits = this.mask_decoder.forward(
        image_embedding,
        this.prompt_encoder.get_dense_pe(),
        this.prompt_encoder,
        [h, w],
        iters,
      );
      const high_res_logits = low_res_logits.map((m) => postprocess_masks(m, [this.img_size, this.img_size]));
      return { low_res_logits, high_res_logits, masks: high_res_logits.at(-1)!, image_embedding };
    });
  }
}

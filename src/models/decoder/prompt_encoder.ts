// PromptEncoderIter: no point/box prompts; the dense prompt is the previous logits, plus one learned
// initial logit and one learned token per class.
import * as torch from '../../torch/index.js';
import { LayerNorm2d } from '../common.js';
import { PositionEmbeddingRandom } from './position_encoding.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export interface PromptEncoderIterOptions {
  embed_dim: number;
  /** The image embedding's grid (h, w). */
  image_embedding_size: readonly [number, number];
  input_image_size: readonly [number, number];
  num_class: number;
  mask_in_chans: number;
}

export class PromptEncoderIter extends nn.Module {
  pe_layer: PositionEmbeddingRandom;
  mask_downscaling: torch.nn.Sequential;
  init_masks: torch.nn.Embedding;
  cls_embeddings: torch.nn.ModuleList<torch.nn.Embedding>;
  readonly embed_dim: number;
  readonly image_embedding_size: readonly [number, number];
  readonly input_image_size: readonly [number, number];

  constructor(o: PromptEncoderIterOptions) {
    super();
    this.embed_dim = o.embed_dim;
    this.image_embedding_size = o.image_embedding_size;
    this.input_image_size = o.input_image_size;
    this.pe_layer = new PositionEmbeddingRandom(Math.floor(o.embed_dim / 2));
    const c4 = Math.floor(o.mask_in_chans / 4);
    this.mask_downscaling = new nn.Sequential(
      new nn.Conv2d(o.num_class, c4, 2, { stride: 2 }),
      new LayerNorm2d(c4),
      new nn.GELU(),
      new nn.Conv2d(c4, o.mask_in_chans, 2, { stride: 2 }),
      new LayerNorm2d(o.mask_in_chans),
      new nn.GELU(),
      new nn.Conv2d(o.mask_in_chans, o.embed_dim, 1),
    );
    this.init_masks = new nn.Embedding(1, o.num_class);
    this.cls_embeddings = new nn.ModuleList(Array.from({ length: o.num_class }, () => new nn.Embedding(1, o.embed_dim)));
  }

  /** The dense positional encoding of the image embedding grid: [1, C, h, w]. */
  get_dense_pe(): Tensor {
    return torch.tidy(() => this.pe_layer.forward(this.image_embedding_size).unsqueeze(0));
  }

  /** Logits [B, num_class, H/4, W/4] -> dense prompt [B, C, H/16, W/16]. */
  obtain_mask_embedding(masks: Tensor): Tensor {
    return this.mask_downscaling.forward(masks);
  }

  /** The learned per-class initial logit broadcast to [b, num_class, h, w] (a view). */
  obtain_init_masks(b: number, h: number, w: number): Tensor {
    return torch.tidy(() => this.init_masks.weight.reshape(1, -1, 1, 1).expand(b, -1, h, w));
  }

  /** The class tokens E: [num_class, C]. */
  obtain_cls_embedding(): Tensor {
    return torch.cat(
      this.cls_embeddings.items.map((e) => e.weight),
      0,
    );
  }

  forward(): never {
    throw new Error('PromptEncoderIter has no forward(); the decoder calls its obtain_* methods');
  }
}

// MaskDecoder_IterSimple: iterative semantic mask refinement (spec 3.9). Each pass re-embeds the previous
// (detached) logits as a dense prompt, runs the two-way transformer with one token per class, and adds a
// per-class hypernetwork prediction to the previous logits.
import * as torch from '../../torch/index.js';
import { LayerNorm2d } from '../common.js';
import type { PromptEncoderIter } from './prompt_encoder.js';
import type { TwoWayTransformer } from './transformer.js';

const { nn } = torch;
const F = torch.nn.functional;
type Tensor = torch.Tensor;

/** SAM's MLP: num_layers Linear layers (key `layers.i`) with ReLU between. */
export class MLP extends nn.Module {
  layers: torch.nn.ModuleList<torch.nn.Linear>;

  constructor(input_dim: number, hidden_dim: number, output_dim: number, num_layers: number) {
    super();
    const dims = [input_dim, ...Array<number>(num_layers - 1).fill(hidden_dim), output_dim];
    this.layers = new nn.ModuleList(Array.from({ length: num_layers }, (_, i) => new nn.Linear(dims[i]!, dims[i + 1]!)));
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      let y = x;
      const n = this.layers.length;
      this.layers.items.forEach((layer, i) => {
        y = layer.forward(y);
        if (i < n - 1) y = F.relu(y);
      });
      return y;
    });
  }
}

export interface MaskDecoderIterSimpleOptions {
  transformer_dim: number;
  transformer: TwoWayTransformer;
  /** One token (and one hypernetwork) per class. */
  num_mask_tokens: number;
  /** Output widths of the two transposed convolutions; default [dim/4, dim/8]. */
  upscaling_channels?: readonly [number, number];
  /** Hidden width of the hypernetwork MLPs; default dim. */
  hypernet_hidden_dim?: number;
  /** Default 3. */
  hypernet_num_layers?: number;
}

export class MaskDecoderIterSimple extends nn.Module {
  transformer: TwoWayTransformer;
  output_upscaling: torch.nn.Sequential;
  output_hypernetworks_mlps: torch.nn.ModuleList<MLP>;
  readonly transformer_dim: number;
  readonly num_mask_tokens: number;

  constructor(o: MaskDecoderIterSimpleOptions) {
    super();
    const d = o.transformer_dim;
    const [c1, c2] = o.upscaling_channels ?? [Math.floor(d / 4), Math.floor(d / 8)];
    this.transformer_dim = d;
    this.num_mask_tokens = o.num_mask_tokens;
    this.transformer = o.transformer;
    this.output_upscaling = new nn.Sequential(
      new nn.ConvTranspose2d(d, c1, 2, { stride: 2 }),
      new LayerNorm2d(c1),
      new nn.GELU(),
      new nn.ConvTranspose2d(c1, c2, 2, { stride: 2 }),
      new nn.GELU(),
    );
    const hidden = o.hypernet_hidden_dim ?? d;
    const layers = o.hypernet_num_layers ?? 3;
    this.output_hypernetworks_mlps = new nn.ModuleList(Array.from({ length: o.num_mask_tokens }, () => new MLP(d, hidden, c2, layers)));
  }

  /**
   * The refinement loop; returns the low-res logits of every pass. The initial logits are 4x the
   * embedding grid, the size each pass's upscaled output has. (The reference sizes them from the target,
   * or the student's image, as H/4 x W/4, which equals 4x the grid whenever its residual add runs; the
   * grid also allows encoders with patches other than 16.)
   */
  forward(image_embeddings: Tensor, image_pe: Tensor, prompt_enc: PromptEncoderIter, num_iter: number): Tensor[] {
    return torch.tidy(() => {
      const b = image_embeddings.size(0);
      const tokens = prompt_enc.obtain_cls_embedding().unsqueeze(0).expand(b, -1, -1); // [B, Ncls, C]
      const pos = image_pe.expand(b, -1, -1, -1);
      const [h, w] = image_embeddings.shape.slice(-2) as [number, number];
      let masks = prompt_enc.obtain_init_masks(b, 4 * h, 4 * w);
      const out: Tensor[] = [];
      for (let i = 0; i < num_iter; i++) {
        masks = this.inner_loop(masks, tokens, image_embeddings, pos, prompt_enc);
        out.push(masks);
      }
      return out;
    });
  }

  /** One pass: previous logits [B, Ncls, h, w] -> refined logits of the same shape. */
  inner_loop(prev: Tensor, tokens: Tensor, feats: Tensor, pos: Tensor, prompt_enc: PromptEncoderIter): Tensor {
    return torch.tidy(() => {
      const masks = prev.detach();
      const dense = prompt_enc.obtain_mask_embedding(masks);
      const src = feats.add(dense);
      const [b, c, h, w] = src.shape as [number, number, number, number];

      const [hs, keys] = this.transformer.forward(src, pos, tokens); // hs [B, Ncls, C], keys [B, hw, C]
      const upscaled = this.output_upscaling.forward(keys.transpose(1, 2).reshape(b, c, h, w)); // [B, c2, 4h, 4w]

      const hyper = this.output_hypernetworks_mlps.items.map((mlp, i) => mlp.forward(hs.select(1, i)));
      const [, c2, H, W] = upscaled.shape as [number, number, number, number];
      const logits = torch
        .stack(hyper, 1)
        .matmul(upscaled.view(b, c2, H * W))
        .view(b, -1, H, W);
      return logits.add(masks);
    });
  }
}

/** Low-res logits -> logits at size (bilinear, align_corners false), as SAM_Iter_Simple.postprocess_masks. */
export function postprocess_masks(masks: Tensor, size: readonly [number, number]): Tensor {
  return F.interpolate(masks, { size: [size[0], size[1]], mode: 'bilinear', align_corners: false });
}

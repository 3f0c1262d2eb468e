// TinyViT as MobileSAM builds it for SAM (spec 4): Conv-BN patch embedding, an MBConv stage, three
// window-attention stages joined by PatchMerging, and a neck to the SAM embedding width. The input is
// in [0, 1] and normalised inside (x*255, SAM mean/std + 1e-6).
import * as torch from '../../torch/index.js';
import { imageByImage, LayerNorm2d } from '../common.js';
import { BasicLayer } from './basic_layer.js';
import { ConvLayer } from './conv_layer.js';
import { PatchEmbed } from './patch_embed.js';
import { mobilesamMergeStride, PatchMerging } from './patch_merging.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export const SAM_PIXEL_MEAN = [123.675, 116.28, 103.53];
export const SAM_PIXEL_STD = [58.395, 57.12, 57.375];

export interface TinyViTOptions {
  img_size: number;
  in_chans: number;
  /** Width of the unused classification head (MobileSAM keeps it: MMFD passes its class count). */
  num_classes: number;
  embed_dims: number[];
  depths: number[];
  num_heads: number[];
  window_sizes: number[];
  mlp_ratio: number;
  mbconv_expand_ratio: number;
  local_conv_size: number;
  /** Output width of the neck. */
  out_chans: number;
  /** Stride of each PatchMerging (stages 0..n-2); default MobileSAM's rule (1 into widths 320/448/576). */
  merge_strides?: number[];
}

/** TinyViT-5M at 512 as in MMFD's build_sam_vit_t. */
export const TINYVIT_5M: TinyViTOptions = {
  img_size: 512,
  in_chans: 3,
  num_classes: 4,
  embed_dims: [64, 128, 160, 320],
  depths: [2, 2, 6, 2],
  num_heads: [2, 4, 5, 10],
  window_sizes: [7, 7, 14, 7],
  mlp_ratio: 4,
  mbconv_expand_ratio: 4,
  local_conv_size: 3,
  out_chans: 256,
};

export class TinyViT extends nn.Module {
  patch_embed: PatchEmbed;
  layers: torch.nn.ModuleList<ConvLayer | BasicLayer>;
  norm_head: torch.nn.LayerNorm;
  head: torch.nn.Linear;
  neck: torch.nn.Sequential;
  readonly img_size: number;
  /** Token grid of each stage's input. */
  readonly resolutions: number[];
  readonly norm_mean: Tensor;
  readonly norm_std: Tensor;
  readonly norm_pre_scale: Tensor;
  /**
   * Whether eval runs the patch embedding and the MBConv stage image by image: where one image's widest map there
   * (4x expanded, float32) is 4 MB or more (16 MB in the real student at 512), a batch of them outgrows the cache, and
   * image by image a batch-4 forward cost ~9% less per image (one-off interleaved timings; bench:train gives batch 4
   * against batch 1). Small networks keep the batch (fewer op calls).
   */
  readonly imageByImageInEval: boolean;
  /** norm_std + 1e-6, computed once rather than per forward (the same float32 sum). */
  readonly norm_divisor: Tensor;

  constructor(options: Partial<TinyViTOptions> = {}) {
    super();
    const o = { ...TINYVIT_5M, ...options };
    const n = o.depths.length;
    this.img_size = o.img_size;
    this.norm_mean = this.register_buffer('norm_mean', torch.tensor(SAM_PIXEL_MEAN).view(1, -1, 1, 1), false);
    this.norm_std = this.register_buffer('norm_std', torch.tensor(SAM_PIXEL_STD).view(1, -1, 1, 1), false);
    this.norm_pre_scale = this.register_buffer('norm_pre_scale', torch.tensor([255]), false);
    this.norm_divisor = this.register_buffer(
      'norm_divisor',
      torch.tidy(() => this.norm_std.add(1e-6)),
      false,
    );

    this.patch_embed = new PatchEmbed(o.in_chans, o.embed_dims[0]!);
    const strides = o.merge_strides ?? o.embed_dims.slice(1).map(mobilesamMergeStride);
    this.resolutions = [Math.floor(o.img_size / 4)];
    this.imageByImageInEval = 4 * o.mbconv_expand_ratio * o.embed_dims[0]! * this.resolutions[0]! ** 2 >= 4 * 2 ** 20;
    for (let i = 0; i < n - 1; i++) this.resolutions.push(Math.floor(this.resolutions[i]! / strides[i]!));

    const layers: (ConvLayer | BasicLayer)[] = [];
    for (let i = 0; i < n; i++) {
      const r = this.resolutions[i]!;
      const dim = o.embed_dims[i]!;
      const down = i < n - 1 ? new PatchMerging([r, r], dim, o.embed_dims[i + 1]!, strides[i]) : undefined;
      if (i === 0) layers.push(new ConvLayer(dim, o.depths[i]!, o.mbconv_expand_ratio, down));
      else {
        const block = {
          dim,
          input_resolution: [r, r] as const,
          num_heads: o.num_heads[i]!,
          window_size: o.window_sizes[i]!,
          mlp_ratio: o.mlp_ratio,
          local_conv_size: o.local_conv_size,
        };
        layers.push(new BasicLayer(block, o.depths[i]!, down));
      }
    }
    this.layers = new nn.ModuleList(layers);

    const last = o.embed_dims[n - 1]!;
    this.norm_head = new nn.LayerNorm(last);
    this.head = new nn.Linear(last, o.num_classes);
    this.#initWeights();
    this.neck = new nn.Sequential(
      new nn.Conv2d(last, o.out_chans, 1, { bias: false }),
      new LayerNorm2d(o.out_chans),
      new nn.Conv2d(o.out_chans, o.out_chans, 3, { padding: 1, bias: false }),
      new LayerNorm2d(o.out_chans),
    );
  }

  /** As the reference's _init_weights: Linear weights N(0, 0.02) (trunc at +-2, i.e. 100 sigma), biases 0. */
  #initWeights(): void {
    for (const m of this.modules()) {
      if (m instanceof nn.Linear) {
        nn.init.normal_(m.weight, 0, 0.02);
        if (m.bias) nn.init.zeros_(m.bias);
      }
    }
  }

  /** [B, 3, H, W] in [0, 1] -> (255 x - mean) / (std + 1e-6). */
  preprocess(x: Tensor): Tensor {
    return torch.tidy(() =>
      torch.pipe(
        x,
        (t) => t.mul(this.norm_pre_scale),
        (t) => t.sub(this.norm_mean),
        (t) => t.div(this.norm_divisor),
      ),
    );
  }

  /** Image [B, 3, img, img] in [0, 1] -> embedding [B, out_chans, img/16, img/16]. */
  forward(image: Tensor): Tensor {
    const r = this.resolutions.at(-1)!;
    const [convStage, ...attentionStages] = this.layers.items;
    const highResolution = (x: Tensor): Tensor =>
      torch.pipe(
        x,
        (t) => this.preprocess(t),
        (t) => this.patch_embed.forward(t), // [B, C0, img/4, img/4]
        (t) => convStage!.forward(t), // tokens [B, HW, C1]
      );
    return torch.tidy(() =>
      torch.pipe(
        image,
        (t) => (this.training || !this.imageByImageInEval ? highResolution(t) : imageByImage(t, highResolution)),
        ...attentionStages.map((layer) => (t: Tensor) => layer.forward(t)), // tokens [B, HW, Ci+1]
        (t) => t.view(t.size(0), r, r, -1).permute(0, 3, 1, 2),
        (t) => this.neck.forward(t),
      ),
    );
  }
}

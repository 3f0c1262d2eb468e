// The MMFD teacher (spec §3): MultiModelArch (the encoders named in model_list on the same image, then
// FusePre -> FusePro -> FuseFin into X_f), MultiModelSeg (+ PromptEncoderIter and MaskDecoder_IterSimple)
// and the LoRA wrapper LoRA_MultiModelSeg_Selective (frozen encoders, LoRA on MedSAM's qkv; keys sam.*).
import * as torch from '../torch/index.js';
import { type MaskDecoderIterSimple, postprocess_masks } from './decoder/mask_decoder.js';
import type { PromptEncoderIter } from './decoder/prompt_encoder.js';
import { buildSemanticDecoder, channelStats, type DecoderOptions, preprocess, SAM_DECODER } from './decoder/semantic_decoder.js';
import type { SoftmaxAxis } from './fusion/cross_block.js';
import type { FuseFin } from './fusion/fuse_fin.js';
import type { FusePre } from './fusion/fuse_pre.js';
import type { FusePro } from './fusion/fuse_pro.js';
import { buildFusion, fuse } from './fusion/fusion.js';
import { applyLoRA, type LoRAQKV } from './lora.js';
import { MEDSAM_VIT_B } from './medsam/build.js';
import { ImageEncoderViT, type ImageEncoderViTOptions } from './medsam/image_encoder.js';
import { pdcConfig } from './pidinet/pdc.js';
import { PiDiNet, type PiDiNetOptions } from './pidinet/pidinet.js';
import type { CLIPVisionConfig } from './plip/config.js';
import { CLIPVisionTransformer } from './plip/vision_transformer.js';
import type { Mode } from './student.js';

const { nn } = torch;
type Tensor = torch.Tensor;

export type EncoderName = 'medsam' | 'pidinet' | 'plip';
export const ENCODER_NAMES: readonly EncoderName[] = ['medsam', 'pidinet', 'plip'];

/** PLIP's vision tower (HF vinid/plip = CLIP ViT-B/32), spec §3.4. */
export const PLIP_VIT_B32: Readonly<CLIPVisionConfig> = {
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  patch_size: 32,
  hidden_act: 'quick_gelu',
  layer_norm_eps: 1e-5,
  num_channels: 3,
};

/** PiDiNet as the teacher builds it (spec §3.5): carv4, inplane 60, CDCM width 24, CSAM. */
export const PIDINET_CARV4: Readonly<PiDiNetOptions> = { inplane: 60, pdcs: pdcConfig('carv4'), dil: 24, sa: true };

export interface TeacherFusionOptions {
  embed_dim: number;
  depth: number;
  num_heads: number;
  /** Learned tokens per depth (share_token_num). */
  num_tokens: number;
  /** Width of X_f (the decoder's transformer_dim). */
  out_chans: number;
  mlp_ratio?: number;
  qkv_bias?: boolean;
  layernorm_eps?: number;
  layernorm2d_eps?: number;
  fin_mlp_hidden?: number;
  softmax_axis?: SoftmaxAxis;
  /** FuseFin's common grid; default MedSAM's token grid (img_size / its patch size, else img_size / 16). */
  out_size?: readonly [number, number];
}

export interface MultiModelArchOptions {
  /** Which encoders run, in this order (any subset of medsam, pidinet, plip). */
  model_list: readonly EncoderName[];
  img_size: number;
  /** MedSAM's encoder (its img_size is replaced by img_size). */
  medsam?: ImageEncoderViTOptions;
  pidinet?: PiDiNetOptions;
  plip?: CLIPVisionConfig;
  fusion: TeacherFusionOptions;
  /** Compute (and trace) FusePro's head-averaged attention maps, as the reference's require_atten. */
  require_attn?: boolean;
}

/** The spec's config T: the three encoders at their real sizes, fusion width 768, depth 2, 512 tokens. */
export const MMFD_TEACHER_ARCH: Readonly<MultiModelArchOptions> = {
  model_list: ENCODER_NAMES,
  img_size: 512,
  medsam: MEDSAM_VIT_B,
  pidinet: PIDINET_CARV4,
  plip: PLIP_VIT_B32,
  fusion: { embed_dim: 768, depth: 2, num_heads: 12, num_tokens: 512, out_chans: 256, mlp_ratio: 4 },
};

export class MultiModelArch extends nn.Module {
  // `declare`: the fields are created in model_list order, so state_dict() follows it as in PyTorch.
  declare medsam?: ImageEncoderViT;
  declare pidinet?: PiDiNet;
  declare plip?: CLIPVisionTransformer;
  declare fuse_pre: FusePre;
  declare fuse_pro: FusePro;
  declare fuse_fin: FuseFin;
  readonly model_list: readonly EncoderName[];
  /** FuseFin's grid = the image embedding's [h, w]. */
  readonly embedding_size: [number, number];
  require_attn: boolean;

  constructor(o: MultiModelArchOptions) {
    super();
    if (o.model_list.length === 0 || new Set(o.model_list).size !== o.model_list.length) {
      throw new Error(`MultiModelArch: model_list must name distinct encoders, got [${o.model_list.join(', ')}]`);
    }
    this.model_list = [...o.model_list];
    this.require_attn = o.require_attn ?? false;
    const chans: number[] = [];
    for (const name of o.model_list) {
      if (name === 'medsam') {
        if (!o.medsam) throw new Error("MultiModelArch: model_list has 'medsam' but no medsam options");
        this.medsam = new ImageEncoderViT({ ...o.medsam, img_size: o.img_size });
        chans.push(o.medsam.out_chans);
      } else if (name === 'pidinet') {
        if (!o.pidinet) throw new Error("MultiModelArch: model_list has 'pidinet' but no pidinet options");
        this.pidinet = new PiDiNet(o.pidinet);
        chans.push(this.pidinet.out_chans);
      } else if (name === 'plip') {
        if (!o.plip) throw new Error("MultiModelArch: model_list has 'plip' but no plip options");
        this.plip = new CLIPVisionTransformer(o.plip, o.img_size);
        chans.push(o.plip.hidden_size);
      } else {
        throw new Error(`MultiModelArch: unknown encoder '${String(name)}' (medsam, pidinet, plip)`);
      }
    }
    const grid = Math.floor(o.img_size / (o.medsam?.patch_size ?? 16));
    const f = o.fusion;
    this.embedding_size = f.out_size ? [f.out_size[0], f.out_size[1]] : [grid, grid];
    const parts = buildFusion({ ...f, in_chans: chans, out_size: this.embedding_size });
    this.fuse_pre = parts.fuse_pre;
    this.fuse_pro = parts.fuse_pro;
    this.fuse_fin = parts.fuse_fin;
  }

  /** The encoder called name (undefined when it is not in model_list). */
  encoder(name: EncoderName): (torch.nn.Module & { forward(x: Tensor): Tensor }) | undefined {
    return this[name];
  }

  /** image [B, 3, H, W] RGB in [0, 1] -> X_f [B, out_chans, h, w]. */
  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const feats = this.model_list.map((name) => this.encoder(name)!.forward(x));
      return fuse(this, feats, this.require_attn).x;
    });
  }
}

export interface MultiModelSegOptions extends MultiModelArchOptions {
  num_classes: number;
  /** Default SAM's widths (256 / mlp 2048 / 8 heads / depth 2, mask_in_chans 16); transformer_dim must
   *  equal fusion.out_chans. */
  decoder?: Partial<DecoderOptions>;
  /** Refinement passes in mode 'train' / otherwise (both 1 in MMFD). */
  train_iter?: number;
  test_iter?: number;
  /** The wrapper's normalisation (0 and 1 in MMFD: every encoder normalises its own input). */
  pixel_mean?: readonly number[];
  pixel_std?: readonly number[];
}

export interface MultiModelSegOutput {
  /** Logits of every pass, [B, C, 4·H_e, 4·W_e] (H_e, W_e: the fused embedding's grid; the decoder sizes them from it). */
  low_res_logits_list: Tensor[];
  /** The same upsampled to [B, C, img_size, img_size]. */
  high_res_logits_list: Tensor[];
  /** The last high-res logits (independent sigmoid logits per class). */
  masks: Tensor;
  /** X_f (or ext_embed when given). */
  feats: Tensor;
}

export class MultiModelSeg extends nn.Module {
  image_encoder: MultiModelArch;
  prompt_encoder: PromptEncoderIter;
  mask_decoder: MaskDecoderIterSimple;
  readonly pixel_mean: Tensor;
  readonly pixel_std: Tensor;
  readonly img_size: number;
  train_iter: number;
  test_iter: number;

  constructor(o: MultiModelSegOptions) {
    super();
    const d: DecoderOptions = { ...SAM_DECODER, ...o.decoder };
    if (d.transformer_dim !== o.fusion.out_chans) {
      throw new Error(`MultiModelSeg: fusion.out_chans ${o.fusion.out_chans} must equal the decoder width ${d.transformer_dim}`);
    }
    this.img_size = o.img_size;
    this.train_iter = o.train_iter ?? 1;
    this.test_iter = o.test_iter ?? 1;
    this.image_encoder = new MultiModelArch(o);
    ({ prompt_encoder: this.prompt_encoder, mask_decoder: this.mask_decoder } = buildSemanticDecoder(
      d,
      o.num_classes,
      this.image_encoder.embedding_size,
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
   * image [B, 3, H, W] RGB in [0, 1]. mode 'train' runs train_iter passes, any other test_iter.
   * ext_embed replaces X_f (the encoders are then not run). Unlike the reference, no target is needed:
   * the initial logits take their size from X_f's grid (MaskDecoderIterSimple.forward).
   */
  forward(image: Tensor, mode: Mode = this.training ? 'train' : 'test', ext_embed?: Tensor): MultiModelSegOutput {
    return torch.tidy(() => {
      const feats = ext_embed ?? this.image_encoder.forward(this.preprocess(image));
      const iters = mode === 'train' ? this.train_iter : this.test_iter;
      const pe = this.prompt_encoder.get_dense_pe();
      const low_res_logits_list = this.mask_decoder.forward(feats, pe, this.prompt_encoder, iters);
      const high_res_logits_list = low_res_logits_list.map((m) => postprocess_masks(m, [this.img_size, this.img_size]));
      return { low_res_logits_list, high_res_logits_list, masks: high_res_logits_list.at(-1)!, feats };
    });
  }
}

export interface LoRAOptions {
  rank: number;
  /** Encoders that get LoRA (only 'medsam' is supported, as in MMFD). */
  model_for_lora?: readonly EncoderName[];
  /** MedSAM blocks to adapt (default all). */
  lora_layer?: readonly number[];
}

/**
 * LoRA_MultiModelSeg_Selective: every encoder parameter frozen, LoRA (rank r, q and v) on MedSAM's
 * attn.qkv. Trainable: the LoRA A/B weights, fuse_pre/pro/fin, the prompt encoder (its PE matrix is a
 * buffer) and the mask decoder. Build and load pretrained encoders first: LoRA renames attn.qkv.* to
 * attn.qkv.qkv.*.
 */
export class LoRAMultiModelSeg extends nn.Module {
  sam: MultiModelSeg;
  readonly lora: LoRAQKV[];

  constructor(sam: MultiModelSeg, o: LoRAOptions) {
    super();
    this.sam = sam;
    const arch = sam.image_encoder;
    for (const name of arch.model_list) arch.encoder(name)!.requires_grad_(false);
    const targets = o.model_for_lora ?? ['medsam'];
    for (const name of targets) {
      if (name !== 'medsam') throw new Error(`LoRAMultiModelSeg: LoRA on '${name}' is not supported (only medsam)`);
    }
    if (targets.includes('medsam') && !arch.medsam) throw new Error('LoRAMultiModelSeg: LoRA on medsam, but the teacher has no medsam');
    this.lora = targets.includes('medsam') && arch.medsam ? applyLoRA(arch.medsam, o.rank, o.lora_layer) : [];
  }

  /** The trainable parameters (requires_grad), under their state_dict names. */
  trainable_parameters(): [string, torch.nn.Parameter][] {
    return this.named_parameters().filter(([, p]) => p.requires_grad);
  }

  forward(image: Tensor, mode?: Mode, ext_embed?: Tensor): MultiModelSegOutput {
    return this.sam.forward(image, mode, ext_embed);
  }
}

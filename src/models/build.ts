// Builders: a loaded YAML config -> the teacher or the student, with pretrained weights loaded by the
// reference's rules (spec §3.1) when asked. Sizes come from the config's `arch` section (the
// reference's config_basic.py values by default), so small variants need no code change.
import { type ConfigTree, get } from '../config/index.js';
import * as torch from '../torch/index.js';
import { pdcConfig } from './pidinet/pdc.js';
import {
  loadMedsamEncoder,
  loadMobileSamEncoder,
  loadPidinet,
  loadPlipVision,
  loadSamPromptDecoder,
  loadStudentCheckpoint,
} from './pretrained.js';
import { Student, type StudentOptions } from './student.js';
import {
  type EncoderName,
  LoRAMultiModelSeg,
  MMFD_TEACHER_ARCH,
  MultiModelSeg,
  type MultiModelSegOptions,
  PIDINET_CARV4,
  PLIP_VIT_B32,
} from './teacher.js';

const num = (cfg: ConfigTree, path: string): number => {
  const v = get(cfg, path);
  if (typeof v !== 'number') throw new Error(`config: '${path}' must be a number, got ${JSON.stringify(v)}`);
  return v;
};
const nums = (cfg: ConfigTree, path: string): number[] => get(cfg, path) as number[];
const str = (cfg: ConfigTree, path: string): string => String(get(cfg, path));
/** The reference's 'none' fallbacks (spec §2.3): fuse_depth 'none' -> 4, fuse_token_num 'none' -> 1. */
const orFallback = (cfg: ConfigTree, path: string, fallback: number): number => (get(cfg, path) === 'none' ? fallback : num(cfg, path));

function decoderOptions(cfg: ConfigTree) {
  return {
    transformer_dim: num(cfg, 'arch.DECODER.TRANSFORMER_DIM'),
    transformer_depth: num(cfg, 'arch.DECODER.DEPTH'),
    transformer_mlp_dim: num(cfg, 'arch.DECODER.MLP_DIM'),
    transformer_num_heads: num(cfg, 'arch.DECODER.NUM_HEADS'),
    attention_downsample_rate: 2,
    mask_in_chans: num(cfg, 'arch.DECODER.MASK_IN_CHANS'),
  };
}

/** The teacher's options from a config like configs/multimodel2s-*.yaml. */
export function teacherOptions(cfg: ConfigTree): MultiModelSegOptions {
  const parallel = str(cfg, 'component.fuse_parallel_block');
  const final = str(cfg, 'component.fuse_final_block');
  if (parallel !== 'share_token') throw new Error(`config: component.fuse_parallel_block '${parallel}' is not supported (share_token)`);
  if (final !== 'sum') throw new Error(`config: component.fuse_final_block '${final}' is not supported (sum)`);
  const axis = str(cfg, 'component.fuse_softmax_axis');
  if (axis !== 'spatial' && axis !== 'tokens')
    throw new Error(`config: component.fuse_softmax_axis must be 'spatial' or 'tokens', got '${axis}'`);
  const m = 'arch.MED_SAM_VIT';
  const p = 'arch.PLIP';
  const d = 'arch.PIDINET';
  return {
    model_list: get(cfg, 'component.model_list') as EncoderName[],
    img_size: num(cfg, 'img_size'),
    num_classes: num(cfg, 'num_classes'),
    medsam: {
      ...MMFD_TEACHER_ARCH.medsam!,
      embed_dim: num(cfg, `${m}.EMBED_DIM`),
      depth: num(cfg, `${m}.DEPTH`),
      num_heads: num(cfg, `${m}.NUM_HEADS`),
      global_attn_indexes: nums(cfg, `${m}.GLOBAL_ATTN_INDEXES`),
      patch_size: num(cfg, `${m}.PATCH_SIZE`),
      window_size: num(cfg, `${m}.WINDOW_SIZE`),
      out_chans: num(cfg, `${m}.OUT_DIM`),
    },
    plip: {
      ...PLIP_VIT_B32,
      patch_size: num(cfg, `${p}.PATCH_SIZE`),
      hidden_size: num(cfg, `${p}.HIDDEN_SIZE`),
      intermediate_size: num(cfg, `${p}.INTERMEDIATE_SIZE`),
      num_hidden_layers: num(cfg, `${p}.NUM_LAYERS`),
      num_attention_heads: num(cfg, `${p}.NUM_HEADS`),
      hidden_act: str(cfg, `${p}.HIDDEN_ACT`) as typeof PLIP_VIT_B32.hidden_act,
      layer_norm_eps: num(cfg, `${p}.LAYER_NORM_EPS`),
    },
    pidinet: {
      ...PIDINET_CARV4,
      inplane: num(cfg, `${d}.INPLANE`),
      pdcs: pdcConfig(str(cfg, `${d}.PDCS`)),
      dil: num(cfg, `${d}.DIL`),
      sa: get(cfg, `${d}.SA`) === true,
    },
    fusion: {
      embed_dim: num(cfg, 'arch.FUSE_PRE.OUT_DIM'),
      depth: orFallback(cfg, 'component.fuse_depth', 4),
      num_heads: num(cfg, 'arch.FUSE_PRO.NUM_HEADS'),
      num_tokens: orFallback(cfg, 'component.fuse_token_num', 1),
      out_chans: num(cfg, 'arch.FUSE_FIN.OUT_DIM'),
      mlp_ratio: num(cfg, 'arch.FUSE_PRO.MLP_RATIO'),
      softmax_axis: axis,
    },
    decoder: decoderOptions(cfg),
    train_iter: num(cfg, 'component.train_iter'),
    test_iter: num(cfg, 'component.test_iter'),
  };
}

/** The student's options from a config like configs/mobilesam-*.yaml. */
export function studentOptions(cfg: ConfigTree): StudentOptions {
  const t = 'arch.TINYVIT';
  return {
    img_size: num(cfg, 'img_size'),
    num_classes: num(cfg, 'num_classes'),
    encoder: {
      embed_dims: nums(cfg, `${t}.EMBED_DIMS`),
      depths: nums(cfg, `${t}.DEPTHS`),
      num_heads: nums(cfg, `${t}.NUM_HEADS`),
      window_sizes: nums(cfg, `${t}.WINDOW_SIZES`),
      mlp_ratio: num(cfg, `${t}.MLP_RATIO`),
      merge_strides: nums(cfg, `${t}.MERGE_STRIDES`),
    },
    decoder: decoderOptions(cfg),
    train_iter: num(cfg, 'component.train_iter'),
    test_iter: num(cfg, 'component.test_iter'),
  };
}

/** Copies a loader's result into a module, strictly (every key the loader returns must exist). */
function loadInto(module: torch.nn.Module, sd: Map<string, torch.Tensor>, strict = true): void {
  module.load_state_dict(sd, strict);
  torch.dispose([...sd.values()]);
}

const given = (path: string): boolean => path !== '' && path !== 'none';

/**
 * The stage I teacher: MultiModelSeg (pretrained encoders, prompt encoder and decoder parts from the
 * files the config names, when `pretrained`), then the LoRA wrapper that freezes the encoders.
 */
export function buildTeacher(cfg: ConfigTree, o: { pretrained?: boolean } = {}): LoRAMultiModelSeg {
  const sam = new MultiModelSeg(teacherOptions(cfg));
  if (o.pretrained) {
    const enc = sam.image_encoder;
    const samCkpt = str(cfg, 'sam_ckpt');
    if (enc.medsam) loadInto(enc.medsam, loadMedsamEncoder(samCkpt, enc.medsam.state_dict()));
    if (enc.pidinet) loadInto(enc.pidinet, loadPidinet(str(cfg, 'pretrained.pidinet'), enc.pidinet.state_dict()));
    if (enc.plip) loadInto(enc.plip, loadPlipVision(str(cfg, 'pretrained.plip_dir'), enc.plip.state_dict()));
    // Only some prompt-encoder / decoder keys come from SAM; the rest (init_masks, cls_embeddings) stay new.
    loadInto(sam, loadSamPromptDecoder(samCkpt, sam.state_dict()), false);
  }
  return new LoRAMultiModelSeg(sam, {
    rank: num(cfg, 'train.rank'),
    model_for_lora: get(cfg, 'component.model_for_lora') as EncoderName[],
  });
}

/** The student: TinyViT + prompt encoder + decoder; MobileSAM's encoder weights and/or a trained
 *  student checkpoint (`ckpt`) when the config names them. */
export function buildStudent(cfg: ConfigTree, o: { pretrained?: boolean } = {}): Student {
  const student = new Student(studentOptions(cfg));
  if (o.pretrained) {
    const mobile = str(cfg, 'pretrained.mobile_sam');
    if (given(mobile)) loadInto(student.image_encoder, loadMobileSamEncoder(mobile, student.image_encoder.state_dict()));
    const ckpt = str(cfg, 'ckpt');
    if (given(ckpt)) loadInto(student, loadStudentCheckpoint(ckpt, student.state_dict()));
  }
  return student;
}

/** The model a config trains: the teacher for task multimodel2s, the student otherwise. */
export function buildForConfig(cfg: ConfigTree, o: { pretrained?: boolean } = {}): { role: 'teacher' | 'student'; model: torch.nn.Module } {
  const task = str(cfg, 'task');
  if (task === 'multimodel2s') return { role: 'teacher', model: buildTeacher(cfg, o) };
  if (task === 'mobilesam' || task === 'multimodel2s_distill') return { role: 'student', model: buildStudent(cfg, o) };
  throw new Error(`config: task '${task}' builds no model mmfd knows (multimodel2s, mobilesam, multimodel2s_distill)`);
}

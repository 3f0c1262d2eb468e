// Builders: a loaded YAML config -> the teacher or the student, with pretrained weights loaded by the
// reference's rules (spec §3.1) when asked. Sizes come from the config's `arch` section (the
// reference's config_basic.py values by default), so small variants need no code change.
import type { Config } from '../config/index.js';
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
import { LoRAMultiModelSeg, MMFD_TEACHER_ARCH, MultiModelSeg, type MultiModelSegOptions, PIDINET_CARV4, PLIP_VIT_B32 } from './teacher.js';

/** The reference's 'none' fallbacks (spec §2.3): fuse_depth 'none' -> 4, fuse_token_num 'none' -> 1. */
const orFallback = (v: number | 'none', fallback: number): number => (v === 'none' ? fallback : v);

function decoderOptions(cfg: Config) {
  const d = cfg.arch.DECODER;
  return {
    transformer_dim: d.TRANSFORMER_DIM,
    transformer_depth: d.DEPTH,
    transformer_mlp_dim: d.MLP_DIM,
    transformer_num_heads: d.NUM_HEADS,
    attention_downsample_rate: 2,
    mask_in_chans: d.MASK_IN_CHANS,
  };
}

/** The teacher's options from a config like configs/multimodel2s-*.yaml. */
export function teacherOptions(cfg: Config): MultiModelSegOptions {
  const { MED_SAM_VIT: m, PLIP: p, PIDINET: d } = cfg.arch;
  const c = cfg.component;
  return {
    model_list: c.model_list,
    img_size: cfg.img_size,
    num_classes: cfg.num_classes,
    medsam: {
      ...MMFD_TEACHER_ARCH.medsam!,
      embed_dim: m.EMBED_DIM,
      depth: m.DEPTH,
      num_heads: m.NUM_HEADS,
      global_attn_indexes: m.GLOBAL_ATTN_INDEXES,
      patch_size: m.PATCH_SIZE,
      window_size: m.WINDOW_SIZE,
      out_chans: m.OUT_DIM,
    },
    plip: {
      ...PLIP_VIT_B32,
      patch_size: p.PATCH_SIZE,
      hidden_size: p.HIDDEN_SIZE,
      intermediate_size: p.INTERMEDIATE_SIZE,
      num_hidden_layers: p.NUM_LAYERS,
      num_attention_heads: p.NUM_HEADS,
      hidden_act: p.HIDDEN_ACT,
      layer_norm_eps: p.LAYER_NORM_EPS,
    },
    pidinet: { ...PIDINET_CARV4, inplane: d.INPLANE, pdcs: pdcConfig(d.PDCS), dil: d.DIL, sa: d.SA },
    fusion: {
      embed_dim: cfg.arch.FUSE_PRE.OUT_DIM,
      depth: orFallback(c.fuse_depth, 4),
      num_heads: cfg.arch.FUSE_PRO.NUM_HEADS,
      num_tokens: orFallback(c.fuse_token_num, 1),
      out_chans: cfg.arch.FUSE_FIN.OUT_DIM,
      mlp_ratio: cfg.arch.FUSE_PRO.MLP_RATIO,
      softmax_axis: c.fuse_softmax_axis,
    },
    decoder: decoderOptions(cfg),
    train_iter: c.train_iter,
    test_iter: c.test_iter,
  };
}

/** The student's options from a config like configs/mobilesam-*.yaml. */
export function studentOptions(cfg: Config): StudentOptions {
  const t = cfg.arch.TINYVIT;
  return {
    img_size: cfg.img_size,
    num_classes: cfg.num_classes,
    encoder: {
      embed_dims: t.EMBED_DIMS,
      depths: t.DEPTHS,
      num_heads: t.NUM_HEADS,
      window_sizes: t.WINDOW_SIZES,
      mlp_ratio: t.MLP_RATIO,
      merge_strides: t.MERGE_STRIDES,
    },
    decoder: decoderOptions(cfg),
    train_iter: cfg.component.train_iter,
    test_iter: cfg.component.test_iter,
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
export function buildTeacher(cfg: Config, o: { pretrained?: boolean } = {}): LoRAMultiModelSeg {
  const sam = new MultiModelSeg(teacherOptions(cfg));
  if (o.pretrained) {
    const enc = sam.image_encoder;
    const samCkpt = cfg.sam_ckpt;
    if (enc.medsam) loadInto(enc.medsam, loadMedsamEncoder(samCkpt, enc.medsam.state_dict()));
    if (enc.pidinet) loadInto(enc.pidinet, loadPidinet(cfg.pretrained.pidinet, enc.pidinet.state_dict()));
    if (enc.plip) loadInto(enc.plip, loadPlipVision(cfg.pretrained.plip_dir, enc.plip.state_dict()));
    // Only some prompt-encoder / decoder keys come from SAM; the rest (init_masks, cls_embeddings) stay new.
    loadInto(sam, loadSamPromptDecoder(samCkpt, sam.state_dict()), false);
  }
  return new LoRAMultiModelSeg(sam, {
    rank: cfg.train.rank,
    model_for_lora: cfg.component.model_for_lora,
  });
}

/** The student: TinyViT + prompt encoder + decoder; MobileSAM's encoder weights and/or a trained
 *  student checkpoint (`ckpt`) when the config names them. */
export function buildStudent(cfg: Config, o: { pretrained?: boolean } = {}): Student {
  const student = new Student(studentOptions(cfg));
  if (o.pretrained) {
    const mobile = cfg.pretrained.mobile_sam;
    if (given(mobile)) loadInto(student.image_encoder, loadMobileSamEncoder(mobile, student.image_encoder.state_dict()));
    const ckpt = cfg.ckpt;
    if (given(ckpt)) loadInto(student, loadStudentCheckpoint(ckpt, student.state_dict()));
  }
  return student;
}

/** The model a config trains: the teacher for task multimodel2s, the student otherwise. */
export function buildForConfig(cfg: Config, o: { pretrained?: boolean } = {}): { role: 'teacher' | 'student'; model: torch.nn.Module } {
  const task = cfg.task;
  if (task === 'multimodel2s') return { role: 'teacher', model: buildTeacher(cfg, o) };
  if (task === 'mobilesam' || task === 'multimodel2s_distill') return { role: 'student', model: buildStudent(cfg, o) };
  throw new Error(`config: task '${task}' builds no model mmfd knows (multimodel2s, mobilesam, multimodel2s_distill)`);
}

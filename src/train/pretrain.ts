// Pretrained tiny encoders made here (issue 18). The real teacher starts from MedSAM, PLIP and PiDiNet, trained
// on other data than the few-shot set; offline there are no such files, so this stage makes small ones the same
// way: the tiny fused teacher, every encoder trainable and no LoRA, trained (supervised, the four classes) on
// another domain: synth_slide_crops, windows of synthetic whole slides (another generator: slide-scale layout,
// its own painter and stains, 2,000 patches), which the few-shot stage and the student never see. Its encoders
// are then written in the formats the real loaders read (a SAM-layout MedSAM .pth with its prompt-encoder and
// decoder parts, a Hugging Face CLIP folder for PLIP, a PiDiNet training .pth), and the few-shot teacher loads
// them through `sam_ckpt` / `pretrained.*` like the real files.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/index.js';
import { makeDir } from '../make_dir.js';
import type { MultiModelSeg } from '../models/teacher.js';
import * as torch from '../torch/index.js';
import { writeFileAtomic } from '../torch/io/files.js';
import { checkpointStem, LAST, loadTrainingCheckpoint } from './checkpoints.js';
import { ensureBuiltinDatasets } from './datasets.js';
import type { TrainingResult } from './loop.js';
import { runDir } from './run_config.js';
import { buildTrainingTeacher, teacherLogits, trainOnLosses } from './stage1.js';

type Tensor = torch.Tensor;

/** The pretraining domain: a built-in dataset the few-shot configs never name. */
export const PRETRAIN_DATASET = 'synth_slide_crops';

/** Where a config's pretrained files are: the paths the teacher build reads. */
export interface PretrainedFiles {
  medsam: string;
  pidinet: string;
  plipDir: string;
}

export function pretrainedFiles(cfg: Config): PretrainedFiles {
  return { medsam: cfg.sam_ckpt, pidinet: cfg.pretrained.pidinet, plipDir: cfg.pretrained.plip_dir };
}

/** The files of a pretraining run's outputs under `dir`, named as the real ones' roles. */
export function pretrainedFilesIn(dir: string): PretrainedFiles {
  return { medsam: join(dir, 'medsam_tiny.pth'), pidinet: join(dir, 'pidinet_tiny.pth'), plipDir: join(dir, 'plip_tiny') };
}

/** Config values that make the tiny teacher's config a pretraining run writing `files`. */
export function pretrainOverrides(files: PretrainedFiles): Record<string, unknown> {
  return {
    model: 'tiny-multimodel2s-pretrain',
    'train.dataset': PRETRAIN_DATASET,
    'val.dataset': PRETRAIN_DATASET,
    'test.dataset': PRETRAIN_DATASET,
    // The encoders themselves are what is learnt: all trained, none wrapped in LoRA, no validation (the files are `last`).
    'component.model_for_lora': [],
    'train.load_pretrained': false,
    'train.freeze_encoders': false,
    skip_eval: true,
    fewshot_perc_list: [100],
    ...pretrainedPaths(files),
  };
}

/** Config values that point a teacher config at `files`. */
export function pretrainedPaths(files: PretrainedFiles): Record<string, unknown> {
  return { sam_ckpt: files.medsam, 'pretrained.pidinet': files.pidinet, 'pretrained.plip_dir': files.plipDir };
}

const done = (f: PretrainedFiles): boolean =>
  existsSync(f.medsam) &&
  existsSync(f.pidinet) &&
  existsSync(join(f.plipDir, 'config.json')) &&
  existsSync(join(f.plipDir, 'model.safetensors'));

export interface PretrainResult {
  files: PretrainedFiles;
  /** Absent when the files were already there. */
  training?: TrainingResult;
}

/** Trains (or resumes) the pretraining run of `cfg` (a config with pretrainOverrides) and writes its files; skipped when they exist. */
export async function pretrainEncoders(cfg: Config): Promise<PretrainResult> {
  const files = pretrainedFiles(cfg);
  if (done(files)) return { files };
  await ensureBuiltinDatasets(cfg);
  const label = `${cfg.model} (encoders on ${cfg.train.dataset})`;
  const build = (run: Config) => {
    const { model, omitted } = buildTrainingTeacher(run);
    return { model, trainable: model.trainable_parameters().map(([, p]) => p), omitted };
  };
  const training = await trainOnLosses(cfg, 100, { label, build, logits: teacherLogits });
  const { model, omitted } = buildTrainingTeacher(cfg);
  try {
    loadTrainingCheckpoint(checkpointStem(runDir(cfg, 100), LAST), model, { omitted });
    await writePretrainedFiles(model.sam, files, cfg);
  } finally {
    model.dispose();
  }
  return { files, training };
}

const prefixed = (sd: ReadonlyMap<string, Tensor>, prefix: string, keep: (k: string) => boolean = () => true): [string, Tensor][] =>
  [...sd].filter(([k]) => keep(k)).map(([k, v]) => [prefix + k, v]);

/** The SAM-layout parts MMFD reuses from MedSAM besides the encoder (pretrained.ts: adaptSamPromptDecoder). */
const samPart = (k: string): boolean =>
  (k.startsWith('prompt_encoder.') && (k.includes('pe_layer') || k.includes('mask_downscaling'))) || k.startsWith('mask_decoder.');

/**
 * Writes the teacher's encoders as the real files are laid out: MedSAM as a SAM state dict (image_encoder.*, the
 * prompt encoder and mask decoder; SAM's first mask conv takes one mask, so the model's per-class kernels are
 * averaged into it and the loader repeats it back), PiDiNet as its training checkpoint ({epoch, state_dict} with
 * `module.` keys), PLIP as a Hugging Face CLIP folder (config.json with the vision_config, model.safetensors with
 * vision_model.* keys). Each file (the PLIP folder as a whole) is written beside its target and renamed into place.
 */
export async function writePretrainedFiles(sam: MultiModelSeg, files: PretrainedFiles, cfg: Config): Promise<void> {
  const enc = sam.image_encoder;
  if (!enc.medsam || !enc.pidinet || !enc.plip)
    throw new Error(`${cfg.model}: pretraining needs all three encoders (component.model_list)`);
  const { medsam, pidinet, plip } = enc;
  for (const f of [files.medsam, files.pidinet, files.plipDir]) makeDir(dirname(f));
  torch.tidy(() => {
    const sd = sam.state_dict();
    const entries = new Map<string, Tensor>([...prefixed(medsam.state_dict(), 'image_encoder.'), ...prefixed(sd, '', samPart)]);
    const maskConv = 'prompt_encoder.mask_downscaling.0.weight';
    entries.set(maskConv, (sd.get(maskConv) as Tensor).mean([1], true));
    torch.io.save_pth(files.medsam, entries);
    const state = new Map(prefixed(pidinet.state_dict(), 'module.'));
    torch.io.save_pth(
      files.pidinet,
      new Map<string, unknown>([
        ['epoch', cfg.train.max_iterations],
        ['state_dict', state],
      ]) as Map<string, never>,
    );
  });
  const tmpDir = `${files.plipDir}.tmp-${process.pid}`;
  rmSync(tmpDir, { recursive: true, force: true });
  makeDir(tmpDir);
  torch.io.save_safetensors(join(tmpDir, 'model.safetensors'), new Map(prefixed(plip.state_dict(), 'vision_model.')));
  const p = cfg.arch.PLIP;
  const vision_config = {
    hidden_size: p.HIDDEN_SIZE,
    intermediate_size: p.INTERMEDIATE_SIZE,
    num_hidden_layers: p.NUM_LAYERS,
    num_attention_heads: p.NUM_HEADS,
    patch_size: p.PATCH_SIZE,
    image_size: cfg.img_size,
    hidden_act: p.HIDDEN_ACT,
    layer_norm_eps: p.LAYER_NORM_EPS,
  };
  await writeFileAtomic(join(tmpDir, 'config.json'), `${JSON.stringify({ model_type: 'clip', vision_config }, null, 2)}\n`);
  rmSync(files.plipDir, { recursive: true, force: true });
  renameSync(tmpDir, files.plipDir);
}

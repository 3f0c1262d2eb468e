// Stage I: the fused teacher trained few-shot (the reference's fewshot_net.py with its missing
// general_process re-created, spec §1.2). For each P in fewshot_perc_list the run lives in
// <out_dir>/<task>/<model>/fewshot_perc<P>/: config_perc<P>.yaml, the `last` and `best`
// checkpoints, the training log and curves, then the test of `best`: eval_results.json, tables, pictures.
import type { Config } from '../config/index.js';
import type { Batch } from '../data/loader.js';
import { loaderFromConfig } from '../data/loader.js';
import type { Summary } from '../eval/evaluator.js';
import { buildTeacher } from '../models/build.js';
import type { LoRAMultiModelSeg } from '../models/teacher.js';
import * as torch from '../torch/index.js';
import {
  BEST,
  checkpointExists,
  checkpointStem,
  LAST,
  loadTrainingCheckpoint,
  pretrainedFrozenKeys,
  type TrainingMeta,
} from './checkpoints.js';
import { initLogitsFromPriors } from './class_prior.js';
import { forEachPercentage } from './datasets.js';
import { type LossTerms, type TrainingResult, trainOnSplits } from './loop.js';
import { segmentationLoss } from './losses.js';
import { resolvedConfig, runDir, segLossOptions, writeResolvedConfig } from './run_config.js';
import { testModel } from './test.js';

type Tensor = torch.Tensor;

/** One percentage of a stage: its run folder, how training went, the test summary. */
export interface StageRun {
  perc: number;
  dir: string;
  training: TrainingResult;
  test: Summary;
}

export interface TrainedTeacher {
  model: LoRAMultiModelSeg;
  /** Keys the build loaded from pretrained files (left out of its checkpoints). */
  omitted: Set<string>;
}

/**
 * The teacher as stage I trains it: built from the config (seeded), pretrained encoders loaded when
 * train.load_pretrained, LoRA per config, encoders frozen only when train.freeze_encoders.
 */
export function buildTrainingTeacher(cfg: Config): TrainedTeacher {
  torch.manual_seed(cfg.seed);
  const loadPretrained = cfg.train.load_pretrained;
  const model = buildTeacher(cfg, { pretrained: loadPretrained });
  unfreezeEncodersUnlessFrozen(model, cfg);
  return { model, omitted: pretrainedFrozenKeys(model, loadPretrained) };
}

/** The LoRA wrapper freezes the encoders; with train.freeze_encoders false, stage I trains them whole. */
export function unfreezeEncodersUnlessFrozen(model: LoRAMultiModelSeg, cfg: Config): void {
  if (cfg.train.freeze_encoders) return;
  const arch = model.sam.image_encoder;
  for (const name of arch.model_list) arch.encoder(name)?.requires_grad_(true);
}

/** The teacher's logits per refinement level. */
export function teacherLogits(model: LoRAMultiModelSeg, batch: Batch, mode: 'train' | 'test'): Tensor[] {
  return model.forward(batch.image, mode).high_res_logits_list;
}

/** Sums the segmentation losses (spec §6) over the levels trained: every level with loss.use_iter_loss, else the last; ignored pixels (`valid` 0) left out. */
export function levelsLoss(cfg: Config, logits: Tensor[], target: Tensor, valid?: Tensor): LossTerms {
  const trained = cfg.loss.use_iter_loss ? logits : logits.slice(-1);
  const options = segLossOptions(cfg);
  const parts = trained.map((l) => segmentationLoss(l, target, options, valid));
  const sum = (pick: (p: (typeof parts)[number]) => Tensor) => parts.map(pick).reduce((a, b) => a.add(b));
  return { total: sum((p) => p.total), terms: { dice: sum((p) => p.dice), bce: sum((p) => p.bce), focal: sum((p) => p.focal) } };
}

/** The checkpoint a finished run is tested with: `best`, or `last` when no validation ran. */
export function trainedCheckpoint(dir: string, what: string, howToTrain: string): string {
  for (const name of [BEST, LAST]) if (checkpointExists(checkpointStem(dir, name))) return checkpointStem(dir, name);
  throw new Error(`${dir}: no trained ${what} here (no ${BEST}.json or ${LAST}.json); train it first: ${howToTrain}`);
}

/** The stage I teacher of percentage P, trained weights loaded from its run folder, frozen, in eval mode. */
export function loadTrainedTeacher(
  cfg: Config,
  perc: number,
  source: string,
): { model: LoRAMultiModelSeg; stem: string; meta: TrainingMeta } {
  const run = resolvedConfig(cfg, perc);
  const stem = trainedCheckpoint(runDir(cfg, perc), 'teacher', `mmfd train --config ${source}`);
  const { model, omitted } = buildTrainingTeacher(run);
  const meta = loadTrainingCheckpoint(stem, model, { omitted });
  model.requires_grad_(false).eval();
  return { model, stem, meta };
}

const label = (cfg: Config, perc: number) => `${cfg.model} P${perc}`;

async function testTeacherRun(cfg: Config, perc: number, source: string): Promise<Summary> {
  const run = resolvedConfig(cfg, perc);
  const device = torch.best_device();
  const { model, meta } = loadTrainedTeacher(cfg, perc, source);
  if (device !== 'cpu') model.to(device);
  const loader = loaderFromConfig(run, 'test', perc);
  try {
    return await testModel({
      cfg: run,
      dir: runDir(cfg, perc),
      label: `${label(cfg, perc)} teacher`,
      model,
      loader,
      device,
      predict: (b) => teacherLogits(model, b, 'test'),
      mpp: meta.input_mpp,
    });
  } finally {
    await loader.close();
    model.dispose();
  }
}

/**
 * Trains one percentage of a network on the segmentation losses alone (the teacher in stage I, the student in the
 * student-only baseline): the resolved config written, `build` seeded from it, moved to the training device.
 */
export function trainOnLosses<M extends torch.nn.Module>(
  cfg: Config,
  perc: number,
  o: {
    label: string;
    build: (run: Config) => { model: M; trainable: torch.nn.Parameter[]; omitted: Set<string> };
    logits: (model: M, batch: Batch, mode: 'train' | 'test') => Tensor[];
  },
): Promise<TrainingResult> {
  const run = resolvedConfig(cfg, perc);
  writeResolvedConfig(run, perc);
  const device = torch.best_device();
  const { model, trainable, omitted } = o.build(run);
  if (device !== 'cpu') model.to(device);
  return trainOnSplits(perc, {
    cfg: run,
    dir: runDir(cfg, perc),
    label: o.label,
    model,
    trainable,
    omitted,
    device,
    loss: (b) => levelsLoss(run, o.logits(model, b, 'train'), b.sem_mask, b.valid),
    predict: (b) => o.logits(model, b, 'test'),
    prepare: async (train) => {
      const logits = await initLogitsFromPriors(model, train);
      console.log(`${o.label}: initial logits = class prior log-odds [${logits.map((v) => v.toFixed(2)).join(', ')}]`);
    },
  });
}

/** `mmfd train --config <teacher.yaml>`: trains (or resumes) and tests the teacher for every percentage. */
export function trainTeacher(cfg: Config, source: string): Promise<StageRun[]> {
  return forEachPercentage(cfg, async (perc) => {
    const training = await trainOnLosses(cfg, perc, {
      label: `${label(cfg, perc)} teacher`,
      build: (run) => {
        const { model, omitted } = buildTrainingTeacher(run);
        return { model, trainable: model.trainable_parameters().map(([, p]) => p), omitted };
      },
      logits: teacherLogits,
    });
    return { perc, dir: runDir(cfg, perc), training, test: await testTeacherRun(cfg, perc, source) };
  });
}

/** `mmfd train --config <teacher.yaml> --test`: tests the trained teacher of every percentage. */
export function testTeacher(cfg: Config, source: string): Promise<Summary[]> {
  return forEachPercentage(cfg, (perc) => testTeacherRun(cfg, perc, source));
}

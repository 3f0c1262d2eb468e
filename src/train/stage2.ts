// Stage II: distilling the frozen teacher into the TinyViT student (the reference's distill_net.py
// with its missing general_process re-created, spec §1.3 and §5). The teacher comes from its stage I
// run (network_t.cfg_file -> that config -> its run folder -> its best checkpoint); the student is
// built from network_s.cfg_file, gets the teacher's semantic decoder (prompt encoder + mask decoder)
// copied and frozen, and trains its encoder on
//   loss = distill_mse_weight · MSE(student embedding, teacher X_f) + the segmentation losses of §6.
import { existsSync } from 'node:fs';
import type { Config } from '../config/index.js';
import { buildAugmentations } from '../data/augment.js';
import type { Batch } from '../data/loader.js';
import { loaderFromConfig } from '../data/loader.js';
import type { Summary } from '../eval/evaluator.js';
import { buildStudent } from '../models/build.js';
import { loadStudentCheckpoint } from '../models/pretrained.js';
import type { Student } from '../models/student.js';
import type { LoRAMultiModelSeg } from '../models/teacher.js';
import * as torch from '../torch/index.js';
import { checkpointId, loadTrainingCheckpoint, type TrainingMeta } from './checkpoints.js';
import { forEachPercentage } from './datasets.js';
import { type LossTerms, trainOnSplits } from './loop.js';
import { loadNamedConfig, resolvedConfig, runDir, writeResolvedConfig } from './run_config.js';
import { levelsLoss, loadTrainedTeacher, type StageRun, trainedCheckpoint } from './stage1.js';
import { TeacherEmbeddingCache } from './teacher_cache.js';
import { testModel } from './test.js';

type Tensor = torch.Tensor;

export interface DistillConfigs {
  /** The distillation config itself (data, schedule, losses, output folder). */
  distill: Config;
  teacher: Config;
  student: Config;
}

/** The distillation config with the teacher's and the student's (network_t / network_s.cfg_file). */
export function distillConfigs(cfg: Config, source: string): DistillConfigs {
  const teacher = loadNamedConfig(cfg, 'network_t', source);
  const student = loadNamedConfig(cfg, 'network_s', source);
  for (const [key, other] of [
    ['network_t', teacher],
    ['network_s', student],
  ] as const) {
    if (other.img_size !== cfg.img_size) {
      throw new Error(
        `${source}: img_size ${cfg.img_size} differs from the img_size ${other.img_size} of ${key}.cfg_file (${cfg[key].cfg_file})`,
      );
    }
  }
  return { distill: cfg, teacher, student };
}

/** The student built from its config (seeded), with MobileSAM / student weights when train.load_pretrained. */
export function buildSeededStudent(cfgS: Config, seed: number): Student {
  torch.manual_seed(seed);
  return buildStudent(cfgS, { pretrained: cfgS.train.load_pretrained });
}

/** Copies the teacher's semantic decoder into the student and freezes it (spec §5.2, the paper's figure). */
export function copyFrozenDecoder(teacher: LoRAMultiModelSeg, student: Student, what: string): void {
  try {
    student.prompt_encoder.load_state_dict(teacher.sam.prompt_encoder.state_dict());
    student.mask_decoder.load_state_dict(teacher.sam.mask_decoder.state_dict());
  } catch (err) {
    throw new Error(
      `${what}: the teacher's decoder does not fit the student's (compare arch.DECODER of both configs): ${(err as Error).message}`,
    );
  }
  student.prompt_encoder.requires_grad_(false);
  student.mask_decoder.requires_grad_(false);
}

/** X_f of the frozen teacher for a batch (the encoders and fusion only; the decoder is not needed). */
const teacherEmbedding = (teacher: LoRAMultiModelSeg, image: Tensor): Tensor =>
  torch.no_grad(() => teacher.sam.image_encoder.forward(teacher.sam.preprocess(image)));

export const studentLogits = (student: Student, batch: Batch, mode: 'train' | 'test'): Tensor[] =>
  student.forward(batch.image, mode).high_res_logits;

/** Loads trained student weights: an mmfd checkpoint (its .json / .safetensors / stem) or a state-dict file (.pth, .safetensors). */
export function loadStudentWeights(student: Student, path: string): TrainingMeta | undefined {
  const stem = path.replace(/\.(json|safetensors)$/, '');
  if (existsSync(`${stem}.json`)) return loadTrainingCheckpoint(stem, student, { omitted: new Set() });
  if (!existsSync(path)) throw new Error(`${path}: checkpoint not found`);
  const sd = loadStudentCheckpoint(path, student.state_dict());
  try {
    student.load_state_dict(sd);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  } finally {
    torch.dispose([...sd.values()]);
  }
  return undefined;
}

const label = (cfg: Config, perc: number) => `${cfg.model} P${perc} student`;

/** The distillation loss of one batch; the teacher's embedding from `teacherX`. */
function distillLoss(cfg: Config, student: Student, batch: Batch, teacherX: Tensor): LossTerms {
  const out = student.forward(batch.image, 'train');
  const xs = out.image_embedding;
  if (xs.shape.join() !== teacherX.shape.join()) {
    throw new Error(
      `distillation: the student's embedding [${xs.shape}] and the teacher's [${teacherX.shape}] differ; ` +
        "arch.DECODER.TRANSFORMER_DIM and the embedding grid (the teacher's MED_SAM_VIT.PATCH_SIZE, the student's TINYVIT.MERGE_STRIDES) must match between network_t and network_s",
    );
  }
  const mse = xs.sub(teacherX).square().mean().mul(cfg.loss.distill_mse_weight);
  // The embedding MSE does not read the labels; only the segmentation terms leave ignored pixels out.
  const seg = levelsLoss(cfg, out.high_res_logits, batch.sem_mask, batch.valid);
  return { total: mse.add(seg.total), terms: { distill: mse, ...seg.terms } };
}

export interface TrainedStudentTest {
  /** The config the student's network is built from. */
  arch: Config;
  /** The resolved run config (its folder, test split, seed). */
  run: Config;
  perc: number;
  label: string;
  /** The command that trains it, for the error when it is not trained yet. */
  howToTrain: string;
}

/** Tests the trained student in the run's folder (`best`, else `last`) on the run's test split. */
export async function testTrainedStudent(t: TrainedStudentTest): Promise<Summary> {
  const dir = runDir(t.run, t.perc);
  const device = torch.best_device();
  const student = buildSeededStudent(t.arch, t.run.seed);
  const meta = loadStudentWeights(student, trainedCheckpoint(dir, 'student', t.howToTrain));
  if (device !== 'cpu') student.to(device);
  const loader = loaderFromConfig(t.run, 'test', t.perc);
  try {
    return await testModel({
      cfg: t.run,
      dir,
      label: t.label,
      model: student,
      loader,
      device,
      predict: (b) => studentLogits(student, b, 'test'),
      mpp: meta?.input_mpp,
    });
  } finally {
    await loader.close();
    student.dispose();
  }
}

const testStudentRun = (configs: DistillConfigs, perc: number, source: string): Promise<Summary> => {
  const run = resolvedConfig(configs.distill, perc);
  return testTrainedStudent({ arch: configs.student, run, perc, label: label(run, perc), howToTrain: `mmfd distill --config ${source}` });
};

/** `mmfd distill --config <distill.yaml>`: distils (or resumes) and tests the student for every percentage. */
export async function distill(cfg: Config, source: string): Promise<StageRun[]> {
  const configs = distillConfigs(cfg, source);
  const teacherSource = cfg.network_t.cfg_file;
  // Before any dataset is generated: every percentage needs its trained teacher.
  for (const perc of cfg.fewshot_perc_list)
    trainedCheckpoint(runDir(configs.teacher, perc), 'teacher', `mmfd train --config ${teacherSource}`);
  return forEachPercentage(cfg, async (perc) => {
    const run = resolvedConfig(cfg, perc);
    const dir = runDir(cfg, perc);
    writeResolvedConfig(run, perc);
    const device = torch.best_device();
    const teacher = loadTrainedTeacher(configs.teacher, perc, teacherSource);
    const student = buildSeededStudent(configs.student, run.seed);
    copyFrozenDecoder(teacher.model, student, source);
    if (device !== 'cpu') {
      teacher.model.to(device);
      student.to(device);
    }
    const augment = buildAugmentations(run.train.augment);
    const cache = run.train.cache_teacher_embeddings
      ? new TeacherEmbeddingCache(dir, checkpointId(teacher.stem), augment, source)
      : undefined;
    const teacherX = (b: Batch): Tensor =>
      cache ? cache.embeddings(b.names, device, () => teacherEmbedding(teacher.model, b.image)) : teacherEmbedding(teacher.model, b.image);
    const training = await trainOnSplits(
      perc,
      {
        cfg: run,
        dir,
        label: label(run, perc),
        model: student,
        trainable: student.parameters().filter((p) => p.requires_grad),
        omitted: new Set(),
        device,
        loss: (b) => distillLoss(run, student, b, teacherX(b)),
        predict: (b) => studentLogits(student, b, 'test'),
        input_mpp: teacher.meta.input_mpp,
      },
      () => {
        teacher.model.dispose();
        student.dispose();
      },
    );
    return { perc, dir, training, test: await testStudentRun(configs, perc, source) };
  });
}

/** `mmfd distill --config <distill.yaml> --test`: tests the distilled student of every percentage. */
export function testStudent(cfg: Config, source: string): Promise<Summary[]> {
  const configs = distillConfigs(cfg, source);
  return forEachPercentage(cfg, (perc) => testStudentRun(configs, perc, source));
}

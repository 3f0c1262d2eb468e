// The few-shot curve of the demo workflow (issue 18), on its own configs and lengths (the workflow's 100 % runs
// stay as they are): the teacher's encoders pretrained on another domain and written as MedSAM / PLIP / PiDiNet
// files (pretrain.ts; skipped when present), then for each percentage of the few-shot set the fused teacher on
// them (frozen encoders, LoRA on MedSAM, as the reference trains its teacher), the student distilled from it and
// the same student alone, all tested on the held-out set; the curve PNG and the report's few-shot tables.
// `mmfd demo` runs a short curve (in a second process beside its 100 % stages: beside.ts), `npm run bench:fewshot`
// (bench/fewshot.ts) the long one over several seeds.
import { basename, dirname, join, resolve } from 'node:path';
import { loadConfig } from '../config/index.js';
import { stageSamples } from '../data/loader.js';
import { SCORE_NOTES } from '../eval/report.js';
import type { MetricsTable, ReportImage } from '../viz/report.js';
import { trainStudentAlone } from './baseline.js';
import { writeFewshotCurve } from './fewshot_curve.js';
import {
  PRETRAIN_DATASET,
  type PretrainResult,
  pretrainEncoders,
  pretrainedFilesIn,
  pretrainedPaths,
  pretrainOverrides,
} from './pretrain.js';
import { CURVES_FILE } from './run_log.js';
import { type StageRun, trainTeacher } from './stage1.js';
import { distill } from './stage2.js';
import { deriveTinyConfig, MODELS, type ModelKey, metricsTable, onWorkflowThreads, TINY_CONFIGS, timed } from './workflow_parts.js';

/**
 * The demo's curve: two points, one seed, lengths that fit on the core the 100 % stages leave idle (about as long as
 * they take on 2 cores). Shorter ones do not show the mechanism (120 / 300 left the teacher at 0.494 at both
 * percentages); bench:fewshot runs longer ones over several seeds.
 */
export const DEMO_PERCENTAGES: readonly number[] = [5, 30];
export const DEMO_FEWSHOT_ITERATIONS = 400;
export const DEMO_PRETRAIN_ITERATIONS = 1000;
/** Validations per few-shot run (`best` is chosen by them, on the validation split, never the test set). */
const VALIDATIONS = 3;

export interface FewshotOptions {
  /** fewshot_perc_list of the three few-shot stages (default DEMO_PERCENTAGES). */
  percentages?: readonly number[];
  /** Iterations of each few-shot stage (default DEMO_FEWSHOT_ITERATIONS). */
  iterations?: number;
  /** Iterations of the pretraining (default DEMO_PRETRAIN_ITERATIONS). */
  pretrainIterations?: number;
  /** The few-shot stages' seed (initialisation, batch order, which patches a percentage keeps); the configs' by default. */
  seed?: number;
  /** Folder of the pretrained encoder files (made there unless present); default <out>/pretrained. */
  pretrained?: string;
  /**
   * Also trains the control teacher: the same teacher, trained the same way, on random encoders instead of the
   * pretrained ones (what separates "pretrained" from "a bigger model").
   */
  control?: boolean;
}

export interface FewshotStage {
  /** One run per percentage, in the order of the list. */
  runs: StageRun[];
  seconds: number;
}

export type FewshotRuns = Record<ModelKey, FewshotStage> & { control?: FewshotStage };

export interface FewshotResult extends FewshotRuns {
  pretraining: PretrainResult & { seconds: number };
  percentages: number[];
  /** Labelled training patches at each percentage. */
  patches: number[];
  /** The curve PNG. */
  curve: string;
  /** The few-shot stages' seed. */
  seed: number;
}

export interface FewshotConfigs {
  pretrain: string;
  teacher: string;
  student: string;
  distill: string;
  /** The control teacher's, when asked for. */
  control?: string;
}

/** The few-shot configs' model names: their run folders lie beside the 100 % runs' without touching them. */
const fewshotName = (file: string) => file.replace(/\.yaml$/, '-fewshot.yaml');

/**
 * Writes <out>/configs/*-fewshot.yaml and the pretraining config: the tiny configs under other model names, with the
 * few-shot lengths, percentages and seed; the teacher loads the pretrained files and freezes its encoders.
 */
export async function deriveFewshotConfigs(out: string, f: FewshotOptions): Promise<FewshotConfigs> {
  const dir = join(resolve(out), 'configs');
  const path = (name: string) => join(dir, name);
  const files = pretrainedFilesIn(resolve(f.pretrained ?? join(out, 'pretrained')));
  const iterations = f.iterations ?? DEMO_FEWSHOT_ITERATIONS;
  const evalEvery = Math.ceil(iterations / VALIDATIONS);
  const model = (file: string) => fewshotName(file).replace(/\.yaml$/, '');
  const fewshot = {
    out_dir: join(resolve(out), 'exp'),
    'train.max_iterations': iterations,
    eval_iter: evalEvery,
    save_iter: evalEvery,
    fewshot_perc_list: [...(f.percentages ?? DEMO_PERCENTAGES)],
    ...(f.seed === undefined ? {} : { seed: f.seed }),
  };
  const pretrain = 'tiny-multimodel2s-pretrain.yaml';
  await deriveTinyConfig(TINY_CONFIGS.teacher, path(pretrain), {
    ...pretrainOverrides(files),
    out_dir: join(dirname(files.medsam), 'exp'),
    'train.max_iterations': f.pretrainIterations ?? DEMO_PRETRAIN_ITERATIONS,
  });
  const teacher = path(fewshotName(TINY_CONFIGS.teacher));
  const student = path(fewshotName(TINY_CONFIGS.student));
  const teacherValues = {
    ...fewshot,
    model: model(TINY_CONFIGS.teacher),
    ...pretrainedPaths(files),
    'train.load_pretrained': true,
    'train.freeze_encoders': true,
    // The students' rate: only LoRA, the fusion and the decoder train.
    'train.base_lr': 0.001,
  };
  await deriveTinyConfig(TINY_CONFIGS.teacher, teacher, teacherValues);
  const control = f.control ? path(TINY_CONFIGS.teacher.replace(/\.yaml$/, '-control-fewshot.yaml')) : undefined;
  if (control)
    await deriveTinyConfig(TINY_CONFIGS.teacher, control, {
      ...teacherValues,
      model: basename(control, '.yaml'),
      'train.load_pretrained': false,
    });
  await deriveTinyConfig(TINY_CONFIGS.student, student, { ...fewshot, model: model(TINY_CONFIGS.student) });
  const distillFile = path(fewshotName(TINY_CONFIGS.distill));
  await deriveTinyConfig(TINY_CONFIGS.distill, distillFile, {
    ...fewshot,
    model: model(TINY_CONFIGS.distill),
    'network_t.cfg_file': teacher,
    'network_s.cfg_file': student,
  });
  return { pretrain: path(pretrain), teacher, student, distill: distillFile, ...(control ? { control } : {}) };
}

/** Derives the few-shot configs and makes (or finds) the pretrained encoder files. */
export async function runPretraining(
  out: string,
  f: FewshotOptions,
): Promise<{ files: FewshotConfigs; pretraining: FewshotResult['pretraining'] }> {
  const files = await deriveFewshotConfigs(out, f);
  const t0 = performance.now();
  const pretrained = await onWorkflowThreads(() => pretrainEncoders(loadConfig(files.pretrain)));
  return { files, pretraining: { ...pretrained, seconds: (performance.now() - t0) / 1000 } };
}

/** Runs (or resumes) the pretraining and the three few-shot stages at every percentage; writes <out>/fewshot_curve.png. */
export async function runFewshot(out: string, f: FewshotOptions): Promise<FewshotResult> {
  const { files, pretraining } = await runPretraining(out, f);
  const runs: FewshotRuns = await onWorkflowThreads(async () => ({
    teacher: await timed(trainTeacher, files.teacher),
    student: await timed(distill, files.distill),
    studentAlone: await timed(trainStudentAlone, files.student),
    ...(files.control ? { control: await timed(trainTeacher, files.control) } : {}),
  }));
  const teacherCfg = loadConfig(files.teacher);
  const percentages = teacherCfg.fewshot_perc_list;
  const patches = percentages.map((p) => stageSamples(teacherCfg, 'train', p).samples.length);
  const curve = join(resolve(out), 'fewshot_curve.png');
  await writeFewshotCurve(
    curve,
    MODELS.map(([key, name]) => ({
      name,
      points: runs[key].runs.map((run, i) => ({ patches: patches[i] as number, miou: [run.test.MIoU_mean_L0 as number] })),
    })),
    `Few-shot: held-out test mIoU against labelled patches (seed ${teacherCfg.seed})`,
  );
  return { ...runs, pretraining, percentages, patches, curve, seed: teacherCfg.seed };
}

/** The models side by side at every percentage. */
function fewshotTable(r: FewshotResult): MetricsTable {
  const rows = MODELS.flatMap(([key, name]) =>
    r[key].runs.map((run, i) => [
      name,
      run.perc,
      r.patches[i] as number,
      run.test.MIoU_mean_L0 as number,
      run.test.pooled_iou_mean as number,
      run.training.best_miou ?? 'n/a',
      run.training.iteration,
    ]),
  );
  return {
    caption: 'Few-shot: teacher on pretrained encoders and students at each percentage (test: the held-out synthetic set)',
    columns: [
      'model',
      'few-shot %',
      'labelled patches',
      'test mIoU (per-image mean)',
      'test mIoU (pooled)',
      'best validation mIoU (per-image mean)',
      'iterations',
    ],
    rows,
    decimals: 3,
    notes: SCORE_NOTES,
  };
}

/**
 * What the curve is for, at its lowest percentage in words: the teacher's and the distilled student's test mIoU
 * over the student alone's (one seed; bench:fewshot measures the spread over seeds).
 */
export function fewshotMargins(r: FewshotResult): string {
  const low = r.percentages.indexOf(Math.min(...r.percentages));
  const miou = (key: ModelKey) => (r[key].runs[low] as StageRun).test.MIoU_mean_L0 as number;
  const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}`;
  return (
    `at ${r.percentages[low]} % (${r.patches[low]} labelled patches), test mIoU over the student alone: ` +
    `teacher ${signed(miou('teacher') - miou('studentAlone'))}, distilled student ${signed(miou('student') - miou('studentAlone'))} ` +
    `(seed ${r.seed}; npm run bench:fewshot gives the spread over seeds)`
  );
}

/** The report's few-shot part: data rows, the comparison and per-class tables at the lowest percentage, the curves. */
export function fewshotReport(r: FewshotResult): { extra: [string, string][]; tables: MetricsTable[]; curves: ReportImage[] } {
  const low = r.percentages.indexOf(Math.min(...r.percentages));
  const lowName = `${r.percentages[low]} % (${r.patches[low]} labelled patches)`;
  const pick = (key: ModelKey) => r[key].runs[low] as StageRun;
  return {
    extra: [
      [
        'Few-shot pretraining data',
        `${PRETRAIN_DATASET}: windows of synthetic whole slides (another generator); only the few-shot teacher's encoders see it`,
      ],
      ['Few-shot data', `synth_tiny: ${r.percentages.map((p, i) => `${p} % = ${r.patches[i]}`).join(', ')} labelled training patches`],
      ['Few-shot margins', fewshotMargins(r)],
    ],
    tables: [
      fewshotTable(r),
      ...MODELS.map(([key, name]) => metricsTable(`few-shot ${name} at ${lowName}, per class (test)`, pick(key).test)),
    ],
    curves: [
      { path: r.curve, caption: 'Few-shot curve: held-out test mIoU of each model against the labelled patches it trained on' },
      ...MODELS.map(([key, name]) => ({
        path: join(pick(key).dir, CURVES_FILE),
        caption: `few-shot ${name} at ${lowName}: loss terms and validation mIoU`,
      })),
    ],
  };
}

// The whole MMFD workflow on built-in data, as `mmfd demo`, `npm run bench:fewshot` and bench:learning run it:
// the tiny configs copied into <out>/configs (output folder, lengths, percentages set); the teacher's encoders
// pretrained on another domain and written as MedSAM / PLIP / PiDiNet files (pretrain.ts; skipped when present);
// for each few-shot percentage the fused teacher trained on them (stage I, frozen encoders, LoRA), the student
// distilled from it (stage II), the same student trained alone (the reference's student-only baseline: what
// distillation must beat), all tested on the held-out synthetic test set; the few-shot curve and one HTML report
// with metrics, curves and overlays. Runs resume: a rerun continues where an interrupted one stopped and skips
// finished stages.
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDerivedConfig } from '../config/derive.js';
import { type Config, loadConfig } from '../config/index.js';
import { stageSamples } from '../data/loader.js';
import type { Summary } from '../eval/evaluator.js';
import { resultTable, SCORE_NOTES } from '../eval/report.js';
import * as torch from '../torch/index.js';
import { type MetricsTable, type ReportImage, writeReport } from '../viz/report.js';
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
import { visDir } from './test.js';

/** The shipped tiny configs the workflow derives its own from. */
export const TINY_CONFIGS = {
  teacher: 'tiny-multimodel2s.yaml',
  student: 'tiny-mobilesam.yaml',
  distill: 'tiny-multimodel2s_distill.yaml',
};

/** The few-shot percentages `mmfd demo` runs: a short curve (the benchmark's is bench/fewshot.ts's). */
export const DEMO_PERCENTAGES: readonly number[] = [5, 100];
/** Iterations of each few-shot stage (teacher, distilled student, student alone) and of the pretraining. */
export const FEWSHOT_ITERATIONS = 150;
export const PRETRAIN_ITERATIONS = 600;
/** Validations per few-shot run (`best` is chosen by them). */
const VALIDATIONS = 1;

export interface WorkflowOptions {
  /** Folder for the derived configs, the runs (exp/) and report.html. */
  out: string;
  /** Overrides train.max_iterations of every stage, the pretraining included. */
  iterations?: number;
  /** Overrides eval_iter and save_iter. */
  evalEvery?: number;
  /** fewshot_perc_list of the three few-shot stages (default DEMO_PERCENTAGES). */
  percentages?: readonly number[];
  /** The few-shot stages' seed (initialisation, batch order, which patches a percentage keeps); the configs' by default. */
  seed?: number;
  /** Folder of the pretrained encoder files (made there unless present); default <out>/pretrained. */
  pretrained?: string;
}

export interface WorkflowStage {
  /** One run per percentage, in the order of the list. */
  runs: StageRun[];
  /** Wall time of the stage in this invocation (training, validation and test of every percentage). */
  seconds: number;
}

export interface WorkflowRuns {
  teacher: WorkflowStage;
  /** The student distilled from the teacher. */
  student: WorkflowStage;
  /** The same student trained alone, without a teacher. */
  studentAlone: WorkflowStage;
}

export interface WorkflowResult extends WorkflowRuns {
  pretraining: PretrainResult & { seconds: number };
  /** Labelled training patches at each percentage. */
  patches: number[];
  percentages: number[];
  report: string;
  /** The few-shot curve PNG. */
  curve: string;
}

export const MODELS: readonly [keyof WorkflowRuns, string][] = [
  ['teacher', 'teacher (fused MedSAM + PiDiNet + PLIP)'],
  ['student', 'student (TinyViT, distilled)'],
  ['studentAlone', 'student alone (TinyViT, no teacher)'],
];

const packageConfigs = fileURLToPath(new URL('../../../configs/', import.meta.url));

interface WorkflowConfigs {
  pretrain: string;
  teacher: string;
  student: string;
  distill: string;
}

/**
 * Writes <out>/configs/*.yaml: the tiny configs with absolute output and config paths, so any cwd works. The
 * pretraining config is the tiny teacher's made a pretraining run (pretrain.ts); the few-shot teacher loads its
 * files and freezes its encoders (LoRA on MedSAM, as the reference trains its teacher).
 */
async function deriveConfigs(o: WorkflowOptions): Promise<WorkflowConfigs> {
  const out = resolve(o.out);
  const dir = join(out, 'configs');
  const path = (name: string) => join(dir, name);
  const files = pretrainedFilesIn(resolve(o.pretrained ?? join(out, 'pretrained')));
  const iterations = o.iterations ?? FEWSHOT_ITERATIONS;
  const evalEvery = o.evalEvery ?? Math.ceil(iterations / VALIDATIONS);
  const fewshot: Record<string, unknown> = {
    out_dir: join(out, 'exp'),
    'train.max_iterations': iterations,
    eval_iter: evalEvery,
    save_iter: evalEvery,
    fewshot_perc_list: [...(o.percentages ?? DEMO_PERCENTAGES)],
    ...(o.seed === undefined ? {} : { seed: o.seed }),
  };
  const derive = async (name: string, to: string, values: Record<string, unknown>) => {
    const source = join(packageConfigs, name);
    // A shortened run keeps its warm-up inside it.
    const warmup = loadConfig(source).train.warmup_period;
    const length = values['train.max_iterations'] as number;
    const warm = length < warmup ? { 'train.warmup_period': length } : {};
    await writeDerivedConfig(source, path(to), { ...values, ...warm });
  };
  const pretrain = 'tiny-multimodel2s-pretrain.yaml';
  await derive(TINY_CONFIGS.teacher, pretrain, {
    out_dir: join(dirname(files.medsam), 'exp'),
    'train.max_iterations': o.iterations ?? PRETRAIN_ITERATIONS,
    ...pretrainOverrides(files),
  });
  await derive(TINY_CONFIGS.teacher, TINY_CONFIGS.teacher, {
    ...fewshot,
    ...pretrainedPaths(files),
    'train.load_pretrained': true,
    'train.freeze_encoders': true,
    // The students' rate: only LoRA, the fusion and the decoder train.
    'train.base_lr': 0.001,
  });
  await derive(TINY_CONFIGS.student, TINY_CONFIGS.student, fewshot);
  await derive(TINY_CONFIGS.distill, TINY_CONFIGS.distill, {
    ...fewshot,
    'network_t.cfg_file': path(TINY_CONFIGS.teacher),
    'network_s.cfg_file': path(TINY_CONFIGS.student),
  });
  return {
    pretrain: path(pretrain),
    teacher: path(TINY_CONFIGS.teacher),
    student: path(TINY_CONFIGS.student),
    distill: path(TINY_CONFIGS.distill),
  };
}

async function timed(train: (cfg: Config, source: string) => Promise<StageRun[]>, file: string): Promise<WorkflowStage> {
  const t0 = performance.now();
  const runs = await train(loadConfig(file), file);
  return { runs, seconds: (performance.now() - t0) / 1000 };
}

/** The per-class test table of one model, for the report. */
function metricsTable(caption: string, summary: Summary): MetricsTable {
  const { columns, rows, notes } = resultTable(summary);
  return {
    caption,
    columns: ['class', ...columns.map((c) => c.title)],
    rows: rows.map((r) => [r.name, ...r.values.map((v) => (Number.isFinite(v) ? v : 'n/a'))]),
    notes,
  };
}

/** The models side by side at every percentage: what distillation kept, what it added over the student alone. */
function comparisonTable(r: WorkflowRuns, patches: readonly number[]): MetricsTable {
  const rows = MODELS.flatMap(([key, name]) =>
    r[key].runs.map((run, i) => [
      name,
      run.perc,
      patches[i] as number,
      run.test.MIoU_mean_L0 as number,
      run.test.pooled_iou_mean as number,
      run.training.best_miou ?? 'n/a',
      run.training.iteration,
      run.training.images_per_s > 0 ? run.training.images_per_s : 'n/a',
    ]),
  );
  return {
    caption: 'Teacher and students at each few-shot percentage (test: the held-out synthetic set)',
    columns: [
      'model',
      'few-shot %',
      'labelled patches',
      'test mIoU (per-image mean)',
      'test mIoU (pooled)',
      'best validation mIoU (per-image mean)',
      'iterations',
      'training images/s',
    ],
    rows,
    decimals: 3,
    notes: SCORE_NOTES,
  };
}

/** The composites the tests at one percentage wrote (original | prediction | ground truth), every model's of the same images. */
function overlays(r: WorkflowRuns, at: number): ReportImage[] {
  const dir = (key: keyof WorkflowRuns) => visDir((r[key].runs[at] as StageRun).dir);
  const composites = (key: keyof WorkflowRuns) => readdirSync(dir(key)).filter((f) => f.endsWith('_composite.png'));
  const shared = MODELS.map(([key]) => new Set(composites(key)));
  return [...(shared[0] ?? [])]
    .filter((f) => shared.every((set) => set.has(f)))
    .sort()
    .flatMap((f) => MODELS.map(([key, name]) => ({ path: join(dir(key), f), caption: `${f.replace(/_composite\.png$/, '')}: ${name}` })));
}

/**
 * Intra-op threads the workflow runs on: MMFD_NUM_THREADS if set, else 1. The tiny networks' ops are too small to
 * share between threads: in bench:learning on 2 cores, one thread trains the tiny teacher, the distilled student and
 * the student alone at 38, 74 and 111 images/s; two threads at 23, 40 and 57.
 */
export function workflowThreads(): number {
  return process.env.MMFD_NUM_THREADS ? torch.get_num_threads() : 1;
}

/** Runs `body` on the workflow's intra-op thread count. */
async function onWorkflowThreads<T>(body: () => Promise<T>): Promise<T> {
  const threads = torch.get_num_threads();
  torch.set_num_threads(workflowThreads());
  try {
    return await body();
  } finally {
    torch.set_num_threads(threads);
  }
}

/** Derives the configs and makes (or finds) the pretrained encoder files: the workflow's first stage. */
export async function runPretraining(o: WorkflowOptions): Promise<{ files: WorkflowConfigs; pretraining: WorkflowResult['pretraining'] }> {
  const files = await deriveConfigs(o);
  const t0 = performance.now();
  const pretrained = await onWorkflowThreads(() => pretrainEncoders(loadConfig(files.pretrain)));
  return { files, pretraining: { ...pretrained, seconds: (performance.now() - t0) / 1000 } };
}

/** Runs (or resumes) the whole workflow and writes <out>/report.html and <out>/fewshot_curve.png. */
export async function runWorkflow(o: WorkflowOptions): Promise<WorkflowResult> {
  const started = new Date();
  const { files, pretraining } = await runPretraining(o);
  const runs: WorkflowRuns = await onWorkflowThreads(async () => ({
    teacher: await timed(trainTeacher, files.teacher),
    student: await timed(distill, files.distill),
    studentAlone: await timed(trainStudentAlone, files.student),
  }));
  const teacherCfg = loadConfig(files.teacher);
  const percentages = teacherCfg.fewshot_perc_list;
  const patches = percentages.map((p) => stageSamples(teacherCfg, 'train', p).samples.length);
  // The per-model detail at the lowest percentage: where the pretrained encoders should matter most.
  const low = percentages.indexOf(Math.min(...percentages));
  const lowName = `${percentages[low]} % (${patches[low]} labelled patches)`;
  const out = resolve(o.out);
  const curve = join(out, 'fewshot_curve.png');
  await writeFewshotCurve(
    curve,
    MODELS.map(([key, name]) => ({
      name,
      points: runs[key].runs.map((run, i) => ({ patches: patches[i] as number, miou: [run.test.MIoU_mean_L0 as number] })),
    })),
    `Few-shot: held-out test mIoU against labelled patches (seed ${teacherCfg.seed})`,
  );
  const report = join(out, 'report.html');
  const pick = (key: keyof WorkflowRuns) => runs[key].runs[low] as StageRun;
  await writeReport(report, {
    title: 'MMFD few-shot on synthetic placenta patches: fused teacher on pretrained encoders, distilled student, student alone',
    run: {
      config: `${files.pretrain}, ${files.teacher}, ${files.distill}, ${files.student}`,
      started,
      finished: new Date(),
      extra: [
        [
          'Pretraining data',
          `${PRETRAIN_DATASET}: windows of synthetic whole slides (another generator); only the teacher's encoders see it`,
        ],
        [
          'Few-shot data',
          `synth_tiny: 128-pixel patches at 1.0 um/px, ${percentages.map((p, i) => `${p} % = ${patches[i]}`).join(', ')} labelled training patches; 60 for validation`,
        ],
        ['Test data', 'synth_tiny_test: 60 held-out patches (another seed)'],
      ],
    },
    tables: [
      comparisonTable(runs, patches),
      ...MODELS.map(([key, name]) => metricsTable(`${name} at ${lowName}, per class (test)`, pick(key).test)),
    ],
    curves: [
      { path: curve, caption: 'Few-shot curve: held-out test mIoU of each model against the labelled patches it trained on' },
      ...MODELS.map(([key, name]) => ({
        path: join(pick(key).dir, CURVES_FILE),
        caption: `${name} at ${lowName}: loss terms and validation mIoU`,
      })),
    ],
    overlays: overlays(runs, low),
  });
  return { ...runs, pretraining, patches, percentages, report, curve };
}

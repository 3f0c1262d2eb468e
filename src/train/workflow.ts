// The whole MMFD workflow on built-in data, as `mmfd demo` and `npm run bench:learning` run it: the
// tiny configs copied into <out>/configs (output folder and lengths set), the fused teacher trained
// (stage I, its synthetic datasets generated on first use), the student distilled from it (stage II),
// the same student trained alone (the reference's student-only baseline: what distillation must beat),
// all tested on the held-out synthetic test set, and one HTML report with their metrics, curves and
// overlays. Runs resume: a rerun continues where an interrupted one stopped and skips finished stages.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDerivedConfig } from '../config/derive.js';
import { type ConfigTree, loadConfig } from '../config/index.js';
import type { Summary } from '../eval/evaluator.js';
import { resultTable, SCORE_NOTES } from '../eval/report.js';
import * as torch from '../torch/index.js';
import { type MetricsTable, type ReportImage, writeReport } from '../viz/report.js';
import { trainStudentAlone } from './baseline.js';
import { num } from './run_config.js';
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

export interface WorkflowOptions {
  /** Folder for the derived configs, the runs (exp/) and report.html. */
  out: string;
  /** Overrides train.max_iterations of both stages (the shipped tiny configs' length otherwise). */
  iterations?: number;
  /** Overrides eval_iter and save_iter. */
  evalEvery?: number;
}

export interface WorkflowStage {
  run: StageRun;
  /** Wall time of the stage in this invocation (training, validation and test). */
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
  report: string;
}

const MODELS: readonly [keyof WorkflowRuns, string][] = [
  ['teacher', 'teacher (fused MedSAM + PiDiNet + PLIP)'],
  ['student', 'student (TinyViT, distilled)'],
  ['studentAlone', 'student alone (TinyViT, no teacher)'],
];

const packageConfigs = fileURLToPath(new URL('../../../configs/', import.meta.url));

/** Writes <out>/configs/*.yaml: the tiny configs with absolute output and config paths, so any cwd works. */
async function deriveConfigs(o: WorkflowOptions): Promise<{ teacher: string; student: string; distill: string }> {
  const out = resolve(o.out);
  const dir = join(out, 'configs');
  const path = (name: string) => join(dir, name);
  const lengths: Record<string, unknown> = { out_dir: join(out, 'exp') };
  if (o.iterations !== undefined) lengths['train.max_iterations'] = o.iterations;
  if (o.evalEvery !== undefined) Object.assign(lengths, { eval_iter: o.evalEvery, save_iter: o.evalEvery });
  const derive = async (name: string, extra: Record<string, unknown> = {}) => {
    const source = join(packageConfigs, name);
    // A shortened run keeps its warm-up inside it.
    const warmup = num(loadConfig(source), 'train.warmup_period');
    const warm = o.iterations !== undefined && o.iterations < warmup ? { 'train.warmup_period': o.iterations } : {};
    await writeDerivedConfig(source, path(name), { ...lengths, ...warm, ...extra });
  };
  await derive(TINY_CONFIGS.teacher);
  await derive(TINY_CONFIGS.student);
  await derive(TINY_CONFIGS.distill, {
    'network_t.cfg_file': path(TINY_CONFIGS.teacher),
    'network_s.cfg_file': path(TINY_CONFIGS.student),
  });
  return { teacher: path(TINY_CONFIGS.teacher), student: path(TINY_CONFIGS.student), distill: path(TINY_CONFIGS.distill) };
}

async function timed(train: (cfg: ConfigTree, source: string) => Promise<StageRun[]>, file: string): Promise<WorkflowStage> {
  const t0 = performance.now();
  const [run] = await train(loadConfig(file), file);
  return { run: run as StageRun, seconds: (performance.now() - t0) / 1000 };
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

/** The models side by side: what distillation kept, what it added over the student alone, how fast each trained. */
function comparisonTable(r: WorkflowRuns): MetricsTable {
  const row = (name: string, s: WorkflowStage) => [
    name,
    s.run.test.MIoU_mean_L0 as number,
    s.run.test.pooled_iou_mean as number,
    s.run.training.best_miou ?? 'n/a',
    s.run.training.iteration,
    s.run.training.images_per_s > 0 ? s.run.training.images_per_s : 'n/a',
    Math.round(s.seconds),
  ];
  return {
    caption: 'Teacher and students (test: the held-out synthetic set)',
    columns: [
      'model',
      'test mIoU (per-image mean)',
      'test mIoU (pooled)',
      'best validation mIoU (per-image mean)',
      'iterations',
      'training images/s',
      'stage seconds',
    ],
    rows: MODELS.map(([key, name]) => row(name, r[key])),
    decimals: 3,
    notes: SCORE_NOTES,
  };
}

/** The composites the tests wrote (original | prediction | ground truth), every model's of the same images. */
function overlays(r: WorkflowRuns): ReportImage[] {
  const composites = (s: WorkflowStage) => readdirSync(visDir(s.run.dir)).filter((f) => f.endsWith('_composite.png'));
  const shared = MODELS.map(([key]) => new Set(composites(r[key])));
  return [...(shared[0] ?? [])]
    .filter((f) => shared.every((set) => set.has(f)))
    .sort()
    .flatMap((f) =>
      MODELS.map(([key, name]) => ({ path: join(visDir(r[key].run.dir), f), caption: `${f.replace(/_composite\.png$/, '')}: ${name}` })),
    );
}

/**
 * Intra-op threads the workflow runs on: MMFD_NUM_THREADS if set, else 1. The tiny networks' ops are too small to
 * share between threads: in bench:learning on 2 cores, one thread trains the tiny teacher, the distilled student and
 * the student alone at 38, 74 and 111 images/s; two threads at 23, 40 and 57.
 */
export function workflowThreads(): number {
  return process.env.MMFD_NUM_THREADS ? torch.get_num_threads() : 1;
}

/** Runs (or resumes) the whole workflow and writes <out>/report.html. */
export async function runWorkflow(o: WorkflowOptions): Promise<WorkflowResult> {
  const started = new Date();
  const files = await deriveConfigs(o);
  const threads = torch.get_num_threads();
  torch.set_num_threads(workflowThreads());
  let runs: WorkflowRuns;
  try {
    runs = {
      teacher: await timed(trainTeacher, files.teacher),
      student: await timed(distill, files.distill),
      studentAlone: await timed(trainStudentAlone, files.student),
    };
  } finally {
    torch.set_num_threads(threads);
  }
  const { teacher, student, studentAlone } = runs;
  const result = { teacher, student, studentAlone };
  const report = join(resolve(o.out), 'report.html');
  await writeReport(report, {
    title: 'MMFD on synthetic placenta patches: fused teacher, distilled student, student alone',
    run: {
      config: `${files.teacher}, ${files.distill}, ${files.student}`,
      started,
      finished: new Date(),
      extra: [
        ['Training data', 'synth_tiny: 200 synthetic 128-pixel patches at 1.0 um/px (140 train, 60 validation)'],
        ['Test data', 'synth_tiny_test: 60 held-out patches (another seed)'],
      ],
    },
    tables: [comparisonTable(result), ...MODELS.map(([key, name]) => metricsTable(`${name}, per class (test)`, result[key].run.test))],
    curves: MODELS.map(([key, name]) => ({
      path: join(result[key].run.dir, CURVES_FILE),
      caption: `${name}: loss terms and validation mIoU`,
    })),
    overlays: overlays(result),
  });
  return { ...result, report };
}

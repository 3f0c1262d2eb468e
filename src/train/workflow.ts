// The whole MMFD workflow on built-in data, as `mmfd demo` and `npm run bench:learning` run it: the
// tiny configs copied into <out>/configs (output folder and lengths set), the fused teacher trained
// (stage I, its synthetic datasets generated on first use), the student distilled from it (stage II),
// both tested on the held-out synthetic test set, and one HTML report with their metrics, curves and
// overlays. Runs resume: a rerun continues where an interrupted one stopped and skips finished stages.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDerivedConfig } from '../config/derive.js';
import { type ConfigTree, loadConfig } from '../config/index.js';
import type { Summary } from '../eval/evaluator.js';
import { resultTable } from '../eval/report.js';
import { type MetricsTable, type ReportImage, writeReport } from '../viz/report.js';
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

export interface WorkflowResult {
  teacher: WorkflowStage;
  student: WorkflowStage;
  report: string;
}

const packageConfigs = fileURLToPath(new URL('../../../configs/', import.meta.url));

/** Writes <out>/configs/*.yaml: the tiny configs with absolute output and config paths, so any cwd works. */
async function deriveConfigs(o: WorkflowOptions): Promise<{ teacher: string; distill: string }> {
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
  return { teacher: path(TINY_CONFIGS.teacher), distill: path(TINY_CONFIGS.distill) };
}

async function timed(train: (cfg: ConfigTree, source: string) => Promise<StageRun[]>, file: string): Promise<WorkflowStage> {
  const t0 = performance.now();
  const [run] = await train(loadConfig(file), file);
  return { run: run as StageRun, seconds: (performance.now() - t0) / 1000 };
}

/** The per-class test table of one model, for the report. */
function metricsTable(caption: string, summary: Summary): MetricsTable {
  const { columns, rows } = resultTable(summary);
  return {
    caption,
    columns: ['class', ...columns.map((c) => c.title)],
    rows: rows.map((r) => [r.name, ...r.values.map((v) => (Number.isFinite(v) ? v : 'n/a'))]),
  };
}

/** Teacher and student side by side: what distillation kept, how fast each trained. */
function comparisonTable(r: Omit<WorkflowResult, 'report'>): MetricsTable {
  const row = (name: string, s: WorkflowStage) => [
    name,
    s.run.test.MIoU_mean_L0 as number,
    s.run.training.best_miou ?? 'n/a',
    s.run.training.iteration,
    s.run.training.images_per_s > 0 ? s.run.training.images_per_s : 'n/a',
    Math.round(s.seconds),
  ];
  return {
    caption: 'Teacher and student (test: the held-out synthetic set)',
    columns: ['model', 'test mIoU', 'best validation mIoU', 'iterations', 'training images/s', 'stage seconds'],
    rows: [row('teacher (fused MedSAM + PiDiNet + PLIP)', r.teacher), row('student (TinyViT, distilled)', r.student)],
    decimals: 3,
  };
}

/** The composites the test wrote (original | prediction | ground truth), teacher's and student's of the same images. */
function overlays(r: Omit<WorkflowResult, 'report'>): ReportImage[] {
  const composites = (s: WorkflowStage) =>
    readdirSync(visDir(s.run.dir))
      .filter((f) => f.endsWith('_composite.png'))
      .sort();
  const student = new Set(composites(r.student));
  return composites(r.teacher)
    .filter((f) => student.has(f))
    .flatMap((f) => {
      const name = f.replace(/_composite\.png$/, '');
      return [
        { path: join(visDir(r.teacher.run.dir), f), caption: `${name}: teacher` },
        { path: join(visDir(r.student.run.dir), f), caption: `${name}: student` },
      ];
    });
}

/** Runs (or resumes) the whole workflow and writes <out>/report.html. */
export async function runWorkflow(o: WorkflowOptions): Promise<WorkflowResult> {
  const started = new Date();
  const files = await deriveConfigs(o);
  const teacher = await timed(trainTeacher, files.teacher);
  const student = await timed(distill, files.distill);
  const result = { teacher, student };
  const report = join(resolve(o.out), 'report.html');
  await writeReport(report, {
    title: 'MMFD on synthetic placenta patches: fused teacher and distilled student',
    run: {
      config: `${files.teacher}, ${files.distill}`,
      started,
      finished: new Date(),
      extra: [
        ['Training data', 'synth_tiny: 200 synthetic 128-pixel patches at 0.5 um/px (140 train, 60 validation)'],
        ['Test data', 'synth_tiny_test: 60 held-out patches (another seed)'],
      ],
    },
    tables: [
      comparisonTable(result),
      metricsTable('Teacher, per class (test)', teacher.run.test),
      metricsTable('Student, per class (test)', student.run.test),
    ],
    curves: [
      { path: join(teacher.run.dir, CURVES_FILE), caption: 'Teacher: loss terms and validation mIoU' },
      { path: join(student.run.dir, CURVES_FILE), caption: 'Student: loss terms and validation mIoU' },
    ],
    overlays: overlays(result),
  });
  return { ...result, report };
}

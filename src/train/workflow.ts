// The whole MMFD workflow on built-in data, as `mmfd demo` and `npm run bench:learning` run it: the
// tiny configs copied into <out>/configs (output folder and lengths set), the fused teacher trained
// (stage I, its synthetic datasets generated on first use), the student distilled from it (stage II),
// the same student trained alone (the reference's student-only baseline: what distillation must beat),
// all tested on the held-out synthetic test set; the few-shot curve on pretrained encoders (fewshot_workflow.ts;
// `mmfd demo` asks for it unless --no-fewshot, bench:learning does not); and one HTML report with their metrics,
// curves and overlays. Runs resume: a rerun continues where an interrupted one stopped and skips finished stages.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config/index.js';
import { SCORE_NOTES } from '../eval/report.js';
import { type MetricsTable, type ReportImage, writeReport } from '../viz/report.js';
import { trainStudentAlone } from './baseline.js';
import { type BesideRun, canRunBeside, runBeside } from './beside.js';
import { ensureBuiltinDatasets } from './datasets.js';
import { type FewshotOptions, type FewshotResult, fewshotReport, runFewshot } from './fewshot_workflow.js';
import { CURVES_FILE } from './run_log.js';
import { trainTeacher } from './stage1.js';
import { distill } from './stage2.js';
import { visDir } from './test.js';
import {
  deriveTinyConfig,
  MODELS,
  metricsTable,
  onWorkflowThreads,
  TINY_CONFIGS,
  timedStage,
  type WorkflowStage,
} from './workflow_parts.js';

export { TINY_CONFIGS, type WorkflowStage, workflowThreads } from './workflow_parts.js';

/**
 * The demo's 100 % teacher: 2,000 iterations, not the tiny config's 3,000 (bench:learning's). The teacher and then the
 * distillation are the demo's critical path on one core; at 2,000 they end about when the other core's work (the
 * student alone and the few-shot curve) does: the demo took 12-12.5 minutes from a fresh clone (teacher at 18-19
 * images/s), against 14-15.5 with 3,000 in hours as slow.
 */
export const DEMO_TEACHER_ITERATIONS = 2000;

export interface WorkflowOptions {
  /** Folder for the derived configs, the runs (exp/) and report.html. */
  out: string;
  /** Overrides train.max_iterations of the three 100 % runs (the shipped tiny configs' length otherwise). */
  iterations?: number;
  /** Overrides the teacher's train.max_iterations alone (after `iterations`). */
  teacherIterations?: number;
  /** Overrides eval_iter and save_iter. */
  evalEvery?: number;
  /** The few-shot curve's options (its own lengths); without them there is no curve. */
  fewshot?: FewshotOptions;
}

export interface WorkflowRuns {
  teacher: WorkflowStage;
  /** The student distilled from the teacher. */
  student: WorkflowStage;
  /** The same student trained alone, without a teacher. */
  studentAlone: WorkflowStage;
}

export interface WorkflowResult extends WorkflowRuns {
  /** Absent when left out. */
  fewshot?: FewshotResult;
  report: string;
}

/** Writes <out>/configs/*.yaml: the tiny configs with absolute output and config paths, so any cwd works. */
async function deriveConfigs(o: WorkflowOptions): Promise<{ teacher: string; student: string; distill: string }> {
  const out = resolve(o.out);
  const dir = join(out, 'configs');
  const path = (name: string) => join(dir, name);
  const lengths: Record<string, unknown> = { out_dir: join(out, 'exp') };
  if (o.iterations !== undefined) lengths['train.max_iterations'] = o.iterations;
  if (o.evalEvery !== undefined) Object.assign(lengths, { eval_iter: o.evalEvery, save_iter: o.evalEvery });
  const derive = (name: string, extra: Record<string, unknown> = {}) => deriveTinyConfig(name, path(name), { ...lengths, ...extra });
  await derive(TINY_CONFIGS.teacher, o.teacherIterations === undefined ? {} : { 'train.max_iterations': o.teacherIterations });
  await derive(TINY_CONFIGS.student);
  await derive(TINY_CONFIGS.distill, {
    'network_t.cfg_file': path(TINY_CONFIGS.teacher),
    'network_s.cfg_file': path(TINY_CONFIGS.student),
  });
  return { teacher: path(TINY_CONFIGS.teacher), student: path(TINY_CONFIGS.student), distill: path(TINY_CONFIGS.distill) };
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
 * Starts the student alone and the few-shot curve in a second process (beside.ts), once the datasets both sides
 * read exist (so that they never generate one at the same time).
 */
async function startBeside(files: { teacher: string; student: string }, out: string, f: FewshotOptions): Promise<BesideRun> {
  await ensureBuiltinDatasets(loadConfig(files.teacher));
  return runBeside({ studentConfig: files.student, out, f });
}

/**
 * Runs (or resumes) the whole workflow and writes <out>/report.html. With the few-shot curve, on a CPU with a core
 * to spare, the student alone and the curve train in a second process beside the teacher and the distillation
 * (beside.ts).
 */
export async function runWorkflow(o: WorkflowOptions): Promise<WorkflowResult> {
  const started = new Date();
  const files = await deriveConfigs(o);
  const beside = o.fewshot && canRunBeside() ? await startBeside(files, o.out, o.fewshot) : undefined;
  let result: WorkflowRuns;
  try {
    result = await onWorkflowThreads(async () => ({
      teacher: await timedStage(trainTeacher, files.teacher),
      student: await timedStage(distill, files.distill),
      studentAlone: await (beside?.studentAlone ?? timedStage(trainStudentAlone, files.student)),
    }));
  } catch (err) {
    beside?.stop();
    throw err;
  }
  const fewshot = o.fewshot && (await (beside?.fewshot ?? runFewshot(o.out, o.fewshot)));
  const few = fewshot ? fewshotReport(fewshot) : { extra: [], tables: [], curves: [] };
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
        ...few.extra,
      ],
    },
    tables: [
      comparisonTable(result),
      ...MODELS.map(([key, name]) => metricsTable(`${name}, per class (test)`, result[key].run.test)),
      ...few.tables,
    ],
    curves: [
      ...few.curves,
      ...MODELS.map(([key, name]) => ({
        path: join(result[key].run.dir, CURVES_FILE),
        caption: `${name}: loss terms and validation mIoU`,
      })),
    ],
    overlays: overlays(result),
  });
  return { ...result, ...(fewshot ? { fewshot } : {}), report };
}

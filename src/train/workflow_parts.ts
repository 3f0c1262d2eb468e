// What the demo workflow's two parts share (workflow.ts: the tiny teacher and students at 100 %;
// fewshot_workflow.ts: the few-shot curve on pretrained encoders): the shipped tiny configs, the models'
// names, deriving a config into the output folder, the thread count and the per-class report table.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDerivedConfig } from '../config/derive.js';
import { type Config, loadConfig } from '../config/index.js';
import type { Summary } from '../eval/evaluator.js';
import { resultTable } from '../eval/report.js';
import * as torch from '../torch/index.js';
import type { MetricsTable } from '../viz/report.js';
import type { StageRun } from './stage1.js';

/** The shipped tiny configs the workflow derives its own from. */
export const TINY_CONFIGS = {
  teacher: 'tiny-multimodel2s.yaml',
  student: 'tiny-mobilesam.yaml',
  distill: 'tiny-multimodel2s_distill.yaml',
};

/** The three models the workflow trains, in report order: the teacher, the distilled student, the student alone. */
export type ModelKey = 'teacher' | 'student' | 'studentAlone';

export const MODELS: readonly [ModelKey, string][] = [
  ['teacher', 'teacher (fused MedSAM + PiDiNet + PLIP)'],
  ['student', 'student (TinyViT, distilled)'],
  ['studentAlone', 'student alone (TinyViT, no teacher)'],
];

const packageConfigs = fileURLToPath(new URL('../../../configs/', import.meta.url));

/**
 * Writes the shipped tiny config `name` with `values` set to `to`; a run shorter than the config's warm-up keeps
 * its warm-up inside it.
 */
export async function deriveTinyConfig(name: string, to: string, values: Record<string, unknown>): Promise<void> {
  const source = join(packageConfigs, name);
  const length = (values['train.max_iterations'] as number | undefined) ?? loadConfig(source).train.max_iterations;
  const warm = length < loadConfig(source).train.warmup_period ? { 'train.warmup_period': length } : {};
  await writeDerivedConfig(source, to, { ...values, ...warm });
}

/** A 100 % stage's run and how long it took. */
export interface WorkflowStage {
  run: StageRun;
  /** Wall time of the stage in this invocation (training, validation and test). */
  seconds: number;
}

/** Runs one stage config at its single percentage (100 %), timed. */
export async function timedStage(train: Parameters<typeof timed>[0], file: string): Promise<WorkflowStage> {
  const { runs, seconds } = await timed(train, file);
  return { run: runs[0] as StageRun, seconds };
}

/** Runs one stage config (every percentage of its list), timed. */
export async function timed(
  train: (cfg: Config, source: string) => Promise<StageRun[]>,
  file: string,
): Promise<{ runs: StageRun[]; seconds: number }> {
  const t0 = performance.now();
  const runs = await train(loadConfig(file), file);
  return { runs, seconds: (performance.now() - t0) / 1000 };
}

/** The per-class test table of one model, for the report. */
export function metricsTable(caption: string, summary: Summary): MetricsTable {
  const { columns, rows, notes } = resultTable(summary);
  return {
    caption,
    columns: ['class', ...columns.map((c) => c.title)],
    rows: rows.map((r) => [r.name, ...r.values.map((v) => (Number.isFinite(v) ? v : 'n/a'))]),
    notes,
  };
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
export async function onWorkflowThreads<T>(body: () => Promise<T>): Promise<T> {
  const threads = torch.get_num_threads();
  torch.set_num_threads(workflowThreads());
  try {
    return await body();
  } finally {
    torch.set_num_threads(threads);
  }
}

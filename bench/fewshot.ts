// npm run bench:fewshot — the paper's claim on built-in data (issue 18): with encoders pretrained on another domain
// the fused teacher learns from few labelled patches, and distillation carries that to a student which, trained
// alone, does worse. The demo's few-shot curve (src/train/fewshot_workflow.ts) from scratch, longer and over
// several seeds: the encoders pretrained once (the
// "foundation models", shared by every seed), then for each seed, in its own process (the tiny networks run on one
// thread, so seeds side by side use the cores), the teacher, the distilled student and the student alone at each
// percentage, all tested on the held-out set. A seed sets the initialisation, the batch order and which patches a
// percentage keeps (each seed's catalog gives synth_tiny a split folder of its own). Goal: at the smallest
// percentage the teacher beats the student alone by >= 0.05 mIoU (mean over seeds) and the distilled student keeps
// >= half of that margin. The control teacher (the same teacher on random encoders) says what the pretraining
// itself adds. Writes bench/results/fewshot.json and bench/results/fewshot.png.
// `-- --keep-pretrained` reuses the pretrained files of an earlier run of the same code (said in the JSON);
// `-- --iterations N` / `-- --pretrain-iterations N` set the few-shot stages' / the pretraining's length (short: a
// check of the plumbing whose figures mean nothing).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { writeDerivedConfig } from '../src/config/derive.js';
import { loadConfig } from '../src/config/index.js';
import { lookupDataset } from '../src/data/catalog.js';
import { FINAL_CLASSES } from '../src/data/classes.js';
import { PmftDataset } from '../src/data/pmft.js';
import * as torch from '../src/torch/index.js';
import { ensureBuiltinDataset } from '../src/train/datasets.js';
import { mean, writeFewshotCurve } from '../src/train/fewshot_curve.js';
import { type FewshotOptions, runFewshot, runPretraining } from '../src/train/fewshot_workflow.js';
import { PRETRAIN_DATASET } from '../src/train/pretrain.js';
import { testTeacher } from '../src/train/stage1.js';
import { MODELS, type ModelKey, workflowThreads } from '../src/train/workflow_parts.js';
import { writeBenchResult } from './results_file.js';

const root = new URL('../..', import.meta.url).pathname;
const script = new URL(import.meta.url).pathname;
const SEEDS = [1, 2, 3];
// The low end, where the claim is; 100 % left out to fit a shared 2-core machine.
const PERCENTAGES = [5, 10, 30];
/** Iterations of each few-shot stage and of the pretraining: longer than the demo's. */
const ITERATIONS = 500;
const PRETRAIN_ITERATIONS = 1500;
const MARGIN_GOAL = 0.05;
const FEWSHOT_DATASET = 'synth_tiny';
const TEST_DATASET = 'synth_tiny_test';
const RESULT = 'seed_result.json';

/** The workflow's three models and the control teacher (the same teacher on random encoders). */
type BenchKey = ModelKey | 'control';
const BENCH_MODELS: readonly [BenchKey, string][] = [...MODELS, ['control', 'control: teacher on random encoders (frozen, LoRA)']];

/** What one seed's process reports: per model, one entry per percentage. */
interface SeedResult {
  seed: number;
  percentages: number[];
  patches: number[];
  models: Record<
    BenchKey,
    { test_miou: number; per_class: Record<string, number>; best_validation_miou: number | null; training_images_per_s: number }[]
  >;
  seconds: number;
}

const std = (v: readonly number[]): number => {
  const m = mean(v);
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, v.length - 1));
};
const stats = (v: readonly number[]) => ({ mean: mean(v), std: std(v), min: Math.min(...v), max: Math.max(...v), seeds: v });

/** One seed's few-shot runs (the child process). */
async function runSeed(seed: number, out: string, f: FewshotOptions): Promise<void> {
  const t0 = performance.now();
  const r = await runFewshot(out, { ...f, seed, percentages: PERCENTAGES, control: true });
  const models = Object.fromEntries(
    BENCH_MODELS.map(([key]) => [
      key,
      (r[key] as NonNullable<(typeof r)[BenchKey]>).runs.map((run) => ({
        test_miou: run.test.MIoU_mean_L0 as number,
        per_class: Object.fromEntries(FINAL_CLASSES.map((c, i) => [c.display, run.test[`MIoU_${i}_L0`] as number])),
        best_validation_miou: run.training.best_miou,
        training_images_per_s: run.training.images_per_s,
      })),
    ]),
  ) as SeedResult['models'];
  const result: SeedResult = {
    seed,
    percentages: r.percentages,
    patches: r.patches,
    models,
    seconds: (performance.now() - t0) / 1000,
  };
  writeFileSync(join(out, RESULT), `${JSON.stringify(result, null, 2)}\n`);
}

/**
 * A dataset catalog for one seed: synth_tiny with a split folder of its own (the full split copied there), so the
 * seed's config draws its own few-shot subsets (data/fewshot.ts keeps a split file once written).
 */
function seedCatalog(dir: string, seed: number): string {
  const train = lookupDataset(FEWSHOT_DATASET);
  const test = lookupDataset(TEST_DATASET);
  const split = `splits/bench-fewshot-seed${seed}/fewer_test30`;
  const dataset = PmftDataset.open(train.root);
  rmSync(dirname(dirname(dataset.splitFile(split))), { recursive: true, force: true });
  mkdirSync(dirname(dataset.splitFile(split)), { recursive: true });
  copyFileSync(dataset.splitFile(train.split), dataset.splitFile(split));
  const file = join(dir, 'datasets.yaml');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    file,
    stringify({ [FEWSHOT_DATASET]: { root: train.root, split }, [TEST_DATASET]: { root: test.root, split: test.split } }),
  );
  return file;
}

function child(seed: number, out: string, f: FewshotOptions): Promise<void> {
  const catalog = seedCatalog(out, seed);
  const log = join(out, 'run.log');
  console.log(`seed ${seed}: running in its own process (log ${log})`);
  return new Promise((resolve, reject) => {
    const args = ['--seed', String(seed), '--out', out, '--pretrained', f.pretrained as string, '--iterations', String(f.iterations)];
    const p = spawn(process.execPath, [script, ...args], {
      env: { ...process.env, MMFD_DATASETS: catalog },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => chunks.push(d));
    p.stderr.on('data', (d: Buffer) => chunks.push(d));
    p.on('error', reject);
    p.on('close', (code) => {
      writeFileSync(log, Buffer.concat(chunks));
      if (code === 0) resolve();
      else reject(new Error(`seed ${seed}: exited with ${code}; see ${log}`));
    });
  });
}

/** Per model and percentage: the test mIoU of every seed, and its spread; the margins per seed; the goals. */
function summarise(results: readonly SeedResult[]) {
  const first = results[0] as SeedResult;
  const miou = (key: BenchKey, i: number) => results.map((r) => r.models[key][i]?.test_miou as number);
  const models = Object.fromEntries(
    BENCH_MODELS.map(([key]) => [
      key,
      first.percentages.map((perc, i) => ({
        perc,
        labelled_patches: first.patches[i],
        test_miou: stats(miou(key, i)),
        test_per_class_mean: Object.fromEntries(
          FINAL_CLASSES.map((c) => [c.display, mean(results.map((r) => r.models[key][i]?.per_class[c.display] as number))]),
        ),
        best_validation_miou: results.map((r) => r.models[key][i]?.best_validation_miou ?? null),
        training_images_per_s: mean(results.map((r) => r.models[key][i]?.training_images_per_s ?? 0)),
      })),
    ]),
  );
  // Margins per seed (the same seed's patches for every model), then their mean and spread.
  const margins = first.percentages.map((perc, i) => {
    const alone = miou('studentAlone', i);
    return {
      perc,
      teacher_minus_alone: stats(miou('teacher', i).map((t, s) => t - (alone[s] as number))),
      distilled_minus_alone: stats(miou('student', i).map((t, s) => t - (alone[s] as number))),
      // What the pretrained encoders add to the same teacher.
      teacher_minus_control: stats(miou('teacher', i).map((t, s) => t - (miou('control', i)[s] as number))),
    };
  });
  const low = margins[0] as (typeof margins)[number];
  const teacherMargin = low.teacher_minus_alone.mean;
  const goals = {
    at_perc: low.perc,
    teacher_minus_alone_goal: MARGIN_GOAL,
    teacher_met: teacherMargin >= MARGIN_GOAL,
    distilled_minus_alone_goal: teacherMargin / 2,
    distilled_met: teacherMargin >= MARGIN_GOAL && low.distilled_minus_alone.mean >= teacherMargin / 2,
  };
  return { models, margins, goals };
}

async function main(keepPretrained: boolean, lengths: { iterations: number; pretrainIterations: number }): Promise<void> {
  const out = join(root, '.tmp', 'bench-fewshot');
  const pretrained = join(out, 'pretrained');
  const reused = keepPretrained && existsSync(pretrained);
  // From scratch: finished earlier runs would be skipped.
  for (const seed of SEEDS) rmSync(join(out, `seed${seed}`), { recursive: true, force: true });
  if (!reused) rmSync(out, { recursive: true, force: true });
  const cores = availableParallelism();
  const started = new Date().toISOString();
  console.log(`bench:fewshot: seeds ${SEEDS.join(', ')} x ${PERCENTAGES.join(', ')} % in ${out} (${cores} cores)`);
  for (const name of [FEWSHOT_DATASET, TEST_DATASET]) await ensureBuiltinDataset(name);
  const f: FewshotOptions = { ...lengths, pretrained };
  const { files, pretraining } = await runPretraining(join(out, 'pretrain'), f);
  // Do the pretrained features transfer? The pretraining run's own teacher (its encoders and decoder), zero-shot on
  // the few-shot domain's held-out set.
  const zeroShotFile = join(out, 'pretrain', 'configs', 'zero-shot.yaml');
  await writeDerivedConfig(files.pretrain, zeroShotFile, { 'test.dataset': TEST_DATASET });
  const [zeroShot] = await testTeacher(loadConfig(zeroShotFile), zeroShotFile);
  const t0 = performance.now();
  await Promise.all(SEEDS.map((seed) => child(seed, join(out, `seed${seed}`), f)));
  const fewshotSeconds = (performance.now() - t0) / 1000;
  const results = SEEDS.map((seed) => JSON.parse(readFileSync(join(out, `seed${seed}`, RESULT), 'utf8')) as SeedResult);
  const summary = summarise(results);
  writeBenchResult('fewshot', {
    date: started,
    finished: new Date().toISOString(),
    machine: { cores, threads_per_seed: workflowThreads(), load_average_1m: loadavg()[0], device: torch.best_device() },
    pretraining: {
      data: `${PRETRAIN_DATASET}: 2,000 windows of synthetic whole slides (1,400 train), another generator than the few-shot patches`,
      what: 'the tiny fused teacher, all encoders trained, no LoRA, supervised on the four classes; its encoders written as MedSAM .pth, PLIP Hugging Face folder, PiDiNet .pth',
      iterations: lengths.pretrainIterations,
      seconds: reused ? null : pretraining.seconds,
      reused_from_earlier_run: reused,
      zero_shot_test_miou_on_fewshot_domain: zeroShot?.MIoU_mean_L0,
    },
    fewshot: {
      data: `${FEWSHOT_DATASET} (140 train patches, a percentage keeps a seeded subset; 60 validation) -> test on ${TEST_DATASET} (60 held-out patches)`,
      iterations_per_run: lengths.iterations,
      teacher: 'pretrained encoders frozen, LoRA (rank 2) on MedSAM; fusion and decoder trained',
      control: 'the same teacher, config and training, on random encoders (train.load_pretrained false)',
      seeds: SEEDS,
      percentages: PERCENTAGES,
      seconds_all_seeds_in_parallel: fewshotSeconds,
    },
    ...summary,
  });
  const first = results[0] as SeedResult;
  await writeFewshotCurve(
    join(root, 'bench', 'results', 'fewshot.png'),
    BENCH_MODELS.map(([key, name]) => ({
      name,
      points: first.percentages.map((_, i) => ({
        patches: first.patches[i] as number,
        miou: results.map((r) => r.models[key][i]?.test_miou as number),
      })),
    })),
    'Few-shot: held-out test mIoU against labelled patches (tiny models, synthetic patches)',
  );
  for (const m of summary.margins) {
    const fmt = (s: { mean: number; std: number }) => `${s.mean.toFixed(3)} ± ${s.std.toFixed(3)}`;
    console.log(
      `${m.perc} %: teacher - alone ${fmt(m.teacher_minus_alone)}, distilled - alone ${fmt(m.distilled_minus_alone)}, ` +
        `teacher - control ${fmt(m.teacher_minus_control)} (sd over seeds)`,
    );
  }
  console.log(`goals: ${JSON.stringify(summary.goals)}`);
}

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    out: { type: 'string' },
    pretrained: { type: 'string' },
    iterations: { type: 'string' },
    'pretrain-iterations': { type: 'string' },
    'keep-pretrained': { type: 'boolean' },
  },
});
const iterations = values.iterations === undefined ? ITERATIONS : Number(values.iterations);
if (values.seed !== undefined)
  await runSeed(Number(values.seed), values.out as string, { pretrained: values.pretrained as string, iterations });
else {
  const pretrainIterations = values['pretrain-iterations'] === undefined ? PRETRAIN_ITERATIONS : Number(values['pretrain-iterations']);
  await main(values['keep-pretrained'] === true, { iterations, pretrainIterations });
}

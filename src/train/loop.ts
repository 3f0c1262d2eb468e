// The iteration loop both stages share (spec §5.4; the reference's trainer is missing, §1.7): AdamW
// on the trainable parameters (or the optimizer the config names), linear warm-up then cosine annealing
// (or steps), a validation every eval_iter and a checkpoint every save_iter, keeping `last` (resumable)
// and `best` (by validation mIoU), stopping early after earlystop.patience validations without a better one.
//
// Reproducible by construction, so a run killed at any moment and resumed ends with the same
// weights as one never stopped: iteration i always trains on batch i mod L of epoch floor(i / L) of
// the seeded loader, seeds torch with seed + i, and `last` holds the weights, the optimizer's
// moments, the scheduler's iteration and the best mIoU so far.
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { type Batch, batchTensors, type DataLoader, loaderFromConfig } from '../data/loader.js';
import { checkSplitImages } from '../data/preflight.js';
import { iouScores, probabilities } from '../eval/metrics.js';
import { interruption, stopIfInterrupted } from '../interrupt.js';
import { makeDir } from '../make_dir.js';
import { removeOrphanTemps } from '../orphan_temps.js';
import { formatDuration, Progress } from '../progress.js';
import * as torch from '../torch/index.js';
import { atomicTempPattern } from '../torch/io/files.js';
import {
  BEST,
  checkpointExists,
  checkpointStem,
  LAST,
  loadTrainingCheckpoint,
  removeCheckpoint,
  saveTrainingCheckpoint,
  type TrainingMeta,
} from './checkpoints.js';
import { CURVES_FILE, LOG_FILE, RunLog, writeTrainingCurves } from './run_log.js';

type Tensor = torch.Tensor;

/** A batch's loss: `total` is backpropagated; it and its named parts are logged. */
export interface LossTerms {
  total: Tensor;
  terms: Record<string, Tensor>;
}

export interface TrainingRun {
  /** The resolved config of this run. */
  cfg: Config;
  /** The run folder (checkpoints, log, curves). */
  dir: string;
  /** Names the run in progress lines and plots. */
  label: string;
  model: torch.nn.Module;
  /** The parameters the optimizer updates, in a fixed order. */
  trainable: readonly torch.nn.Parameter[];
  /** Keys the build loads from pretrained files (checkpoints.ts). */
  omitted: ReadonlySet<string>;
  train: DataLoader;
  val: DataLoader;
  device: torch.Device;
  /** The loss of a training batch (already on the device), model in train mode. */
  loss(batch: Batch): LossTerms;
  /** Logits [B, C, H, W] per refinement level for a validation batch, model in eval mode. */
  predict(batch: Batch): Tensor[];
  /** Microns per input pixel to record in the checkpoints (default: the config's input_mpp). */
  input_mpp?: number;
  /** Runs once before the first iteration of a fresh run (not when resuming), with the training loader. */
  prepare?(train: DataLoader): Promise<void>;
}

export interface TrainingResult {
  /** Iterations done (max_iterations unless it was stopped). */
  iteration: number;
  /** Where this invocation started (0, or the resumed checkpoint's iteration). */
  resumed_from: number;
  best_miou: number | null;
  /** Training throughput of this invocation (validation and saving excluded). */
  images_per_s: number;
  seconds: number;
}

/**
 * The optimizer over `params`, with train.base_lr and train.weight_decay (the reference's built-in 5e-4):
 * AdamW when train.AdamW (as the reference's YAMLs say), else train.optim: 'adam' (the decay as an L2 term),
 * 'adamw', or 'sgd' (momentum 0.9).
 */
export function trainingOptimizer(cfg: Config, params: readonly torch.nn.Parameter[]): torch.optim.Optimizer {
  if (params.length === 0) throw new Error('training: the model has no trainable parameter');
  const { base_lr: lr, weight_decay } = cfg.train;
  switch (cfg.train.AdamW ? 'adamw' : cfg.train.optim) {
    case 'adam':
      return new torch.optim.Adam(params, { lr, weight_decay });
    case 'sgd':
      return new torch.optim.SGD(params, { lr, weight_decay, momentum: 0.9 });
    default:
      return new torch.optim.AdamW(params, { lr, weight_decay });
  }
}

/**
 * The lr schedule to train.max_iterations, warming up linearly for train.warmup_period iterations when
 * train.warup is set (the reference's spelling; the built-in train.warmup is another, unused key), then by
 * train.scheduler.type: 'cosanneal' (cosine to 0 at max_iterations) or 'multistep' (times train.gamma at each
 * of train.milestones, counted in iterations).
 */
export function trainingSchedule(cfg: Config, optimizer: torch.optim.Optimizer): torch.optim.LRScheduler {
  const { max_iterations: max_iters, milestones, gamma } = cfg.train;
  const warmup_iters = cfg.train.warup ? cfg.train.warmup_period : 0;
  if (cfg.train.scheduler.type === 'multistep') {
    return new torch.optim.LambdaLR(optimizer, (i) =>
      i < warmup_iters ? (i + 1) / (warmup_iters + 1) : gamma ** milestones.filter((m) => m <= i).length,
    );
  }
  return new torch.optim.WarmupCosine(optimizer, { warmup_iters, max_iters });
}

/** The batch on the device (the loader's tensors are released when they had to be copied). */
function onDevice(batch: Batch, device: torch.Device): Batch {
  if (device === 'cpu') return batch;
  const moved = {
    image: batch.image.to(device),
    sem_mask: batch.sem_mask.to(device),
    ...(batch.valid ? { valid: batch.valid.to(device) } : {}),
    names: batch.names,
  };
  torch.dispose(batchTensors(batch));
  return moved;
}

/** Training batches from iteration `start` to `end`: iteration i is batch i mod L of epoch floor(i / L). */
async function* batchesFrom(loader: DataLoader, start: number, end: number): AsyncGenerator<{ batch: Batch; iteration: number }> {
  const perEpoch = loader.length;
  let iteration = start;
  for (let epoch = Math.floor(start / perEpoch); iteration < end; epoch++) {
    let index = epoch * perEpoch;
    for await (const batch of loader.epoch(epoch)) {
      // A resumed run decodes and drops the batches before its start in that epoch (at most one epoch's worth).
      if (index++ < start) {
        torch.dispose(batchTensors(batch));
        continue;
      }
      yield { batch, iteration };
      iteration++;
      if (iteration >= end) return;
    }
  }
}

/**
 * The reference's validation mIoU (Evaluator_val): per image and class the IoU of σ(logits) > 0.5
 * against the soft mask, the class's mean over images as Σ / (N + 0.001), then the mean over
 * classes; on the last refinement level. Equals the test Evaluator's MIoU_mean_L{last}, without
 * the distance metrics that would make each validation slow.
 */
export async function validationMiou(run: Pick<TrainingRun, 'model' | 'val' | 'device' | 'predict'>): Promise<number[]> {
  const rows: number[][] = [];
  run.model.eval();
  try {
    for await (const raw of run.val.epoch(0)) {
      const batch = onDevice(raw, run.device);
      try {
        torch.no_grad(() =>
          torch.tidy(() => {
            const logits = run.predict(batch).at(-1) as Tensor;
            for (let k = 0; k < logits.size(0); k++) {
              rows.push(iouScores(probabilities(logits.narrow(0, k, 1)), batch.sem_mask.narrow(0, k, 1), batch.valid?.narrow(0, k, 1)));
            }
          }),
        );
      } finally {
        torch.dispose(batchTensors(batch));
      }
    }
  } finally {
    run.model.train();
  }
  const classes = rows[0]?.length ?? 0;
  return Array.from({ length: classes }, (_, c) => rows.reduce((s, r) => s + (r[c] as number), 0) / (rows.length + 0.001));
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Restores `last` when resuming (resume: true and it exists); otherwise clears an earlier run's files and prepares the model. */
async function startState(run: TrainingRun, optimizer: torch.optim.Optimizer, schedule: torch.optim.LRScheduler) {
  const last = checkpointStem(run.dir, LAST);
  const logPath = join(run.dir, LOG_FILE);
  if (run.cfg.resume && checkpointExists(last)) {
    const meta = loadTrainingCheckpoint(last, run.model, { omitted: run.omitted, optimizer });
    if (meta.scheduler === undefined) throw new Error(`${last}.json: has no scheduler state, so training cannot resume from it`);
    schedule.load_state_dict(meta.scheduler);
    const stale = meta.stale_validations ?? 0;
    return { start: meta.iteration, best: meta.best_miou, stale, log: RunLog.resumed(logPath, meta.iteration) };
  }
  for (const name of [LAST, BEST]) removeCheckpoint(checkpointStem(run.dir, name));
  await run.prepare?.(run.train);
  return { start: 0, best: null as number | null, stale: 0, log: RunLog.fresh(logPath) };
}

/**
 * Trains on the train and val splits of percentage `perc` (loaders from the run's config), then closes
 * the loaders and runs `release` (the stage's models are disposed), whether training ended or threw.
 */
export async function trainOnSplits(
  perc: number,
  run: Omit<TrainingRun, 'train' | 'val'>,
  release: () => void = () => run.model.dispose(),
): Promise<TrainingResult> {
  try {
    await checkSplitImages(run.cfg, perc);
  } catch (err) {
    release();
    throw err;
  }
  const loaders = { train: loaderFromConfig(run.cfg, 'train', perc), val: loaderFromConfig(run.cfg, 'val', perc) };
  try {
    return await train({ ...run, ...loaders });
  } finally {
    await Promise.all([loaders.train.close(), loaders.val.close()]);
    release();
  }
}

/** Trains to train.max_iterations (or continues a resumed run there), then draws the curves. */
export async function train(run: TrainingRun): Promise<TrainingResult> {
  const optimizer = trainingOptimizer(run.cfg, run.trainable);
  try {
    return await iterate(run, optimizer, trainingSchedule(run.cfg, optimizer));
  } finally {
    optimizer.dispose();
  }
}

async function iterate(run: TrainingRun, optimizer: torch.optim.Optimizer, schedule: torch.optim.LRScheduler): Promise<TrainingResult> {
  const { cfg } = run;
  const maxIterations = cfg.train.max_iterations;
  const { save_iter: saveEvery, eval_iter: evalEvery, skip_eval: skipEval, seed } = cfg;
  const patience = cfg.earlystop.patience;
  makeDir(run.dir);
  removeOrphanTemps(run.dir, atomicTempPattern());
  const state = await startState(run, optimizer, schedule);
  let { best, stale } = state;
  const stopped = () => patience > 0 && stale >= patience;
  const progress = new Progress(run.label, maxIterations, { start: state.start });
  const last = checkpointStem(run.dir, LAST);
  if (state.start >= maxIterations || stopped()) progress.note(`${run.label}: already trained (${last} is at iteration ${state.start})`);
  else if (state.start > 0) progress.note(`${run.label}: resumed from ${last} at iteration ${state.start}`);

  const meta = (iteration: number, withSchedule: boolean): Omit<TrainingMeta, 'omitted_pretrained'> => ({
    config: cfg,
    iteration,
    best_miou: best,
    stale_validations: stale,
    input_mpp: run.input_mpp ?? cfg.input_mpp,
    ...(withSchedule ? { scheduler: schedule.state_dict() } : {}),
  });

  const t0 = performance.now();
  let trainSeconds = 0;
  let images = 0;
  let tick = performance.now();
  let end = state.start;
  run.model.train();
  const batches = stopped() ? [] : batchesFrom(run.train, state.start, maxIterations);
  for await (const { batch: raw, iteration } of batches) {
    const batch = onDevice(raw, run.device);
    const lr = optimizer.param_groups[0]?.lr as number;
    torch.manual_seed(seed + iteration);
    let losses: Record<string, number>;
    try {
      losses = torch.tidy(() => {
        const { total, terms } = run.loss(batch);
        optimizer.zero_grad();
        total.backward();
        optimizer.step();
        return { total: total.item(), ...Object.fromEntries(Object.entries(terms).map(([k, t]) => [k, t.item()])) };
      });
    } finally {
      torch.dispose(batchTensors(batch));
    }
    optimizer.zero_grad();
    schedule.step();
    const done = iteration + 1;
    if (!Number.isFinite(losses.total as number)) {
      throw new Error(`${run.label}: the loss is ${losses.total} at iteration ${done} (lr ${lr}); the last checkpoint is ${last}`);
    }
    trainSeconds += (performance.now() - tick) / 1000;
    images += batch.names.length;
    const ips = images / trainSeconds;
    state.log.append({ kind: 'train', iteration: done, lr, losses, images_per_s: ips, time: new Date().toISOString() });
    const terms = Object.entries(losses)
      .map(([k, v]) => `${k} ${v.toFixed(4)}`)
      .join(' ');
    progress.update(done, `| ${terms} | lr ${lr.toExponential(2)} | ${ips.toFixed(1)} img/s |`);

    if (!skipEval && (done % evalEvery === 0 || done === maxIterations)) {
      const perClass = await validationMiou(run);
      const miou = mean(perClass);
      state.log.append({ kind: 'val', iteration: done, miou, miou_per_class: perClass, time: new Date().toISOString() });
      const improved = best === null || miou > best;
      stale = improved ? 0 : stale + 1;
      if (improved) {
        best = miou;
        saveTrainingCheckpoint(checkpointStem(run.dir, BEST), run.model, { omitted: run.omitted, meta: meta(done, false) });
      }
      const verdict = improved ? 'best so far, saved' : `best ${(best ?? miou).toFixed(4)}`;
      progress.note(`${run.label}: iteration ${done}: validation mIoU ${miou.toFixed(4)} (${verdict})`);
    }
    end = done;
    if (stopped()) progress.note(`${run.label}: stopping early: no better validation mIoU in ${stale} validations (earlystop.patience)`);
    const stopping = interruption().aborted;
    if (done % saveEvery === 0 || done === maxIterations || stopped() || stopping) {
      saveTrainingCheckpoint(last, run.model, { omitted: run.omitted, meta: meta(done, true), optimizer });
    }
    if (stopped()) break;
    if (stopping) {
      progress.end();
      stopIfInterrupted(`${run.label}: iteration ${done}`, `saved ${last}; run the same command again to resume`);
    }
    tick = performance.now();
  }
  progress.end();
  const seconds = (performance.now() - t0) / 1000;
  if (end > state.start) process.stderr.write(`${run.label}: ${end - state.start} iterations in ${formatDuration(seconds)}\n`);
  await writeTrainingCurves(join(run.dir, LOG_FILE), join(run.dir, CURVES_FILE), run.label);
  return {
    iteration: stopped() ? end : maxIterations,
    resumed_from: state.start,
    best_miou: best,
    images_per_s: trainSeconds > 0 ? images / trainSeconds : 0,
    seconds,
  };
}

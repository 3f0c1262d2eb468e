// Training checkpoints: which tensors a run saves and how they go back into a freshly built model.
// Saved: every parameter the run trains, every persistent buffer (BatchNorm statistics), and every
// frozen parameter that a fresh build cannot restore (the student's decoder copied from the
// teacher, random frozen encoders). Left out: frozen parameters that the build reloads from the
// pretrained files (MedSAM, PLIP, PiDiNet), which would otherwise make each teacher checkpoint
// ~900 MB. Files go through torch.io.save_checkpoint, so a save is atomic.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import * as torch from '../torch/index.js';
import type { SchedulerState } from '../torch/optim/index.js';

type Tensor = torch.Tensor;

export const LAST = 'last';
export const BEST = 'best';
/** What a checkpoint's JSON `meta` holds besides the optimizer. */
export interface TrainingMeta {
  /** The resolved config of the run. */
  config: Config;
  /** Iterations done. */
  iteration: number;
  /** The best validation mIoU so far (null before the first validation). */
  best_miou: number | null;
  /** Validations since the best one (early stopping; absent in checkpoints of older versions). */
  stale_validations?: number;
  /** µm per pixel of the network input (the config's input_mpp). */
  input_mpp: number;
  /** The scheduler's state (checkpoints that can resume training). */
  scheduler?: SchedulerState;
  /** Keys left out because the build reloads them from pretrained files. */
  omitted_pretrained: number;
}

/** Keys of the frozen parameters a build with pretrained files reloads: left out of checkpoints. */
export function pretrainedFrozenKeys(model: torch.nn.Module, loadedFromFiles: boolean): Set<string> {
  if (!loadedFromFiles) return new Set();
  return new Set(
    model
      .named_parameters()
      .filter(([, p]) => !p.requires_grad)
      .map(([k]) => k),
  );
}

/** The tensors a checkpoint of `model` holds (the model's own tensors: do not dispose). */
export function checkpointTensors(model: torch.nn.Module, omitted: ReadonlySet<string>): Map<string, Tensor> {
  return new Map([...model.state_dict()].filter(([k]) => !omitted.has(k)));
}

/** `<dir>/<name>`, the stem of a checkpoint's .safetensors and .json. */
export const checkpointStem = (dir: string, name: string): string => join(dir, name);

export const checkpointExists = (stem: string): boolean => existsSync(`${stem}.json`);

/** Removes a checkpoint's files (a fresh run must not inherit an older run's `best`). */
export function removeCheckpoint(stem: string): void {
  for (const ext of ['.json', '.safetensors']) rmSync(`${stem}${ext}`, { force: true });
}

/** The id save_checkpoint gave this checkpoint (it changes with every save). */
export function checkpointId(stem: string): string {
  const doc = JSON.parse(readFileSync(`${stem}.json`, 'utf8')) as { checkpoint_id?: unknown };
  if (typeof doc.checkpoint_id !== 'string') throw new Error(`${stem}.json: no checkpoint_id`);
  return doc.checkpoint_id;
}

export interface SaveOptions {
  omitted: ReadonlySet<string>;
  meta: Omit<TrainingMeta, 'omitted_pretrained'>;
  optimizer?: torch.optim.Optimizer;
}

export function saveTrainingCheckpoint(stem: string, model: torch.nn.Module, o: SaveOptions): void {
  const opt = o.optimizer?.state_dict();
  const meta: TrainingMeta = { ...o.meta, omitted_pretrained: o.omitted.size };
  torch.io.save_checkpoint(stem, {
    state_dict: checkpointTensors(model, o.omitted),
    optimizer: opt && { state: opt.tensors, meta: opt.meta },
    meta: meta as unknown as Record<string, unknown>,
  });
}

export interface LoadOptions {
  /** Keys the model already holds from pretrained files (pretrainedFrozenKeys of this build). */
  omitted: ReadonlySet<string>;
  /** Restores the optimizer's state too (resuming). */
  optimizer?: torch.optim.Optimizer;
}

/**
 * Loads a checkpoint into a freshly built model: every saved key must exist in the model (same
 * shape), and every model key must be saved or be one the build loaded from pretrained files.
 * Returns the checkpoint's meta; its tensors are released.
 */
export function loadTrainingCheckpoint(stem: string, model: torch.nn.Module, o: LoadOptions): TrainingMeta {
  const ckpt = torch.io.load_checkpoint(stem);
  try {
    const own = model.state_dict();
    const unknown = [...ckpt.state_dict.keys()].filter((k) => !own.has(k));
    if (unknown.length) {
      throw new Error(
        `${stem}.json: holds ${unknown.length} tensor(s) the model built from the config lacks (${unknown.slice(0, 3).join(', ')}): was it saved from another config?`,
      );
    }
    const lacking = [...own.keys()].filter((k) => !ckpt.state_dict.has(k) && !o.omitted.has(k));
    if (lacking.length) {
      throw new Error(
        `${stem}.json: lacks ${lacking.length} tensor(s) the model needs (${lacking.slice(0, 3).join(', ')}); ` +
          'they are neither saved nor loaded from pretrained files (train.load_pretrained differs from the run that saved it?)',
      );
    }
    try {
      model.load_state_dict(ckpt.state_dict, false);
    } catch (err) {
      throw new Error(`${stem}.json: ${(err as Error).message}`);
    }
    if (o.optimizer) {
      if (!ckpt.optimizer) throw new Error(`${stem}.json: has no optimizer state, so training cannot resume from it`);
      try {
        o.optimizer.load_state_dict({ tensors: ckpt.optimizer.state, meta: ckpt.optimizer.meta as torch.optim.OptimizerStateDict['meta'] });
      } catch (err) {
        throw new Error(
          `${stem}.json: its optimizer state does not fit this run (were other parameters trainable?): ${(err as Error).message}`,
        );
      }
    }
    return ckpt.meta as unknown as TrainingMeta;
  } finally {
    torch.dispose([...ckpt.state_dict.values(), ...(ckpt.optimizer?.state.values() ?? [])]);
  }
}

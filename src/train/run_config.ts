// A run's config values and its folder, as the reference's adapt_split_config sets them (spec §1.1):
// for few-shot percentage P the run lives in <out_dir>/<task>/<model>/fewshot_perc<P>/ (relative to
// the working directory, as in the reference), and config_perc<P>.yaml there is the resolved config.
import { isAbsolute, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { ConfigError, type ConfigTree, get, loadConfig } from '../config/index.js';
import { makeDir } from '../make_dir.js';
import * as torch from '../torch/index.js';
import { writeAtomic } from '../torch/io/files.js';
import type { SegLossOptions } from './losses.js';

export function num(cfg: ConfigTree, path: string): number {
  const v = get(cfg, path);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`config: '${path}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function int(cfg: ConfigTree, path: string, min = 0): number {
  const v = num(cfg, path);
  if (!Number.isInteger(v) || v < min) throw new ConfigError(`config: '${path}' must be an integer >= ${min}, got ${v}`);
  return v;
}

export const bool = (cfg: ConfigTree, path: string): boolean => get(cfg, path) === true;
export const str = (cfg: ConfigTree, path: string): string => String(get(cfg, path));

/** The few-shot percentages a config runs (fewshot_perc_list). */
export function percentages(cfg: ConfigTree): number[] {
  const list = get(cfg, 'fewshot_perc_list');
  if (!Array.isArray(list) || list.length === 0 || list.some((p) => typeof p !== 'number' || !(p > 0 && p <= 100))) {
    throw new ConfigError(`config: 'fewshot_perc_list' must list percentages in (0, 100], got ${JSON.stringify(list)}`);
  }
  return list as number[];
}

/** <out_dir>/<task>/<model>/fewshot_perc<P>, absolute. */
export function runDir(cfg: ConfigTree, perc: number): string {
  return resolve(str(cfg, 'out_dir'), str(cfg, 'task'), str(cfg, 'model'), `fewshot_perc${perc}`);
}

/** The config of the run for percentage P: fewshot_perc_list [P] and the model/result/record dirs set to its folder. */
export function resolvedConfig(cfg: ConfigTree, perc: number): ConfigTree {
  const dir = runDir(cfg, perc);
  return { ...structuredClone(cfg), fewshot_perc_list: [perc], model_dir: dir, result_dir: dir, record_dir: dir };
}

/** Writes <dir>/config_perc<P>.yaml (loadable by mmfd: running it repeats that percentage). */
export function writeResolvedConfig(cfg: ConfigTree, perc: number): string {
  const dir = runDir(cfg, perc);
  makeDir(dir);
  const file = join(dir, `config_perc${perc}.yaml`);
  const text = `# The resolved config of this run (mmfd ${torch.io.mmfd_version()}, fewshot_perc ${perc}).\n${stringify(cfg)}`;
  writeAtomic(file, (sink) => sink.write(new TextEncoder().encode(text)));
  return file;
}

/** Loads a config another config names (network_t.cfg_file, ...): relative paths are from the working directory, as in the reference. */
export function loadNamedConfig(cfg: ConfigTree, key: string, source: string): ConfigTree {
  const file = str(cfg, key);
  if (file === '' || file === 'none') throw new ConfigError(`${source}: '${key}' must name a config file`);
  const path = isAbsolute(file) ? file : resolve(file);
  try {
    return loadConfig(path);
  } catch (err) {
    throw new ConfigError(`${source}: '${key}' (${file}): ${(err as Error).message}`);
  }
}

/** The stage I / II segmentation loss weights (spec §6). */
export function segLossOptions(cfg: ConfigTree): SegLossOptions {
  const weights = (path: string) => get(cfg, path) as (number | null)[];
  return { dice: weights('loss.mask_iou_weight'), bce: weights('loss.mask_bce_weight'), focal: weights('loss.mask_focal_weight') };
}

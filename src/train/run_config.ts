// A run's config values and its folder, as the reference's adapt_split_config sets them (spec §1.1):
// for few-shot percentage P the run lives in <out_dir>/<task>/<model>/fewshot_perc<P>/ (relative to
// the working directory, as in the reference), and config_perc<P>.yaml there is the resolved config.
import { isAbsolute, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { type Config, ConfigError, loadConfig } from '../config/index.js';
import { makeDir } from '../make_dir.js';
import * as torch from '../torch/index.js';
import { writeAtomic } from '../torch/io/files.js';
import type { SegLossOptions } from './losses.js';

/** <out_dir>/<task>/<model>/fewshot_perc<P>, absolute. */
export function runDir(cfg: Config, perc: number): string {
  return resolve(cfg.out_dir, cfg.task, cfg.model, `fewshot_perc${perc}`);
}

/** The config of the run for percentage P: fewshot_perc_list [P] and the model/result/record dirs set to its folder. */
export function resolvedConfig(cfg: Config, perc: number): Config {
  const dir = runDir(cfg, perc);
  return { ...structuredClone(cfg), fewshot_perc_list: [perc], model_dir: dir, result_dir: dir, record_dir: dir };
}

/** Writes <dir>/config_perc<P>.yaml (loadable by mmfd: running it repeats that percentage). */
export function writeResolvedConfig(cfg: Config, perc: number): string {
  const dir = runDir(cfg, perc);
  makeDir(dir);
  const file = join(dir, `config_perc${perc}.yaml`);
  const text = `# The resolved config of this run (mmfd ${torch.io.mmfd_version()}, fewshot_perc ${perc}).\n${stringify(cfg)}`;
  writeAtomic(file, (sink) => sink.write(new TextEncoder().encode(text)));
  return file;
}

/** Loads the config another config names (network_t / network_s.cfg_file): relative paths are from the working directory, as in the reference. */
export function loadNamedConfig(cfg: Config, key: 'network_t' | 'network_s', source: string): Config {
  const file = cfg[key].cfg_file;
  if (file === '' || file === 'none') throw new ConfigError(`${source}: '${key}.cfg_file' must name a config file`);
  const path = isAbsolute(file) ? file : resolve(file);
  try {
    return loadConfig(path);
  } catch (err) {
    throw new ConfigError(`${source}: '${key}.cfg_file' (${file}): ${(err as Error).message}`);
  }
}

/** The stage I / II segmentation loss weights (spec §6). */
export function segLossOptions(cfg: Config): SegLossOptions {
  return { dice: cfg.loss.mask_iou_weight, bce: cfg.loss.mask_bce_weight, focal: cfg.loss.mask_focal_weight };
}

// Keys the reference's configs carry that mmfd accepts, so that those files load unchanged, but does not act on.
// A config that sets one to something other than its default gets one line saying so and why (spec §2.2, §2.3).
import { isDeepStrictEqual } from 'node:util';
import { type Config, ConfigSchema } from './schema.js';

const UNUSED = 'unused by the reference too';
const TASK_PICKS = 'the network is chosen by task';
const CLASSES = 'the class count is num_classes';
const SIZE = 'the network input size is img_size';

/** Dotted key -> why setting it changes nothing (or, as a function, a reason only when it applies). */
const INERT: Readonly<Record<string, string | ((c: Config) => string | undefined)>> = {
  gpus: 'the device is CUDA when the linked libtorch has it, else the CPU (the reference never reads gpus)',
  n_gpu: 'mmfd trains on one device',
  deterministic: 'mmfd runs are reproducible from seed whatever this says',
  idx_fold: UNUSED,
  dataset: 'the datasets are train.dataset, val.dataset and test.dataset',
  out_root: 'runs live in <out_dir>/<task>/<model> (the reference overrides out_root too)',
  save_ep: 'checkpoints are saved every save_iter iterations',
  eval_ep: 'validation runs every eval_iter iterations',
  vit_name: TASK_PICKS,
  module: TASK_PICKS,
  'network.name': TASK_PICKS,
  'network.params.var': 'ignored by the reference too',
  visualizer: 'test pictures are the reference overlay and a composite, whatever this says',
  'component.require_atten': 'the reference returned attention maps and discarded them',
  'component.noise_list': 'read only by dead code in the reference',
  'component.noise_version': 'read only by commented-out code in the reference',
  'component.ft_module': UNUSED,
  'component.dec_module': UNUSED,
  'component.maskaug': UNUSED,
  'network_t.model': 'the teacher is the one trained by network_t.cfg_file',
  'network_t.task': 'the teacher is the one trained by network_t.cfg_file',
  'network_t.epoch': "the teacher is its run's best checkpoint (else last)",
  'network_s.model': 'the student is built from network_s.cfg_file',
  'train.epoch': 'training length is train.max_iterations',
  'train.lr': 'the learning rate is train.base_lr',
  'train.warmup': 'warm-up is train.warup (the reference spelling) with train.warmup_period',
  'train.is_pretrain': 'pretrained files are loaded when train.load_pretrained',
  'train.lora_ckpt': 'a run resumes from its own last checkpoint; no LoRA file is read',
  'train.milestones': (c) => (c.train.scheduler.type === 'multistep' ? undefined : "read by train.scheduler.type 'multistep' only"),
  'train.gamma': (c) => (c.train.scheduler.type === 'multistep' ? undefined : "read by train.scheduler.type 'multistep' only"),
  'train.optim': (c) => (c.train.AdamW ? 'train.AdamW is true, so the optimizer is AdamW' : undefined),
  'train.num_classes': CLASSES,
  'train.is_savevis': 'only test.is_savevis draws pictures',
  'train.input_size': SIZE,
  'val.epoch': 'validation uses the weights being trained',
  'val.num_classes': CLASSES,
  'val.is_savevis': 'only test.is_savevis draws pictures',
  'val.rank': 'the LoRA rank is train.rank',
  'val.input_size': SIZE,
  'test.epoch': "tests use the run's best checkpoint (else last)",
  'test.augment': 'tests use val.augment, as the reference does',
  'test.num_classes': CLASSES,
  'test.rank': 'the LoRA rank is train.rank',
  'test.input_size': SIZE,
  'post.required': 'post-processing is not implemented: outputs are probabilities, thresholded at 0.5 where masks are drawn',
  'post.post_types.heuristic': 'post-processing is not implemented (post.required)',
  'post.post_types.equal': 'post-processing is not implemented (post.required)',
  'post.th_toedge': 'snake-model leftover, unused by the reference',
  'post.th_cnt': 'snake-model leftover, unused by the reference',
};

const at = (tree: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], tree);

const DEFAULTS = ConfigSchema.parse({});

/** One line per inert key `cfg` sets to a non-default value: "<key>: <value> accepted for compatibility, no effect: <why>". */
export function inertSettings(cfg: Config): string[] {
  const lines: string[] = [];
  for (const [key, why] of Object.entries(INERT)) {
    const value = at(cfg, key);
    if (isDeepStrictEqual(value, at(DEFAULTS, key))) continue;
    const reason = typeof why === 'string' ? why : why(cfg);
    if (reason !== undefined) lines.push(`${key}: ${JSON.stringify(value)} accepted for compatibility, no effect: ${reason}`);
  }
  return lines;
}

// The config schema: every key mmfd knows, its type, its allowed range and its default, as one zod schema
// whose output is the typed Config. The tree is the reference's built-in defaults (spec §2.2), the keys its
// three YAML files use (§2.3), and mmfd's own additions, marked below. Messages are "must be <what>", which
// load.ts prefixes with the file and the key.
import { z } from 'zod';

const must = (what: string) => ({ error: `must be ${what}` });

/** A finite number in a range ('> 0', '>= 0', or none); NaN and Infinity fail with the same message. */
function real(o: { gt?: number; ge?: number; le?: number } = {}) {
  const bounds = [o.gt !== undefined && `> ${o.gt}`, o.ge !== undefined && `>= ${o.ge}`, o.le !== undefined && `<= ${o.le}`];
  const e = must(['a finite number', bounds.filter(Boolean).join(' and ')].filter(Boolean).join(' '));
  let s = z.number(e);
  if (o.gt !== undefined) s = s.gt(o.gt, e);
  if (o.ge !== undefined) s = s.gte(o.ge, e);
  if (o.le !== undefined) s = s.lte(o.le, e);
  return s;
}

function int(min: number, max?: number) {
  const e = must(`an integer >= ${min}${max === undefined ? '' : ` and <= ${max}`}`);
  const s = z.number(e).int(e).gte(min, e);
  return max === undefined ? s : s.lte(max, e);
}

/** yacs reads 0 and 1 as booleans where the default is one. */
const bool = () => z.preprocess((v) => (v === 0 ? false : v === 1 ? true : v), z.boolean(must('true or false')));
const str = () => z.string(must('a string'));
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, must(`one of ${values.map((v) => `'${v}'`).join(', ')}`));

/** yacs runs values through literal_eval, so `gpus: (0,)` is a tuple; such strings are read as lists. */
function tupleLiteral(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const m = /^\s*[([]\s*(.*?)\s*,?\s*[)\]]\s*$/.exec(v);
  if (!m) return v;
  if (m[1] === '') return [];
  return (m[1] as string).split(',').map((s) => {
    const t = s.trim().replace(/^['"]|['"]$/g, '');
    return t !== '' && Number.isFinite(Number(t)) ? Number(t) : t;
  });
}

function list<T extends z.ZodType>(item: T, what: string, o: { min?: number; length?: number } = {}) {
  const e = must(`a list of ${what}${o.length ? ` (${o.length} of them)` : o.min ? ` (at least ${o.min})` : ''}`);
  let s = z.array(item, e);
  if (o.min !== undefined) s = s.min(o.min, e);
  if (o.length !== undefined) s = s.length(o.length, e);
  return z.preprocess(tupleLiteral, s);
}

/** A mapping of known keys (an unknown key is an error), missing keys taking their defaults. */
const section = <S extends z.ZodRawShape>(shape: S) => z.strictObject(shape, must('a mapping')).prefault({} as never);

/** [low, high] with low <= high; a single number n means [n, n]. */
function pair(what = 'numbers', item = real()) {
  const e = must(`[low, high] ${what} with low <= high`);
  return z.preprocess(
    (v) => (typeof v === 'number' ? [v, v] : v),
    z.tuple([item, item], e).refine(([lo, hi]) => lo <= hi, e),
  );
}

// ---- augmentations -----------------------------------------------------------------------------

/** The augmentations an `augment` block may list (in the order they run), with their options. */
export const AUGMENTATION_SCHEMAS = {
  HEBDecompose: section({ use: bool().default(false) }),
  // prob_th is read but ignored by the reference (the 0.5 is hard-coded; spec §12.9), and here too.
  Flip: section({ h: bool().default(true), v: bool().default(true), prob_th: real({ ge: 0, le: 1 }).default(0.5) }),
  Affine: section({
    scale: pair().default([1, 1]),
    translate: pair().default([0, 0]),
    rotate: pair().default([-360, 360]),
    shear: pair().default([0, 0]),
    p: real({ ge: 0, le: 1 }).default(1),
  }),
  Resize: section({ size: pair('sizes', int(1)).default([512, 512]) }),
  // mmfd, not in the reference (off unless use: true; see src/data/augment.ts): H&E stain jitter
  // (amounts scaled by U(1±alpha), shifted by U(±beta)) and brightness/contrast jitter.
  HEDJitter: section({ use: bool().default(false), alpha: real({ ge: 0 }).default(0.05), beta: real({ ge: 0 }).default(0.01) }),
  BrightnessContrast: section({
    use: bool().default(false),
    brightness: real({ ge: 0 }).default(0.1),
    contrast: real({ ge: 0 }).default(0.1),
  }),
};

export type AugmentationName = keyof typeof AUGMENTATION_SCHEMAS;
/** An augment block: the augmentations listed, in the YAML's order, each with all its options. */
export type AugmentBlock = { [K in AugmentationName]?: z.output<(typeof AUGMENTATION_SCHEMAS)[K]> };

const AUGMENTATION_NAMES = Object.keys(AUGMENTATION_SCHEMAS) as AugmentationName[];

/** An `augment` block replaces the default one (it lists which augmentations run, in order); options missing take their defaults. */
function augmentBlock(defaults: AugmentBlock) {
  return z
    .unknown()
    .transform((v, ctx): AugmentBlock => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        ctx.issues.push({ code: 'custom', message: 'must be a mapping of augmentations', input: v });
        return {};
      }
      const out: Record<string, unknown> = {};
      for (const [name, opts] of Object.entries(v)) {
        const schema = AUGMENTATION_SCHEMAS[name as AugmentationName];
        if (!Object.hasOwn(AUGMENTATION_SCHEMAS, name)) {
          ctx.issues.push({
            code: 'unrecognized_keys',
            keys: [name],
            input: v,
            message: 'unknown key',
            candidates: AUGMENTATION_NAMES,
          } as never);
          continue;
        }
        const r = schema.safeParse(opts ?? undefined, { reportInput: true });
        if (r.success) out[name] = r.data;
        else for (const iss of r.error.issues) ctx.issues.push({ ...iss, path: [name, ...iss.path] } as never);
      }
      return out as AugmentBlock;
    })
    .default(() => structuredClone(defaults));
}

const AUGMENT_TRAIN: AugmentBlock = {
  HEBDecompose: { use: false },
  Flip: { h: true, v: true, prob_th: 0.5 },
  Affine: { scale: [1, 1], translate: [0, 0], rotate: [-360, 360], shear: [0, 0], p: 1 },
  Resize: { size: [512, 512] },
};

// ---- the config ----------------------------------------------------------------------------------

export const ENCODERS = ['medsam', 'pidinet', 'plip'] as const;
export const TASKS = ['multimodel2s', 'mobilesam', 'multimodel2s_distill'] as const;
export const OPTIMIZERS = ['adam', 'adamw', 'sgd'] as const;
export const SCHEDULERS = ['cosanneal', 'multistep'] as const;

/** The largest img_size accepted: the encoders' attention is quadratic in (img_size / patch)². */
export const MAX_IMG_SIZE = 4096;

/** The reference's 'none' fallback marker (fuse_depth 'none' -> 4, fuse_token_num 'none' -> 1). */
const intOrNone = (min: number) => z.union([int(min), z.literal('none')], must(`an integer >= ${min} or 'none'`));
const weights = () => list(real({ ge: 0 }).nullable(), 'weights >= 0 (null means 1)');

const split = (dataset: string, batch_size: number, augment: AugmentBlock) => ({
  dataset: str().default(dataset),
  batch_size: int(1).default(batch_size),
  epoch: int(-1).default(-1),
  augment: augmentBlock(augment),
  num_classes: int(1).default(4),
  is_savevis: bool().default(true),
  rank: int(1).default(4),
  input_size: int(1).default(512),
});

const shape = {
  model: str().default('hello'),
  // '' (unset) loads, so that partial configs parse; the commands that run a config need one of TASKS.
  task: z.enum(['', ...TASKS], must(`one of ${TASKS.map((t) => `'${t}'`).join(', ')}`)).default(''),
  network: section({ name: str().default('mobilesam'), params: section({ var: real().default(123) }) }),
  out_dir: str().default('data/exp'),
  out_root: str().default('data/exp'),
  model_dir: str().default(''),
  record_dir: str().default(''),
  result_dir: str().default(''),
  gpus: list(int(0), 'GPU indices').default([0]),
  n_gpu: int(0).default(1),
  resume: bool().default(true),
  deterministic: int(0).default(1),
  seed: int(0).default(1234),
  idx_fold: str().default('no_split'),
  dataset: str().default('placenta_dataset'),
  fewshot_perc_list: list(real({ gt: 0, le: 100 }), 'percentages in (0, 100]', { min: 1 }).default([100]),
  save_iter: int(1).default(500),
  eval_iter: int(1).default(500),
  save_ep: int(1).default(5),
  eval_ep: int(1).default(5),
  skip_eval: bool().default(false),
  num_classes: int(1).default(4),
  img_size: int(1, MAX_IMG_SIZE).default(512),
  // mmfd: microns per pixel of the network input (the resolution contract, src/slides/io/mpp.ts): stored in
  // every checkpoint, so slides are resampled to it. 1.0 for the reference's data (1024-pixel patches at
  // ~0.5 um/px resized to 512).
  input_mpp: real({ gt: 0 }).default(1.0),
  vit_name: str().default('mmodel2s'),
  module: str().default('SAMed'),
  visualizer: str().default('base'),
  sam_ckpt: str().default('pretrained_checkpoints/medsam_box_best_vitb.pth'),
  ckpt: str().default('none'),
  component: section({
    model_list: list(oneOf(ENCODERS), 'encoder names', { min: 1 }).default(['medsam', 'pidinet', 'plip']),
    model_for_lora: list(oneOf(ENCODERS), 'encoder names').default(['medsam']),
    fuse_parallel_block: oneOf(['share_token']).default('share_token'),
    fuse_final_block: oneOf(['sum']).default('sum'),
    fuse_depth: intOrNone(1).default(2),
    fuse_token_num: intOrNone(1).default(512),
    require_atten: bool().default(true),
    train_iter: int(1).default(1),
    test_iter: int(1).default(1),
    noise_list: list(real(), 'numbers').default([0, 0, 0, 0, 0]),
    noise_version: str().default('none'),
    ft_module: str().default('samed'),
    dec_module: str().default('none'),
    maskaug: bool().default(false),
    // mmfd: 'spatial' reproduces the reference's softmax over query positions in FusePro (spec §3.7);
    // 'tokens' is standard cross-attention (softmax over the shared tokens).
    fuse_softmax_axis: oneOf(['spatial', 'tokens']).default('spatial'),
  }),
  loss: section({
    mask_iou_weight: weights().default([0.5, 0, 0, 1.5]),
    mask_bce_weight: weights().default([0.5, 2, 2, 0]),
    mask_focal_weight: weights().default([0, 0, 0, 0]),
    distill_mse_weight: real({ ge: 0 }).default(10.0),
    use_iter_loss: bool().default(false),
  }),
  network_t: section({
    cfg_file: str().default(''),
    model: str().default(''),
    task: str().default('multimodel2s'),
    epoch: int(-1).default(-1),
  }),
  network_s: section({ cfg_file: str().default(''), model: str().default('') }),
  train: section({
    ...split('placenta_dataset', 8, AUGMENT_TRAIN),
    epoch: int(-1).default(140),
    num_workers: int(0).default(8),
    // The optimizer: AdamW when train.AdamW (the reference's YAMLs), else train.optim.
    optim: oneOf(OPTIMIZERS).default('adam'),
    lr: real({ gt: 0 }).default(1e-4),
    weight_decay: real({ ge: 0 }).default(5e-4),
    warmup: bool().default(false),
    warup: bool().default(true),
    warmup_period: int(0).default(50),
    // The 'multistep' schedule's decay points (mmfd counts them in iterations) and factor.
    milestones: list(int(0), 'iterations').default([80, 120, 200, 240]),
    gamma: real({ gt: 0 }).default(0.5),
    max_iterations: int(1).default(5000),
    base_lr: real({ gt: 0 }).default(1e-4),
    AdamW: bool().default(true),
    scheduler: section({ type: oneOf(SCHEDULERS).default('cosanneal') }),
    is_pretrain: bool().default(true),
    lora_ckpt: str().default('none'),
    // mmfd (src/train): load the pretrained encoder files the config names (sam_ckpt, pretrained.*);
    // false builds random encoders (the tiny configs: no pretrained files exist offline).
    load_pretrained: bool().default(true),
    // mmfd: freeze the teacher's encoders (LoRA is applied per config either way); false trains
    // them too, as random encoders must learn.
    freeze_encoders: bool().default(true),
    // mmfd, stage II: keep each image's teacher embedding on disk after its first use, so the
    // teacher runs once per image; honoured only when train.augment draws nothing at random.
    cache_teacher_embeddings: bool().default(false),
  }),
  val: section(split('placenta_dataset', 1, { HEBDecompose: { use: false }, Resize: { size: [512, 512] } })),
  test: section(split('placenta_dataset', 1, { Resize: { size: [512, 512] } })),
  post: section({
    required: bool().default(false),
    post_types: section({ heuristic: bool().default(false), equal: bool().default(false) }),
    th_toedge: real().default(0),
    th_cnt: real().default(0),
  }),
  // Validations without a better validation mIoU before training stops (0: never stops early).
  earlystop: section({ patience: int(0).default(20) }),
  // mmfd: where the pretrained weights are (the reference hard-codes these in config_basic.py).
  pretrained: section({
    plip_dir: str().default('pretrained_checkpoints/plip-vinid'),
    pidinet: str().default('pretrained_checkpoints/table5_pidinet.pth'),
    mobile_sam: str().default('none'),
  }),
  // mmfd: the network hyper-config of the reference's config_basic.py (spec §2.4) and the student's
  // TinyViT settings (§4), overridable so that small variants (configs/tiny-*.yaml) train in minutes.
  arch: section({
    MED_SAM_VIT: section({
      EMBED_DIM: int(1).default(768),
      DEPTH: int(1).default(12),
      NUM_HEADS: int(1).default(12),
      GLOBAL_ATTN_INDEXES: list(int(0), 'block indices').default([2, 5, 8, 11]),
      PATCH_SIZE: int(1).default(16),
      WINDOW_SIZE: int(1).default(14),
      OUT_DIM: int(1).default(256),
    }),
    PLIP: section({
      PATCH_SIZE: int(1).default(32),
      HIDDEN_SIZE: int(1).default(768),
      INTERMEDIATE_SIZE: int(1).default(3072),
      NUM_LAYERS: int(1).default(12),
      NUM_HEADS: int(1).default(12),
      HIDDEN_ACT: oneOf(['quick_gelu', 'gelu', 'gelu_new', 'gelu_pytorch_tanh']).default('quick_gelu'),
      LAYER_NORM_EPS: real({ gt: 0 }).default(1e-5),
    }),
    PIDINET: section({ INPLANE: int(1).default(60), PDCS: str().default('carv4'), DIL: int(1).default(24), SA: bool().default(true) }),
    FUSE_PRE: section({ OUT_DIM: int(1).default(768) }),
    FUSE_PRO: section({ NUM_HEADS: int(1).default(12), MLP_RATIO: real({ gt: 0 }).default(4) }),
    FUSE_FIN: section({ OUT_DIM: int(1).default(256) }),
    DECODER: section({
      TRANSFORMER_DIM: int(1).default(256),
      DEPTH: int(1).default(2),
      MLP_DIM: int(1).default(2048),
      NUM_HEADS: int(1).default(8),
      MASK_IN_CHANS: int(1).default(16),
    }),
    TINYVIT: section({
      EMBED_DIMS: list(int(1), 'widths', { length: 4 }).default([64, 128, 160, 320]),
      DEPTHS: list(int(1), 'block counts', { length: 4 }).default([2, 2, 6, 2]),
      NUM_HEADS: list(int(1), 'head counts', { length: 4 }).default([2, 4, 5, 10]),
      WINDOW_SIZES: list(int(1), 'window sizes', { length: 4 }).default([7, 7, 14, 7]),
      MLP_RATIO: real({ gt: 0 }).default(4),
      // mmfd's key: the PatchMerging strides. MobileSAM's width rule gives [2, 2, 1] for TinyViT-5M, the img/16
      // grid of MedSAM's 16-pixel patches; [2, 1, 1] gives img/8, to match a teacher with 8-pixel patches.
      MERGE_STRIDES: list(z.union([z.literal(1), z.literal(2)], must('1 or 2')), 'strides (1 or 2)', { length: 3 }).default([2, 2, 1]),
    }),
  }),
};

/** How many pixels one token of the network a task builds covers, and which keys say so. */
export function patchSizes(c: Pick<Config, 'task' | 'component' | 'arch'>): { key: string; size: number; what: string }[] {
  if (c.task === 'multimodel2s') {
    const out: { key: string; size: number; what: string }[] = [];
    if (c.component.model_list.includes('medsam'))
      out.push({ key: 'arch.MED_SAM_VIT.PATCH_SIZE', size: c.arch.MED_SAM_VIT.PATCH_SIZE, what: "MedSAM's patches" });
    if (c.component.model_list.includes('plip'))
      out.push({ key: 'arch.PLIP.PATCH_SIZE', size: c.arch.PLIP.PATCH_SIZE, what: "PLIP's patches" });
    return out;
  }
  if (c.task === 'mobilesam') {
    const size = 4 * c.arch.TINYVIT.MERGE_STRIDES.reduce((a: number, b) => a * b, 1);
    return [{ key: 'arch.TINYVIT.MERGE_STRIDES', size, what: "TinyViT's token grid: 4 x the product of the merge strides" }];
  }
  return []; // a distillation's networks come from network_t / network_s, checked when those load
}

const ConfigObject = z.strictObject(shape);

/** A loaded config: every key present, validated, typed. */
export type Config = z.output<typeof ConfigObject>;

/** The schema with the checks across keys, which run once every key is valid. */
export const ConfigSchema = ConfigObject.transform((c, ctx): Config => {
  for (const p of patchSizes(c)) {
    if (c.img_size % p.size !== 0) {
      ctx.issues.push({
        code: 'custom',
        path: ['img_size'],
        input: c.img_size,
        message: `must be divisible by ${p.size} (${p.key}: ${p.what})`,
      });
    }
  }
  const t = c.train;
  if (t.warup && t.warmup_period > t.max_iterations) {
    ctx.issues.push({
      code: 'custom',
      path: ['train', 'warmup_period'],
      input: t.warmup_period,
      message: `must not exceed 'train.max_iterations' (${t.max_iterations})`,
    });
  }
  if (t.AdamW && t.optim !== 'adam' && t.optim !== 'adamw') {
    ctx.issues.push({
      code: 'custom',
      path: ['train', 'optim'],
      input: t.optim,
      message: "has no effect while 'train.AdamW' is true (AdamW is used); set train.AdamW: false to use it",
    });
  }
  for (const key of ['mask_iou_weight', 'mask_bce_weight', 'mask_focal_weight'] as const) {
    if (c.loss[key].length < c.num_classes)
      ctx.issues.push({
        code: 'custom',
        path: ['loss', key],
        input: c.loss[key],
        message: `must give a weight for each of the num_classes (${c.num_classes}) classes`,
      });
  }
  return c;
});

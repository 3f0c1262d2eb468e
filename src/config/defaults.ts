// Every config key mmfd knows, with its default. The tree is the reference's built-in defaults
// (spec §2.2), the keys its three YAML files use (§2.3), and mmfd's own additions, marked below.
// A YAML file is merged onto this tree; a key not in it is an error (see load.ts).

export type ConfigValue = string | number | boolean | null | ConfigValue[] | ConfigTree;
export interface ConfigTree {
  [key: string]: ConfigValue;
}

/** The augmentations a YAML `augment` block may list (in the order they run), with their options. */
export const AUGMENTATIONS: ConfigTree = {
  HEBDecompose: { use: false },
  Flip: { h: true, v: true, prob_th: 0.5 },
  Affine: { scale: [1, 1], translate: [0, 0], rotate: [-360, 360], shear: [0, 0], p: 1 },
  Resize: { size: [512, 512] },
  // mmfd, not in the reference (off unless use: true; see src/data/augment.ts): H&E stain jitter
  // (amounts scaled by U(1±alpha), shifted by U(±beta)) and brightness/contrast jitter.
  HEDJitter: { use: false, alpha: 0.05, beta: 0.01 },
  BrightnessContrast: { use: false, brightness: 0.1, contrast: 0.1 },
};

const augmentTrain: ConfigTree = {
  HEBDecompose: { use: false },
  Flip: { h: true, v: true, prob_th: 0.5 },
  Affine: { scale: [1, 1], translate: [0, 0], rotate: [-360, 360], shear: [0, 0], p: 1 },
  Resize: { size: [512, 512] },
};

const split = (dataset: string, batch_size: number, augment: ConfigTree): ConfigTree => ({
  dataset,
  batch_size,
  epoch: -1,
  augment,
  num_classes: 4,
  is_savevis: true,
  rank: 4,
  input_size: 512,
});

export const DEFAULTS: ConfigTree = {
  model: 'hello',
  task: '',
  network: { name: 'mobilesam', params: { var: 123 } },
  out_dir: 'data/exp',
  out_root: 'data/exp',
  model_dir: '',
  record_dir: '',
  result_dir: '',
  gpus: [0],
  n_gpu: 1,
  resume: true,
  deterministic: 1,
  seed: 1234,
  idx_fold: 'no_split',
  dataset: 'placenta_dataset',
  fewshot_perc_list: [100],
  save_iter: 500,
  eval_iter: 500,
  save_ep: 5,
  eval_ep: 5,
  skip_eval: false,
  num_classes: 4,
  img_size: 512,
  // mmfd: microns per pixel of the network input (the resolution contract, src/slides/mpp.ts): stored in
  // every checkpoint, so slides are resampled to it. 1.0 for the reference's data (1024-pixel patches at
  // ~0.5 um/px resized to 512).
  input_mpp: 1.0,
  vit_name: 'mmodel2s',
  module: 'SAMed',
  visualizer: 'base',
  sam_ckpt: 'pretrained_checkpoints/medsam_box_best_vitb.pth',
  ckpt: 'none',
  component: {
    model_list: ['medsam', 'pidinet', 'plip'],
    model_for_lora: ['medsam'],
    fuse_parallel_block: 'share_token',
    fuse_final_block: 'sum',
    fuse_depth: 2,
    fuse_token_num: 512,
    require_atten: true,
    train_iter: 1,
    test_iter: 1,
    noise_list: [0, 0, 0, 0, 0],
    noise_version: 'none',
    ft_module: 'samed',
    dec_module: 'none',
    maskaug: false,
    // mmfd: 'spatial' reproduces the reference's softmax over query positions in FusePro (spec §3.7);
    // 'tokens' is standard cross-attention (softmax over the shared tokens).
    fuse_softmax_axis: 'spatial',
  },
  loss: {
    mask_iou_weight: [0.5, 0, 0, 1.5],
    mask_bce_weight: [0.5, 2, 2, 0],
    mask_focal_weight: [0, 0, 0, 0],
    distill_mse_weight: 10.0,
    use_iter_loss: false,
  },
  network_t: { cfg_file: '', model: '', task: 'multimodel2s', epoch: -1 },
  network_s: { cfg_file: '', model: '' },
  train: {
    ...split('placenta_dataset', 8, augmentTrain),
    num_workers: 8,
    optim: 'adam',
    lr: 1e-4,
    weight_decay: 5e-4,
    warmup: false,
    warup: true,
    warmup_period: 50,
    milestones: [80, 120, 200, 240],
    gamma: 0.5,
    max_iterations: 5000,
    base_lr: 1e-4,
    AdamW: true,
    scheduler: { type: 'cosanneal' },
    is_pretrain: true,
    lora_ckpt: 'none',
    epoch: 140,
    // mmfd (src/train): load the pretrained encoder files the config names (sam_ckpt, pretrained.*);
    // false builds random encoders (the tiny configs: no pretrained files exist offline).
    load_pretrained: true,
    // mmfd: freeze the teacher's encoders (LoRA is applied per config either way); false trains
    // them too, as random encoders must learn.
    freeze_encoders: true,
    // mmfd, stage II: keep each image's teacher embedding on disk after its first use, so the
    // teacher runs once per image; honoured only when train.augment draws nothing at random.
    cache_teacher_embeddings: false,
  },
  val: split('placenta_dataset', 1, { HEBDecompose: { use: false }, Resize: { size: [512, 512] } }),
  test: split('placenta_dataset', 1, { Resize: { size: [512, 512] } }),
  post: { required: false, post_types: { heuristic: false, equal: false }, th_toedge: 0, th_cnt: 0 },
  earlystop: { patience: 20 },
  // mmfd: where the pretrained weights are (the reference hard-codes these in config_basic.py).
  pretrained: {
    plip_dir: 'pretrained_checkpoints/plip-vinid',
    pidinet: 'pretrained_checkpoints/table5_pidinet.pth',
    mobile_sam: 'none',
  },
  // mmfd: the network hyper-config of the reference's config_basic.py (spec §2.4) and the student's
  // TinyViT settings (§4), overridable so that small variants (configs/tiny-*.yaml) train in minutes.
  arch: {
    MED_SAM_VIT: {
      EMBED_DIM: 768,
      DEPTH: 12,
      NUM_HEADS: 12,
      GLOBAL_ATTN_INDEXES: [2, 5, 8, 11],
      PATCH_SIZE: 16,
      WINDOW_SIZE: 14,
      OUT_DIM: 256,
    },
    PLIP: {
      PATCH_SIZE: 32,
      HIDDEN_SIZE: 768,
      INTERMEDIATE_SIZE: 3072,
      NUM_LAYERS: 12,
      NUM_HEADS: 12,
      HIDDEN_ACT: 'quick_gelu',
      LAYER_NORM_EPS: 1e-5,
    },
    PIDINET: { INPLANE: 60, PDCS: 'carv4', DIL: 24, SA: true },
    FUSE_PRE: { OUT_DIM: 768 },
    FUSE_PRO: { NUM_HEADS: 12, MLP_RATIO: 4 },
    FUSE_FIN: { OUT_DIM: 256 },
    DECODER: { TRANSFORMER_DIM: 256, DEPTH: 2, MLP_DIM: 2048, NUM_HEADS: 8, MASK_IN_CHANS: 16 },
    TINYVIT: {
      EMBED_DIMS: [64, 128, 160, 320],
      DEPTHS: [2, 2, 6, 2],
      NUM_HEADS: [2, 4, 5, 10],
      WINDOW_SIZES: [7, 7, 14, 7],
      MLP_RATIO: 4,
      // mmfd's key: the PatchMerging strides. MobileSAM's width rule gives [2, 2, 1] for TinyViT-5M, the img/16
      // grid of MedSAM's 16-pixel patches; [2, 1, 1] gives img/8, to match a teacher with 8-pixel patches.
      MERGE_STRIDES: [2, 2, 1],
    },
  },
};

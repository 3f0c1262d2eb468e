// Config texts of networks shrunk to a few channels, shared by the tests that only need a model of the right kind.

/** The fused teacher (MedSAM + PiDiNet + PLIP) at 64 pixels and a few channels. */
export const TINY_TEACHER_YAML = `task: multimodel2s
img_size: 64
component: { fuse_depth: 1, fuse_token_num: 8 }
train: { rank: 2 }
arch:
  MED_SAM_VIT: { EMBED_DIM: 32, DEPTH: 2, NUM_HEADS: 2, GLOBAL_ATTN_INDEXES: [1], WINDOW_SIZE: 2, OUT_DIM: 16 }
  PLIP: { HIDDEN_SIZE: 16, INTERMEDIATE_SIZE: 32, NUM_LAYERS: 1, NUM_HEADS: 2 }
  PIDINET: { INPLANE: 8, DIL: 4 }
  FUSE_PRE: { OUT_DIM: 24 }
  FUSE_PRO: { NUM_HEADS: 2 }
  FUSE_FIN: { OUT_DIM: 32 }
  DECODER: { TRANSFORMER_DIM: 32, MLP_DIM: 64, NUM_HEADS: 2, MASK_IN_CHANS: 8 }
`;

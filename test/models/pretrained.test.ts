// The pretrained-weight loaders on files written in the real layouts (SAM / MedSAM .pth, Hugging Face CLIP
// folders with .bin or .safetensors, PiDiNet training checkpoints, MobileSAM, the MMFD student) with small
// random tensors: the adaptation rules, and the errors for missing files and mismatched shapes.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildMedsamEncoder, MEDSAM_VIT_B } from '../../src/models/medsam/build.js';
import type { ImageEncoderViTOptions } from '../../src/models/medsam/image_encoder.js';
import {
  adaptSamPromptDecoder,
  hfClipFiles,
  loadMedsamEncoder,
  loadMobileSamEncoder,
  loadPidinet,
  loadPlipVision,
  loadSamPromptDecoder,
  loadStudentCheckpoint,
  resizeClipPositions,
  resizePosEmbed,
  resizeRelPos,
  type TargetShapes,
  withPrefix,
} from '../../src/models/pretrained.js';
import * as torch from '../../src/torch/index.js';
import { readClipVisionConfig } from '../helpers/hf_clip_config.js';

type Tensor = torch.Tensor;

const dir = mkdtempSync(join(tmpdir(), 'mmfd-pretrained-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const shapes = (entries: [string, number[]][]): TargetShapes => new Map(entries.map(([k, s]) => [k, { shape: s }]));
const random = (entries: [string, number[]][], seed: number): Map<string, Tensor> => {
  const g = new torch.Generator(seed);
  return new Map(entries.map(([k, s]) => [k, torch.randn(s, { generator: g })]));
};
const identical = (a: Tensor | undefined, b: Tensor | undefined): boolean =>
  a !== undefined &&
  b !== undefined &&
  a.dtype === b.dtype &&
  torch.tidy(() => a.shape.join() === b.shape.join() && a.eq(b).all().item() === 1);
const maxAbsDiff = (a: Tensor, b: Tensor): number => torch.tidy(() => a.sub(b).abs().max().item());

/** Bilinear (align_corners false, no antialias) of one H x W x C channel-last grid, in plain JS. */
function bilinearRef(src: number[], H: number, W: number, C: number, h: number, w: number): number[] {
  const coord = (o: number, n: number, m: number): [number, number, number] => {
    const s = Math.max(((o + 0.5) * n) / m - 0.5, 0);
    const i0 = Math.min(Math.floor(s), n - 1);
    return [i0, Math.min(i0 + 1, n - 1), s - i0];
  };
  const out: number[] = [];
  for (let y = 0; y < h; y++) {
    const [y0, y1, ly] = coord(y, H, h);
    for (let x = 0; x < w; x++) {
      const [x0, x1, lx] = coord(x, W, w);
      for (let c = 0; c < C; c++) {
        const v = (yy: number, xx: number): number => src[(yy * W + xx) * C + c] as number;
        out.push((1 - ly) * ((1 - lx) * v(y0, x0) + lx * v(y0, x1)) + ly * ((1 - lx) * v(y1, x0) + lx * v(y1, x1)));
      }
    }
  }
  return out;
}

const close = (a: number[], b: number[], tol = 1e-6): boolean =>
  a.length === b.length && a.every((v, i) => Math.abs(v - (b[i] as number)) <= tol);

// ---- MedSAM / SAM ------------------------------------------------------------------------------

const MEDSAM_SMALL: ImageEncoderViTOptions = {
  ...MEDSAM_VIT_B,
  img_size: 128, // 8x8 tokens
  embed_dim: 8,
  num_heads: 2,
  out_chans: 8,
  window_size: 3,
};

/** A SAM-layout state dict: the encoder pretrained at `img` px, plus prompt encoder / mask decoder parts. */
function samStateDict(img: number, seed: number): Map<string, Tensor> {
  torch.manual_seed(seed);
  const src = buildMedsamEncoder({ ...MEDSAM_SMALL, img_size: img });
  const sd = new Map<string, Tensor>();
  torch.no_grad(() => {
    for (const [k, v] of src.state_dict()) sd.set(`image_encoder.${k}`, torch.randn(v.shape));
  });
  src.dispose();
  const rest = random(
    [
      ['prompt_encoder.pe_layer.positional_encoding_gaussian_matrix', [2, 8]],
      ['prompt_encoder.point_embeddings.0.weight', [1, 16]],
      ['prompt_encoder.mask_downscaling.0.weight', [4, 1, 2, 2]],
      ['prompt_encoder.mask_downscaling.0.bias', [4]],
      ['prompt_encoder.mask_downscaling.6.weight', [16, 4, 1, 1]],
      ['prompt_encoder.no_mask_embed.weight', [1, 16]],
      ['mask_decoder.transformer.layers.0.self_attn.q_proj.weight', [16, 16]],
      ['mask_decoder.transformer.norm_final_attn.weight', [16]],
      ['mask_decoder.iou_token.weight', [1, 16]],
      ['mask_decoder.mask_tokens.weight', [4, 16]],
      ['mask_decoder.output_upscaling.0.weight', [16, 4, 2, 2]],
      ...[0, 1, 2, 3].map((i): [string, number[]] => [`mask_decoder.output_hypernetworks_mlps.${i}.layers.0.weight`, [16, 16]]),
      ['mask_decoder.iou_prediction_head.layers.0.weight', [16, 16]],
    ],
    seed + 1,
  );
  for (const [k, v] of rest) sd.set(k, v);
  return sd;
}

/** The decoder side of an MMFD model with `classes` classes (names + shapes). */
function decoderTarget(classes: number): TargetShapes {
  return shapes([
    ['image_encoder.medsam.pos_embed', [1, 8, 8, 8]],
    ['prompt_encoder.pe_layer.positional_encoding_gaussian_matrix', [2, 8]],
    ['prompt_encoder.mask_downscaling.0.weight', [4, classes, 2, 2]],
    ['prompt_encoder.mask_downscaling.0.bias', [4]],
    ['prompt_encoder.mask_downscaling.6.weight', [16, 4, 1, 1]],
    ['prompt_encoder.init_masks.weight', [1, classes]],
    ['prompt_encoder.cls_embeddings.0.weight', [1, 16]],
    ['mask_decoder.transformer.layers.0.self_attn.q_proj.weight', [16, 16]],
    ['mask_decoder.transformer.norm_final_attn.weight', [16]],
    ['mask_decoder.output_upscaling.0.weight', [16, 4, 2, 2]],
    ...Array.from({ length: classes }, (_, i): [string, number[]] => [
      `mask_decoder.output_hypernetworks_mlps.${i}.layers.0.weight`,
      [16, 16],
    ]),
  ]);
}

test('MedSAM encoder from a SAM .pth: pos_embed and global rel-pos resized, the rest copied; loads strictly', () => {
  const sam = samStateDict(256, 1); // pretrained grid 16, model grid 8
  const file = join(dir, 'medsam_vit_small.pth');
  torch.io.save_pth(file, sam);
  const enc = buildMedsamEncoder(MEDSAM_SMALL);
  const logged: string[] = [];
  const sd = loadMedsamEncoder(file, enc.state_dict(), {
    log: (k, a, from, to) => a !== 'copied' && logged.push(`${k} ${a} [${from}]->[${to}]`),
  });
  assert.deepEqual([...sd.keys()], [...enc.state_dict().keys()]);
  assert.deepEqual(logged, [
    'pos_embed resized [1,16,16,8]->[1,8,8,8]',
    ...[2, 5, 8, 11].flatMap((i) => ['h', 'w'].map((a) => `blocks.${i}.attn.rel_pos_${a} resized [31,4]->[15,4]`)),
  ]);
  // halving with align_corners false averages 2x2 blocks
  const pos = sd.get('pos_embed') as Tensor;
  const want = torch.tidy(() => {
    const src = (sam.get('image_encoder.pos_embed') as Tensor).reshape(8, 2, 8, 2, 8);
    return src.mean([1, 3]).unsqueeze(0);
  });
  assert.ok(maxAbsDiff(pos, want) < 1e-6);
  const rel = (sam.get('image_encoder.blocks.5.attn.rel_pos_w') as Tensor).toArray();
  // (float32 source coordinates, as in ATen, put the result within ~1e-6 of the exact interpolation)
  assert.ok(close((sd.get('blocks.5.attn.rel_pos_w') as Tensor).toArray(), bilinearRef(rel, 31, 1, 4, 15, 1), 1e-5));
  assert.ok(identical(sd.get('blocks.4.attn.rel_pos_h'), sam.get('image_encoder.blocks.4.attn.rel_pos_h')), 'windowed tables are copied');
  assert.ok(identical(sd.get('neck.2.weight'), sam.get('image_encoder.neck.2.weight')));
  assert.ok(identical(sd.get('blocks.7.attn.qkv.weight'), sam.get('image_encoder.blocks.7.attn.qkv.weight')));
  enc.load_state_dict(sd);
  assert.ok(identical(enc.pos_embed, pos));

  // the same grid: everything copied as it is
  const same = samStateDict(128, 2);
  const file2 = join(dir, 'medsam_same_grid.pth');
  torch.io.save_pth(file2, same);
  const sd2 = loadMedsamEncoder(file2, enc.state_dict());
  for (const [k, v] of sd2) assert.ok(identical(v, same.get(`image_encoder.${k}`)), k);
  torch.dispose([sam, same, sd, sd2, want]);
  enc.dispose();
});

test('MedSAM loader errors: missing file, shape mismatch (file, key, both shapes), windowed tables, missing keys', () => {
  const enc = buildMedsamEncoder(MEDSAM_SMALL);
  const target = enc.state_dict();
  assert.throws(
    () => loadMedsamEncoder(join(dir, 'nope.pth'), target),
    (e: Error) => e.message.includes(join(dir, 'nope.pth')) && /not found/.test(e.message),
  );

  const sam = samStateDict(256, 3);
  const wrongQkv = new Map(sam);
  wrongQkv.set('image_encoder.blocks.3.attn.qkv.weight', torch.zeros([12, 8]));
  const f1 = join(dir, 'wrong_qkv.pth');
  torch.io.save_pth(f1, wrongQkv);
  assert.throws(
    () => loadMedsamEncoder(f1, target),
    (e: Error) =>
      e.message.includes(f1) &&
      e.message.includes("'image_encoder.blocks.3.attn.qkv.weight'") &&
      e.message.includes('[12, 8]') &&
      e.message.includes('[24, 8]'),
  );

  // a model whose global blocks are not the ones the reference's rule names: its windowed tables differ
  const other = buildMedsamEncoder({ ...MEDSAM_SMALL, global_attn_indexes: [1, 3, 6, 10] });
  const f2 = join(dir, 'sam_for_other.pth');
  torch.io.save_pth(f2, sam);
  assert.throws(() => loadMedsamEncoder(f2, other.state_dict()), /blocks\.1\.attn\.rel_pos_h'.*\[5, 4\].*\[15, 4\].*global blocks/);
  other.dispose();

  const partial = new Map([...sam].filter(([k]) => !k.includes('neck.3')));
  const f3 = join(dir, 'no_neck3.pth');
  torch.io.save_pth(f3, partial);
  assert.throws(
    () => loadMedsamEncoder(f3, target),
    (e: Error) => e.message.includes(f3) && /lacks 2 key\(s\).*'neck\.3\.weight', 'neck\.3\.bias'/.test(e.message),
  );
  torch.dispose([sam, wrongQkv]);
  enc.dispose();
});

test('SAM prompt encoder / mask decoder: selected parts copied, the first mask conv repeated to the class count', () => {
  const sam = samStateDict(128, 4);
  const file = join(dir, 'sam_decoder.pth');
  torch.io.save_pth(file, sam);
  const sd = loadSamPromptDecoder(file, decoderTarget(4));
  assert.deepEqual(
    [...sd.keys()],
    [
      'prompt_encoder.pe_layer.positional_encoding_gaussian_matrix',
      'prompt_encoder.mask_downscaling.0.weight',
      'prompt_encoder.mask_downscaling.0.bias',
      'prompt_encoder.mask_downscaling.6.weight',
      'mask_decoder.transformer.layers.0.self_attn.q_proj.weight',
      'mask_decoder.transformer.norm_final_attn.weight',
      'mask_decoder.output_upscaling.0.weight',
      ...[0, 1, 2, 3].map((i) => `mask_decoder.output_hypernetworks_mlps.${i}.layers.0.weight`),
    ],
  );
  const w = sd.get('prompt_encoder.mask_downscaling.0.weight') as Tensor;
  const src = sam.get('prompt_encoder.mask_downscaling.0.weight') as Tensor;
  assert.deepEqual(w.shape, [4, 4, 2, 2]);
  for (let c = 0; c < 4; c++) assert.ok(identical(w.narrow(1, c, 1).contiguous(), src), `channel ${c} is the SAM kernel, not rescaled`);
  assert.ok(
    identical(sd.get('mask_decoder.transformer.norm_final_attn.weight'), sam.get('mask_decoder.transformer.norm_final_attn.weight')),
  );

  // SAM has 4 hypernetwork MLPs: a 3-class model cannot take them
  assert.throws(
    () => adaptSamPromptDecoder(sam, decoderTarget(3), { source: 'x.pth' }),
    /x\.pth: .*lacks.*'mask_decoder\.output_hypernetworks_mlps\.3\.layers\.0\.weight'/,
  );
  // a 5-class model: the fifth MLP has no counterpart in the file
  assert.throws(
    () => adaptSamPromptDecoder(sam, decoderTarget(5)),
    /lacks 1 key\(s\) the model needs: 'mask_decoder\.output_hypernetworks_mlps\.4\.layers\.0\.weight'/,
  );
  torch.dispose([sam, sd]);
});

// ---- PLIP (Hugging Face CLIP) ------------------------------------------------------------------

const CLIP_VISION: [string, number[]][] = [
  ['embeddings.class_embedding', [8]],
  ['embeddings.patch_embedding.weight', [8, 3, 32, 32]],
  ['embeddings.position_embedding.weight', [10, 8]],
  ['pre_layrnorm.weight', [8]],
  ['encoder.layers.0.self_attn.q_proj.weight', [8, 8]],
  ['encoder.layers.0.mlp.fc1.weight', [16, 8]],
  ['post_layernorm.bias', [8]],
];

function clipStateDict(seed: number): Map<string, Tensor> {
  const sd = withPrefix(random(CLIP_VISION, seed), 'vision_model.');
  sd.set('vision_model.embeddings.position_ids', torch.arange(10).unsqueeze(0));
  for (const [k, v] of random(
    [
      ['text_model.embeddings.token_embedding.weight', [10, 8]],
      ['visual_projection.weight', [4, 8]],
      ['logit_scale', []],
    ],
    seed + 1,
  ))
    sd.set(k, v);
  return sd;
}

/** PLIP at 128 px with patch 32: 4x4 grid -> 17 positions. */
const plipTarget = (): TargetShapes =>
  shapes(CLIP_VISION.map(([k, s]): [string, number[]] => [k, k === 'embeddings.position_embedding.weight' ? [17, 8] : s]));

const CLIP_CONFIG = {
  architectures: ['CLIPModel'],
  model_type: 'clip',
  projection_dim: 512,
  text_config: { hidden_size: 8, model_type: 'clip_text_model' },
  vision_config: {
    hidden_size: 8,
    intermediate_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    patch_size: 32,
    image_size: 96,
    model_type: 'clip_vision_model',
  },
};

test('PLIP from a Hugging Face CLIP folder (.bin or .safetensors): vision keys, position grid resized, class row kept', () => {
  const clip = clipStateDict(5);
  const binDir = join(dir, 'plip-bin');
  const stDir = join(dir, 'plip-st');
  for (const d of [binDir, stDir]) {
    mkdirSync(d);
    writeFileSync(join(d, 'config.json'), JSON.stringify(CLIP_CONFIG));
  }
  torch.io.save_pth(join(binDir, 'pytorch_model.bin'), clip);
  torch.io.save_safetensors(join(stDir, 'model.safetensors'), clip);
  assert.equal(hfClipFiles(stDir).weights, join(stDir, 'model.safetensors'));
  const cfg = readClipVisionConfig(binDir);
  assert.deepEqual(cfg, {
    hidden_size: 8,
    intermediate_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_channels: 3,
    image_size: 96,
    patch_size: 32,
    hidden_act: 'quick_gelu',
    layer_norm_eps: 1e-5,
    attention_dropout: 0,
    projection_dim: 512,
  });

  const fromBin = loadPlipVision(binDir, plipTarget());
  const fromSt = loadPlipVision(stDir, plipTarget());
  assert.deepEqual(
    [...fromBin.keys()],
    CLIP_VISION.map(([k]) => k),
  );
  for (const [k, v] of fromBin) assert.ok(identical(v, fromSt.get(k)), `${k}: .bin and .safetensors agree`);
  const pos = fromBin.get('embeddings.position_embedding.weight') as Tensor;
  const src = clip.get('vision_model.embeddings.position_embedding.weight') as Tensor;
  assert.deepEqual(pos.shape, [17, 8]);
  assert.ok(identical(pos.narrow(0, 0, 1).contiguous(), src.narrow(0, 0, 1).contiguous()), 'class row first, unchanged');
  const grid = src.narrow(0, 1, 9).contiguous().toArray();
  assert.ok(close(pos.narrow(0, 1, 16).contiguous().toArray(), bilinearRef(grid, 3, 3, 8, 4, 4), 1e-5));
  assert.ok(identical(fromBin.get('encoder.layers.0.mlp.fc1.weight'), clip.get('vision_model.encoder.layers.0.mlp.fc1.weight')));
  // a weights file given directly
  const direct = loadPlipVision(join(binDir, 'pytorch_model.bin'), plipTarget());
  assert.ok(identical(direct.get('embeddings.position_embedding.weight'), pos));
  torch.dispose([clip, fromBin, fromSt, direct]);
});

test('PLIP loader errors: folder without weights or config, a mismatched shape', () => {
  const empty = join(dir, 'plip-empty');
  mkdirSync(empty);
  writeFileSync(join(empty, 'config.json'), JSON.stringify(CLIP_CONFIG));
  assert.throws(
    () => loadPlipVision(empty, plipTarget()),
    (e: Error) => e.message.includes(join(empty, 'model.safetensors')) && e.message.includes(join(empty, 'pytorch_model.bin')),
  );
  const noCfg = join(dir, 'plip-nocfg');
  mkdirSync(noCfg);
  assert.throws(
    () => readClipVisionConfig(noCfg),
    (e: Error) => e.message.includes(join(noCfg, 'config.json')),
  );
  assert.throws(() => loadPlipVision(join(dir, 'missing-folder'), plipTarget()), /missing-folder: .*not found/);

  const clip = clipStateDict(6);
  const file = join(dir, 'clip_bad.bin');
  torch.io.save_pth(file, clip);
  const bad = shapes(
    CLIP_VISION.map(([k, s]): [string, number[]] => [
      k,
      k === 'pre_layrnorm.weight' ? [16] : k.includes('position_embedding') ? [17, 8] : s,
    ]),
  );
  assert.throws(
    () => loadPlipVision(file, bad),
    (e: Error) => e.message.includes(file) && /'vision_model\.pre_layrnorm\.weight'.*\[8\].*\[16\]/.test(e.message),
  );
  torch.dispose(clip);
});

test('resizing helpers keep the same size exactly', () => {
  torch.tidy(() => {
    const p = torch.randn([1, 5, 5, 3]);
    assert.ok(identical(resizePosEmbed(p, [5, 5]), p));
    const r = torch.randn([9, 4]);
    assert.ok(identical(resizeRelPos(r, 9), r));
    const c = torch.randn([17, 4]);
    assert.ok(identical(resizeClipPositions(c, 17), c));
    assert.throws(() => resizeClipPositions(torch.randn([11, 4]), 17), /1 \+ a square number/);
  });
});

// ---- PiDiNet -----------------------------------------------------------------------------------

const PIDINET: [string, number[]][] = [
  ['init_block.weight', [4, 3, 3, 3]],
  ['block1_1.conv1.weight', [4, 1, 3, 3]],
  ['block2_1.shortcut.weight', [8, 4, 1, 1]],
  ['block2_1.shortcut.bias', [8]],
  ['attentions.0.conv1.weight', [4, 2, 1, 1]],
  ['dilations.0.conv2_1.weight', [2, 2, 3, 3]],
];

test("PiDiNet from {'epoch', 'state_dict'}: 'module.' stripped, classifier and conv_reduces dropped", () => {
  const body = random(PIDINET, 7);
  const heads = random(
    [
      ['conv_reduces.0.conv.weight', [1, 2, 1, 1]],
      ['classifier.weight', [1, 4, 1, 1]],
      ['classifier.bias', [1]],
    ],
    8,
  );
  const file = join(dir, 'table5_pidinet.pth');
  torch.io.save_pth(file, { epoch: 14, state_dict: withPrefix(new Map([...body, ...heads]), 'module.') });
  const sd = loadPidinet(file, shapes(PIDINET));
  assert.deepEqual(
    [...sd.keys()],
    PIDINET.map(([k]) => k),
  );
  for (const [k, v] of sd) assert.ok(identical(v, body.get(k)), k);

  assert.throws(() => loadPidinet(join(dir, 'no_pidinet.pth'), shapes(PIDINET)), /no_pidinet\.pth: PiDiNet checkpoint not found/);
  const more = shapes([...PIDINET, ['block4_4.conv2.weight', [16, 16, 1, 1]]]);
  assert.throws(
    () => loadPidinet(file, more),
    (e: Error) => e.message.includes(file) && /lacks 1 key\(s\).*'block4_4\.conv2\.weight'/.test(e.message),
  );
  const wider = shapes(PIDINET.map(([k, s]): [string, number[]] => [k, k === 'init_block.weight' ? [60, 3, 3, 3] : s]));
  assert.throws(
    () => loadPidinet(file, wider),
    /'module\.init_block\.weight': the checkpoint has \[4, 3, 3, 3\], the model expects \[60, 3, 3, 3\]/,
  );
  torch.dispose([body, heads, sd]);
});

// ---- student: MobileSAM and MMFD checkpoints ---------------------------------------------------

const TINYVIT: [string, number[]][] = [
  ['patch_embed.seq.0.c.weight', [4, 3, 3, 3]],
  ['patch_embed.seq.0.bn.running_mean', [4]],
  ['layers.1.blocks.0.attn.attention_biases', [2, 49]],
  ['neck.0.weight', [8, 16, 1, 1]],
  ['norm_head.weight', [16]],
  ['head.weight', [4, 16]],
  ['head.bias', [4]],
];

test('MobileSAM mobile_sam.pt: image_encoder.* into TinyViT; its 1000-class head is left out', () => {
  const mobile = withPrefix(
    random(
      TINYVIT.map(([k, s]): [string, number[]] => [k, k.startsWith('head.') ? [1000, ...s.slice(1)] : s]),
      9,
    ),
    'image_encoder.',
  );
  for (const [k, v] of random(
    [
      ['prompt_encoder.mask_downscaling.0.weight', [4, 1, 2, 2]],
      ['mask_decoder.iou_token.weight', [1, 16]],
    ],
    10,
  ))
    mobile.set(k, v);
  const file = join(dir, 'mobile_sam.pt');
  torch.io.save_pth(file, mobile);
  const sd = loadMobileSamEncoder(file, shapes(TINYVIT));
  assert.deepEqual(
    [...sd.keys()],
    [
      'patch_embed.seq.0.c.weight',
      'patch_embed.seq.0.bn.running_mean',
      'layers.1.blocks.0.attn.attention_biases',
      'neck.0.weight',
      'norm_head.weight',
    ],
  );
  for (const [k, v] of sd) assert.ok(identical(v, mobile.get(`image_encoder.${k}`)), k);
  const bad = shapes(TINYVIT.map(([k, s]): [string, number[]] => [k, k.includes('attention_biases') ? [2, 196] : s]));
  assert.throws(
    () => loadMobileSamEncoder(file, bad),
    /'image_encoder\.layers\.1\.blocks\.0\.attn\.attention_biases'.*\[2, 49\].*\[2, 196\]/,
  );
  torch.dispose([mobile, sd]);
});

const STUDENT: [string, number[]][] = [
  ['image_encoder.patch_embed.seq.0.c.weight', [4, 3, 3, 3]],
  ['image_encoder.patch_embed.seq.0.bn.num_batches_tracked', []],
  ['prompt_encoder.init_masks.weight', [1, 4]],
  ['mask_decoder.output_hypernetworks_mlps.0.layers.0.weight', [16, 16]],
];

test("MMFD student checkpoint: a raw state dict, {'net': ...} or 'module.'-prefixed keys; strict", () => {
  const floats = random(
    STUDENT.filter(([k]) => !k.endsWith('num_batches_tracked')),
    11,
  );
  const sd = new Map(STUDENT.map(([k]) => [k, floats.get(k) ?? torch.tensor(7, { dtype: 'int64' })]));
  const raw = join(dir, 'student_raw.pth');
  const net = join(dir, 'student_net.pth');
  const dp = join(dir, 'student_dp.pth');
  torch.io.save_pth(raw, sd);
  torch.io.save_pth(net, { net: sd, optim: {}, epoch: 3 });
  torch.io.save_pth(dp, withPrefix(sd, 'module.'));
  for (const f of [raw, net, dp]) {
    const got = loadStudentCheckpoint(f, shapes(STUDENT));
    assert.deepEqual(
      [...got.keys()],
      STUDENT.map(([k]) => k),
      f,
    );
    for (const [k, v] of got) assert.ok(identical(v, sd.get(k)), `${f}: ${k}`);
    torch.dispose(got);
  }
  assert.throws(() => loadStudentCheckpoint(join(dir, 'ckpt.pth'), shapes(STUDENT)), /ckpt\.pth: student checkpoint not found/);
  const fewer = shapes(STUDENT.slice(1));
  assert.throws(() => loadStudentCheckpoint(raw, fewer), /has 1 key\(s\) the model lacks: 'image_encoder\.patch_embed\.seq\.0\.c\.weight'/);
  torch.dispose(sd);
});

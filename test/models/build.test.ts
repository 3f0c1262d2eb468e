// Config -> model, and the teacher's pretrained loading through files in the real layouts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseConfig } from '../../src/config/index.js';
import { buildStudent, buildTeacher, teacherOptions } from '../../src/models/build.js';
import { MultiModelSeg } from '../../src/models/teacher.js';
import * as torch from '../../src/torch/index.js';

type Tensor = torch.Tensor;
const dir = mkdtempSync(join(tmpdir(), 'mmfd-build-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TINY = `
img_size: 64
sam_ckpt: ${join(dir, 'medsam.pth')}
component: {fuse_depth: 1, fuse_token_num: 8}
train: {rank: 2}
pretrained: {plip_dir: ${join(dir, 'plip')}, pidinet: ${join(dir, 'pidinet.pth')}}
arch:
  MED_SAM_VIT: {EMBED_DIM: 32, DEPTH: 3, NUM_HEADS: 2, GLOBAL_ATTN_INDEXES: [2], WINDOW_SIZE: 2, OUT_DIM: 16}
  PLIP: {HIDDEN_SIZE: 16, INTERMEDIATE_SIZE: 32, NUM_LAYERS: 1, NUM_HEADS: 2}
  PIDINET: {INPLANE: 8, DIL: 4}
  FUSE_PRE: {OUT_DIM: 24}
  FUSE_PRO: {NUM_HEADS: 2}
  FUSE_FIN: {OUT_DIM: 32}
  DECODER: {TRANSFORMER_DIM: 32, MLP_DIM: 64, NUM_HEADS: 2, MASK_IN_CHANS: 8}
  TINYVIT: {EMBED_DIMS: [16, 32, 48, 64], DEPTHS: [1, 1, 1, 1], NUM_HEADS: [1, 2, 3, 4], WINDOW_SIZES: [2, 2, 2, 2]}
`;

const prefixed = (sd: Map<string, Tensor>, prefix: string, filter: (k: string) => boolean = () => true): [string, Tensor][] =>
  [...sd].filter(([k]) => filter(k)).map(([k, v]) => [prefix + k, v]);

test('the teacher loads pretrained MedSAM, PiDiNet, PLIP and SAM decoder files by the reference rules, then freezes the encoders', () => {
  const cfg = parseConfig(TINY, 'tiny.yaml');
  torch.manual_seed(1);
  const source = new MultiModelSeg(teacherOptions(cfg)); // random weights, the shapes the files will hold
  const enc = source.image_encoder;
  const sd = source.state_dict();
  // SAM layout: image_encoder.*, prompt_encoder.* with a 1-channel first mask conv, mask_decoder.*.
  const firstConv = sd.get('prompt_encoder.mask_downscaling.0.weight')!.narrow(1, 0, 1).contiguous();
  const sam = new Map<string, Tensor>([
    ...prefixed(enc.medsam!.state_dict(), 'image_encoder.'),
    ...prefixed(sd, '', (k) => k.startsWith('prompt_encoder.') && (k.includes('pe_layer') || k.includes('mask_downscaling'))),
    ...prefixed(sd, '', (k) => k.startsWith('mask_decoder.')),
  ]);
  sam.set('prompt_encoder.mask_downscaling.0.weight', firstConv);
  torch.io.save_pth(join(dir, 'medsam.pth'), sam);
  torch.io.save_pth(
    join(dir, 'pidinet.pth'),
    new Map<string, unknown>([
      ['epoch', 7],
      ['state_dict', new Map(prefixed(enc.pidinet!.state_dict(), 'module.'))],
    ]) as Map<string, never>,
  );
  mkdirSync(join(dir, 'plip'), { recursive: true });
  torch.io.save_safetensors(join(dir, 'plip', 'model.safetensors'), new Map(prefixed(enc.plip!.state_dict(), 'vision_model.')));
  writeFileSync(
    join(dir, 'plip', 'config.json'),
    JSON.stringify({
      vision_config: {
        hidden_size: 16,
        intermediate_size: 32,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        patch_size: 32,
        hidden_act: 'quick_gelu',
      },
    }),
  );

  torch.manual_seed(2);
  const teacher = buildTeacher(cfg, { pretrained: true });
  const loaded = teacher.sam.state_dict();
  const same = (k: string) => torch.tidy(() => loaded.get(k)!.equal(sd.get(k)!));
  for (const k of sd.keys()) {
    if (k.startsWith('image_encoder.medsam.') || k.startsWith('image_encoder.pidinet.') || k.startsWith('image_encoder.plip.')) {
      const key = k.replace(/attn\.qkv\.(weight|bias)$/, 'attn.qkv.qkv.$1');
      assert.ok(
        torch.tidy(() => teacher.sam.state_dict().get(key)!.equal(sd.get(k)!)),
        k,
      );
    } else if (k.startsWith('mask_decoder.') || k.includes('pe_layer')) {
      assert.ok(same(k), k);
    }
  }
  // The first mask conv is repeated (not divided) across the classes.
  const w = loaded.get('prompt_encoder.mask_downscaling.0.weight')!;
  for (let c = 0; c < 4; c++)
    assert.ok(
      torch.tidy(() => w.narrow(1, c, 1).equal(firstConv)),
      `class ${c}`,
    );
  // Fusion and the class tokens are not in any file: they keep their fresh values.
  assert.ok(!same('prompt_encoder.cls_embeddings.0.weight'));
  // Encoders frozen, LoRA + fusion + decoder trainable.
  const trainable = teacher.trainable_parameters().map(([k]) => k);
  assert.ok(trainable.some((k) => k.includes('linear_a_q')) && trainable.some((k) => k.includes('fuse_pro')));
  assert.ok(!trainable.some((k) => /image_encoder\.(pidinet|plip)\./.test(k) || k.endsWith('attn.qkv.qkv.weight')));
});

test('a missing pretrained file is an error naming it', () => {
  const cfg = parseConfig(TINY.replace(join(dir, 'pidinet.pth'), join(dir, 'absent.pth')), 'tiny.yaml');
  assert.throws(() => buildTeacher(cfg, { pretrained: true }), /absent\.pth/);
});

test('the student builds from the config sizes and runs', () => {
  const student = buildStudent(parseConfig(TINY, 'tiny.yaml')).eval();
  const out = torch.no_grad(() => student.forward(torch.rand([1, 3, 64, 64])));
  assert.deepEqual(out.masks.shape, [1, 4, 64, 64]);
});

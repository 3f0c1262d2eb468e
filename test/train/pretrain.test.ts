// The pretraining stage (issue 18): 2 iterations of the tiny teacher on a built-in dataset, then its encoders
// written as MedSAM .pth / PLIP Hugging Face folder / PiDiNet .pth; the few-shot teacher built with
// load_pretrained reads them through the real loaders (sam_ckpt, pretrained.*) and holds the pretrained weights.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { deriveConfigText } from '../../src/config/derive.js';
import { parseConfig } from '../../src/config/index.js';
import { buildTeacher } from '../../src/models/build.js';
import * as torch from '../../src/torch/index.js';
import { checkpointStem, LAST } from '../../src/train/checkpoints.js';
import { pretrainEncoders, pretrainedFilesIn, pretrainedPaths, pretrainOverrides } from '../../src/train/pretrain.js';
import { runDir } from '../../src/train/run_config.js';
import { linkBuiltinDatasets, REPO, workspace } from './tiny_run.js';

// The pretraining dataset's name mapped to the small synth_tiny folder: drawing 2,000 slide crops would take a minute.
const DATA = { synth_tiny: 'synth-tiny', synth_tiny_test: 'synth-tiny-test' };
const ws = workspace({ ...DATA, synth_slide_crops: 'synth-tiny' }, 'mmfd-pretrain-');
after(() => rmSync(ws.dir, { recursive: true, force: true }));
const files = pretrainedFilesIn(join(ws.dir, 'pretrained'));
const config = (values: Record<string, unknown>) =>
  parseConfig(deriveConfigText(join(REPO, 'configs', 'tiny-multimodel2s.yaml'), values), 'tiny-multimodel2s.yaml');
const pretrainCfg = config({
  ...pretrainOverrides(files),
  out_dir: join(ws.dir, 'exp'),
  'train.max_iterations': 2,
  'train.warmup_period': 2,
});

before(async () => {
  await linkBuiltinDatasets(ws, DATA);
  process.env.MMFD_DATASETS = ws.env.MMFD_DATASETS;
});

test('pretraining writes MedSAM, PiDiNet and PLIP files the teacher loads through the real loaders; a rerun finds them', async () => {
  const first = await pretrainEncoders(pretrainCfg);
  assert.equal(first.training?.iteration, 2);
  for (const f of [files.medsam, files.pidinet, join(files.plipDir, 'model.safetensors')]) assert.ok(existsSync(f), f);
  const clip = JSON.parse(readFileSync(join(files.plipDir, 'config.json'), 'utf8'));
  assert.equal(clip.vision_config.hidden_size, pretrainCfg.arch.PLIP.HIDDEN_SIZE);
  assert.equal(clip.vision_config.num_hidden_layers, pretrainCfg.arch.PLIP.NUM_LAYERS);

  // The pretraining run's trained weights, as its checkpoint holds them.
  const trained = torch.io.load_checkpoint(checkpointStem(runDir(pretrainCfg, 100), LAST)).state_dict;
  const fewshot = config({ ...pretrainedPaths(files), 'train.load_pretrained': true, 'train.freeze_encoders': true });
  torch.manual_seed(99); // another seed than the pretraining's: what matches comes from the files
  const teacher = buildTeacher(fewshot, { pretrained: true });
  try {
    const loaded = teacher.sam.state_dict();
    let compared = 0;
    for (const [k, v] of trained) {
      if (!/^sam\.image_encoder\.(medsam|pidinet|plip)\./.test(k)) continue;
      // LoRA wraps MedSAM's qkv in the few-shot teacher.
      const key = k.slice('sam.'.length).replace(/attn\.qkv\.(weight|bias)$/, 'attn.qkv.qkv.$1');
      const mine = loaded.get(key);
      assert.ok(mine, key);
      assert.ok(
        torch.tidy(() => mine.equal(v)),
        key,
      );
      compared++;
    }
    assert.ok(compared > 50, `${compared} encoder tensors compared`);
    // The decoder parts SAM provides come from the MedSAM file too (the first mask conv as SAM's one-mask mean, repeated).
    const conv = 'prompt_encoder.mask_downscaling.0.weight';
    const expected = torch.tidy(() =>
      (trained.get(`sam.${conv}`) as torch.Tensor).mean([1], true).expand_as(loaded.get(conv) as torch.Tensor),
    );
    assert.ok(torch.allclose(loaded.get(conv) as torch.Tensor, expected), conv);
    const hyper = [...trained.keys()].find((k) => k.startsWith('sam.mask_decoder.output_hypernetworks_mlps.')) as string;
    assert.ok(
      torch.tidy(() => (loaded.get(hyper.slice('sam.'.length)) as torch.Tensor).equal(trained.get(hyper) as torch.Tensor)),
      hyper,
    );
    expected.dispose();
  } finally {
    teacher.dispose();
    torch.dispose([...trained.values()]);
  }

  const again = await pretrainEncoders(pretrainCfg);
  assert.equal(again.training, undefined, 'the files exist: nothing is trained again');
});

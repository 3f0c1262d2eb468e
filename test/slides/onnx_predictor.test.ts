// The ONNX Runtime engine for segmentation. A tiny student is trained briefly on synthetic patches and their
// known masks, so that its outputs are those of a trained network (confident on most pixels, a real boundary);
// a small synthetic slide is then segmented on libtorch, on ONNX Runtime fp32 and int8.
// fp32 gives libtorch's probabilities (1e-4) and label map; int8 agrees with fp32 at per-class Dice >= 0.98 with
// tissue fractions within 0.005. Without onnxruntime-node the default engine is libtorch and --engine onnx is a
// clear error.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { FINAL_CLASSES } from '../../src/data/classes.js';
import { buildStudent } from '../../src/models/build.js';
import { compareLabels } from '../../src/slides/export/compare_labels.js';
import { openPredictor, resolveEngine } from '../../src/slides/pipeline/onnx_predictor.js';
import type { Predictor } from '../../src/slides/pipeline/predictor.js';
import { segmentSlide, TISSUE_BIT } from '../../src/slides/pipeline/segment.js';
import { synthesizePatch } from '../../src/synth/patch/placenta.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import * as torch from '../../src/torch/index.js';
import { priorLogits } from '../../src/train/class_prior.js';
import { repoRoot } from '../helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-onnx-predictor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The slide student's architecture (configs/tiny-mobilesam-slides.yaml), trained 120 steps on 8 synthetic patches. */
function trainedStudent(): string {
  const cfg = loadConfig(join(repoRoot(), 'configs', 'tiny-mobilesam-slides.yaml'));
  torch.manual_seed(3);
  const net = buildStudent(cfg);
  const patches = Array.from({ length: 8 }, (_, i) => synthesizePatch(100 + i, 128, 1.0));
  const images = torch.tidy(() =>
    torch.stack(
      patches.map((p) => torch.fromTypedArray(p.image, [128, 128, 3], { dtype: 'uint8' }).permute(2, 0, 1).float().div(255)),
      0,
    ),
  );
  // each final class: the union of its raw classes' masks
  const targets = torch.tidy(() =>
    torch.stack(
      patches.map((p) =>
        torch.stack(
          FINAL_CLASSES.map((f) => {
            const m = new Float32Array(128 * 128);
            for (const name of f.from) {
              const raw = p.classes[name as keyof typeof p.classes];
              for (let j = 0; j < m.length; j++) m[j] = Math.max(m[j]!, raw[j]!);
            }
            return torch.fromTypedArray(m, [128, 128]);
          }),
          0,
        ),
      ),
      0,
    ),
  );
  // the decoder's initial logits at the class priors, as training does (src/train/class_prior.ts)
  const priors = torch.tidy(() => priorLogits(targets.mean([0, 2, 3]).toArray()));
  torch.no_grad(() => net.prompt_encoder.init_masks.weight.copy_(torch.tensor([priors])));
  const opt = new torch.optim.AdamW(net.parameters(), { lr: 3e-3 });
  net.train();
  for (let step = 0; step < 120; step++) {
    torch.tidy(() => {
      const idx = torch.tensor([(step * 4) % 8, (step * 4 + 1) % 8, (step * 4 + 2) % 8, (step * 4 + 3) % 8]).long();
      const logits = net.forward(images.index_select(0, idx), 'train').masks;
      const loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets.index_select(0, idx));
      opt.zero_grad();
      loss.backward();
      opt.step();
    });
  }
  net.eval();
  const stem = join(dir, 'student');
  torch.io.save_checkpoint(stem, { state_dict: net.state_dict(), meta: { role: 'student', input_mpp: 1.0, config: cfg } });
  torch.dispose([images, targets]);
  net.dispose();
  return `${stem}.json`;
}

async function segment(slide: string, p: Predictor, name: string): Promise<string> {
  const out = join(dir, `${name}.tif`);
  try {
    await segmentSlide(slide, p, { out, batchSize: 4 });
  } finally {
    p.dispose();
  }
  return out;
}

test('ONNX Runtime fp32 equals libtorch; int8 agrees with fp32 on a slide; without onnxruntime-node, libtorch', async (t) => {
  const checkpoint = trainedStudent();
  const slide = (await writeSyntheticSlide({ out: join(dir, 'slide.tif'), width: 1000, height: 1000, seed: 5, mpp: 0.5 })).slide;

  const torchP = await openPredictor({ model: checkpoint, engine: 'torch' });
  const fp32 = await openPredictor({ model: checkpoint });
  const int8 = await openPredictor({ model: checkpoint, precision: 'int8' });
  assert.ok('predict' in torchP && 'predictArray' in fp32 && 'predictArray' in int8, 'the CPU default is ONNX Runtime');
  assert.match(fp32.id, /^student:student\.json \(onnx fp32\)$/);
  assert.match(int8.id, /\(onnx int8\)$/);

  // the probabilities of 3 tiles
  const batch = torch.rand([3, 3, 128, 128], { generator: new torch.Generator(9) });
  const ref = torchP.predict(batch);
  const got = torch.fromTypedArray(await fp32.predictArray(batch.toTypedArray() as Float32Array, 3), [3, 4, 128, 128]);
  const diff = torch.tidy(() => got.sub(ref).abs().max().item());
  assert.ok(diff <= 1e-4, `ONNX Runtime fp32 vs libtorch: ${diff}`);
  torch.dispose([batch, ref, got]);

  // int8 quantises each activation tensor with one scale: run one tile at a time, a tile's probabilities are its
  // own, bit for bit, whatever it is batched with (here a blank tile and a noisy one beside a real patch).
  const patch = synthesizePatch(7, 128, 1.0);
  const tiles = torch.tidy(() =>
    torch.stack([
      torch.fromTypedArray(patch.image, [128, 128, 3], { dtype: 'uint8' }).permute(2, 0, 1).float().div(255),
      torch.ones([3, 128, 128]),
      torch
        .rand([3, 128, 128], { generator: new torch.Generator(4) })
        .mul(4)
        .sub(1.5),
    ]),
  );
  const tileData = tiles.toTypedArray() as Float32Array;
  const together = await int8.predictArray(tileData, 3);
  for (let k = 0; k < 3; k++) {
    const alone: Float32Array = await int8.predictArray(tileData.subarray(k * 3 * 128 * 128, (k + 1) * 3 * 128 * 128), 1);
    assert.deepEqual(together.subarray(k * alone.length, (k + 1) * alone.length), alone, `tile ${k}: its own probabilities`);
  }
  tiles.dispose();

  const labels = {
    torch: await segment(slide, torchP, 'torch'),
    fp32: await segment(slide, fp32, 'fp32'),
    int8: await segment(slide, int8, 'int8'),
  };
  const agreement = (a: string, b: string) => compareLabels(a, b, { classBits: 4, tissueBit: TISSUE_BIT, downsample: 1 });
  const same = agreement(labels.fp32, labels.torch);
  const q = agreement(labels.int8, labels.fp32);
  // the trained net really separates villus from the rest of the tissue
  const villus = same.classes[0]!.trueFraction;
  assert.ok(villus > 0.1 && villus < 0.9, `villus fraction ${villus}`);
  for (const [i, c] of same.classes.entries()) assert.ok(c.dice >= 0.999, `class ${i}: fp32 vs libtorch Dice ${c.dice}`);
  t.diagnostic(
    `int8 vs fp32: ${q.classes.map((c) => `Dice ${c.dice.toFixed(4)} fraction ${c.predictedFraction.toFixed(4)}/${c.trueFraction.toFixed(4)}`).join('; ')}`,
  );
  for (const [i, c] of q.classes.entries()) {
    assert.ok(c.dice >= 0.98, `class ${i}: int8 vs fp32 Dice ${c.dice}`);
    assert.ok(
      Math.abs(c.predictedFraction - c.trueFraction) <= 0.005,
      `class ${i}: tissue fraction ${c.predictedFraction} vs ${c.trueFraction}`,
    );
  }

  // on CUDA libtorch stays the engine; ONNX Runtime is not asked for there
  assert.equal((await resolveEngine({ device: 'cuda' }, 'student')).engine, 'torch');
  await assert.rejects(
    resolveEngine({ device: 'cuda', precision: 'int8' }, 'student'),
    /--precision int8: ONNX Runtime runs on the CPU here/,
  );
  await assert.rejects(resolveEngine({ engine: 'torch', precision: 'int8' }, 'student'), /int8 runs on ONNX Runtime only/);
  assert.equal((await resolveEngine({}, 'teacher')).engine, 'torch');

  // onnxruntime-node absent (simulated): the default is libtorch, asking for ONNX Runtime is a clear error
  const script = `
    const { openPredictor } = await import(${JSON.stringify(join(repoRoot(), 'dist', 'src', 'slides', 'pipeline', 'onnx_predictor.js'))});
    const p = await openPredictor({ model: ${JSON.stringify(checkpoint)} });
    console.log('predict' in p ? 'torch' : 'onnx'); p.dispose();
    await openPredictor({ model: ${JSON.stringify(checkpoint)}, engine: 'onnx' }).catch((e) => console.log(e.message));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, MMFD_NO_ONNXRUNTIME: '1' },
  });
  assert.equal(r.status, 0, r.stderr);
  const [engine, error] = r.stdout.trim().split('\n');
  assert.equal(engine, 'torch');
  assert.equal(error, '--engine onnx: onnxruntime-node is not available (MMFD_NO_ONNXRUNTIME=1); use --engine torch');
});

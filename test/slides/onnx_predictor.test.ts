// The ONNX Runtime engine for segmentation. A tiny student is trained (briefly, to a known colour rule: villus
// where a pixel's green is below 0.8, capillary where red beats green by 0.15) so that its outputs are confident
// like a trained network's; a small synthetic slide is then segmented on libtorch, on ONNX Runtime fp32 and int8.
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
import { synthesizePatch } from '../../src/data/synth/placenta.js';
import { writeSyntheticSlide } from '../../src/data/synth_slide.js';
import { buildStudent } from '../../src/models/build.js';
import { compareLabels } from '../../src/slides/compare_labels.js';
import { openPredictor } from '../../src/slides/onnx_predictor.js';
import type { Predictor } from '../../src/slides/predictor.js';
import { segmentSlide, TISSUE_BIT } from '../../src/slides/segment.js';
import * as torch from '../../src/torch/index.js';
import { repoRoot } from '../helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-onnx-predictor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The colour rule's targets for RGB [B, 3, H, W] in [0, 1]: [B, 4, H, W]. */
function colourTargets(x: torch.Tensor): torch.Tensor {
  return torch.tidy(() => {
    const [r, g] = [0, 1].map((c) => x.narrow(1, c, 1)) as [torch.Tensor, torch.Tensor];
    const zero = g.mul(0);
    return torch.cat([g.lt(0.8).float(), zero, r.sub(g).gt(0.15).float(), zero], 1);
  });
}

/** The slide student's architecture (configs/tiny-mobilesam-slides.yaml), trained 80 steps on the colour rule. */
function trainedStudent(): string {
  const cfg = loadConfig(join(repoRoot(), 'configs', 'tiny-mobilesam-slides.yaml'));
  torch.manual_seed(3);
  const net = buildStudent(cfg);
  const images = torch.tidy(() =>
    torch.stack(
      Array.from({ length: 8 }, (_, i) => {
        const p = synthesizePatch(100 + i, 128, 1.0);
        return torch.fromTypedArray(p.image, [128, 128, 3]).permute(2, 0, 1).float().div(255);
      }),
      0,
    ),
  );
  const targets = colourTargets(images);
  const opt = new torch.optim.AdamW(net.parameters(), { lr: 3e-3 });
  net.train();
  for (let step = 0; step < 80; step++) {
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

test('ONNX Runtime fp32 equals libtorch; int8 agrees with fp32 on a slide; without onnxruntime-node, libtorch', async () => {
  const checkpoint = trainedStudent();
  const slide = (await writeSyntheticSlide({ out: join(dir, 'slide.tif'), width: 1400, height: 1400, seed: 5, mpp: 0.5 })).slide;

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

  const labels = {
    torch: await segment(slide, torchP, 'torch'),
    fp32: await segment(slide, fp32, 'fp32'),
    int8: await segment(slide, int8, 'int8'),
  };
  const agreement = (a: string, b: string) => compareLabels(a, b, { classBits: 4, tissueBit: TISSUE_BIT, downsample: 1 });
  const same = agreement(labels.fp32, labels.torch);
  const q = agreement(labels.int8, labels.fp32);
  // the colour rule gives villus and capillary; the trained net really finds them
  assert.ok(same.classes[0]!.trueFraction > 0.1 && same.classes[2]!.trueFraction > 0.005, JSON.stringify(same.classes));
  for (const [i, c] of same.classes.entries()) assert.ok(c.dice >= 0.999, `class ${i}: fp32 vs libtorch Dice ${c.dice}`);
  for (const [i, c] of q.classes.entries()) {
    assert.ok(c.dice >= 0.98, `class ${i}: int8 vs fp32 Dice ${c.dice}`);
    assert.ok(
      Math.abs(c.predictedFraction - c.trueFraction) <= 0.005,
      `class ${i}: tissue fraction ${c.predictedFraction} vs ${c.trueFraction}`,
    );
  }

  // onnxruntime-node absent (simulated): the default is libtorch, asking for ONNX Runtime is a clear error
  const script = `
    const { openPredictor } = await import(${JSON.stringify(join(repoRoot(), 'dist', 'src', 'slides', 'onnx_predictor.js'))});
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

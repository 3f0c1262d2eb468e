// The loop in process, around a one-layer segmenter: native memory comes back to where it was (no
// tensor per iteration survives: batches, graphs, gradients and the optimizer state are released),
// the loss goes down, and the files of a run are there.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Config, parseConfig } from '../../src/config/index.js';
import { loaderFromConfig } from '../../src/data/loader.js';
import { writeSyntheticDataset } from '../../src/synth/patch/dataset.js';
import * as torch from '../../src/torch/index.js';
import { type TrainingResult, train } from '../../src/train/loop.js';
import { segmentationLoss } from '../../src/train/losses.js';
import { readLog } from '../../src/train/run_log.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-loop-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const catalog = join(dir, 'datasets.yaml');

before(async () => {
  await writeSyntheticDataset(join(dir, 'synth'), { count: 8, seed: 3, size: 32 });
  writeFileSync(catalog, 'loop_synth: {root: synth, split: splits/fewer/fewer_test30}\n');
});

const ITERATIONS = 24;
const cfg = parseConfig(`
img_size: 32
save_iter: 8
eval_iter: 12
train: {dataset: loop_synth, batch_size: 2, num_workers: 1, max_iterations: ${ITERATIONS}, warmup_period: 2, base_lr: 0.05, augment: {Flip: {h: true, v: true}}}
val: {dataset: loop_synth}
test: {dataset: loop_synth}
`);

const weights = { dice: [0.5, 0, 0, 1.5], bce: [0.5, 2, 2, 0], focal: [0, 0, 0, 0] };

/** Trains a one-layer segmenter (seeded) as `c` says into `runDir`; the loaders and the model are released after. */
async function trainConv(c: Config, runDir: string): Promise<TrainingResult> {
  torch.manual_seed(0);
  const model = new torch.nn.Conv2d(3, 4, 3, { padding: 1 });
  const loaders = { train: loaderFromConfig(c, 'train', 100, { catalog }), val: loaderFromConfig(c, 'val', 100, { catalog }) };
  try {
    return await train({
      cfg: c,
      dir: runDir,
      label: 'loop test',
      model,
      trainable: model.parameters(),
      omitted: new Set(),
      ...loaders,
      device: 'cpu',
      loss: (b) => {
        const l = segmentationLoss(model.forward(b.image), b.sem_mask, weights);
        return { total: l.total, terms: { dice: l.dice, bce: l.bce } };
      },
      predict: (b) => [model.forward(b.image)],
    });
  } finally {
    await Promise.all([loaders.train.close(), loaders.val.close()]);
    model.dispose();
  }
}

test('a run releases every tensor it made and the loss goes down', async () => {
  const baseline = torch.memory_stats();
  const runDir = join(dir, 'run');
  const result = await trainConv(cfg, runDir);
  assert.equal(result.iteration, ITERATIONS);
  assert.equal(result.resumed_from, 0);
  assert.deepEqual(torch.memory_stats(), baseline);

  const log = readLog(join(runDir, 'train_log.jsonl'));
  const losses = log.flatMap((r) => (r.kind === 'train' ? [r.losses.total as number] : []));
  assert.equal(losses.length, ITERATIONS);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(losses.slice(-6)) < mean(losses.slice(0, 6)), `loss ${mean(losses.slice(0, 6))} -> ${mean(losses.slice(-6))}`);
  assert.deepEqual(
    log.filter((r) => r.kind === 'val').map((r) => r.iteration),
    [12, 24],
  );
  for (const f of ['last.json', 'last.safetensors', 'best.json', 'training_curves.png']) assert.ok(existsSync(join(runDir, f)), f);
});

test('earlystop.patience: training stops after that many validations without a better mIoU, and stays stopped when rerun', async () => {
  // An lr far below float32 resolution leaves the weights, hence the validation mIoU, unchanged: the first
  // validation is the best, and the second (patience 1) stops the run.
  const stopping = parseConfig(`
img_size: 32
save_iter: 100
eval_iter: 4
earlystop: {patience: 1}
train: {dataset: loop_synth, batch_size: 2, num_workers: 1, max_iterations: ${ITERATIONS}, warmup_period: 0, base_lr: 1e-20, augment: {}}
val: {dataset: loop_synth}
`);
  const runDir = join(dir, 'stopping');
  const once = () => trainConv(stopping, runDir);
  const first = await once();
  assert.equal(first.iteration, 8);
  const log = readLog(join(runDir, 'train_log.jsonl'));
  assert.deepEqual(
    log.filter((r) => r.kind === 'val').map((r) => r.iteration),
    [4, 8],
  );
  assert.equal(log.filter((r) => r.kind === 'train').length, 8);
  const again = await once();
  assert.deepEqual([again.iteration, again.resumed_from], [8, 8]);
  assert.equal(readLog(join(runDir, 'train_log.jsonl')).length, log.length);
});

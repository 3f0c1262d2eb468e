// Ignore pixels end to end: a dataset whose cls2clr lists `ignore` (grey, as `mmfd patches` writes past annotated
// regions) yields valid weights equal to the painted area, moved with the labels by flips; a dataset without it
// yields none. A 1x1-conv model trains a few iterations on it: the loss's gradient on the ignored pixels'
// predictions is exactly zero there, and not on the others.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { Flip } from '../../src/data/augment.js';
import { type Batch, batchTensors, DataLoader } from '../../src/data/loader.js';
import { PmftDataset } from '../../src/data/pmft.js';
import { rawMaskTensor, semMask } from '../../src/data/sem_mask.js';
import * as torch from '../../src/torch/index.js';
import { segmentationLoss } from '../../src/train/losses.js';
import { type MiniDataset, writeMiniDataset } from '../helpers/pmft_dataset.js';

const [H, W, CUT] = [20, 28, 8];
const GREY = [128, 128, 128];
let mini: MiniDataset;
let plain: MiniDataset;

before(async () => {
  mini = await writeMiniDataset({ count: 4, trainCount: 4, height: H, width: W });
  plain = await writeMiniDataset({ count: 4, trainCount: 4, height: H, width: W });
  // Columns x < CUT of both layers become grey, listed as `ignore`.
  for (const name of mini.names) {
    for (const layer of ['seml0', 'seml1']) {
      const file = join(mini.root, 'ann', `${name}_${layer}.png`);
      const rgb = new Uint8Array(await sharp(file).raw().toBuffer());
      for (let i = 0; i < H * W; i++) if (i % W < CUT) rgb.set(GREY, 3 * i);
      writeFileSync(
        file,
        await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
          .png()
          .toBuffer(),
      );
    }
  }
  const metaFile = join(mini.root, 'meta_info.json');
  const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
  meta.cls2clr.ignore = 128 * 65536 + 128 * 256 + 128;
  writeFileSync(metaFile, JSON.stringify(meta));
});
after(() => {
  for (const m of [mini, plain]) rmSync(m.dir, { recursive: true, force: true });
});

function loader(m: MiniDataset, flip = false): DataLoader {
  const ds = PmftDataset.open(m.root);
  const samples = ds.readSplit(ds.splitFile(m.split), 'train');
  return new DataLoader(ds, samples, { batchSize: 4, size: [H, W], workers: 1, augmentations: flip ? [new Flip(true, true)] : [] });
}

async function oneBatch(l: DataLoader, epoch = 0): Promise<Batch> {
  try {
    for await (const b of l.epoch(epoch)) return b;
    throw new Error('no batch');
  } finally {
    await l.close();
  }
}

test('valid weights are the non-grey pixels, the labels there are the truth, and none without an ignore colour', async () => {
  const none = await oneBatch(loader(plain));
  assert.equal(none.valid, undefined);
  torch.dispose(batchTensors(none));
  const b = await oneBatch(loader(mini));
  torch.tidy(() => {
    const want = torch.arange(0, W).ge(CUT).float().view(1, 1, 1, W).expand([4, 1, H, W]);
    assert.equal(b.valid!.sub(want).abs().max().item(), 0);
    assert.equal(b.sem_mask.narrow(3, 0, CUT).abs().max().item(), 0, 'grey is no class');
    b.names.forEach((name, k) => {
      const truth = semMask(rawMaskTensor(mini.truth.get(name)!, H, W), [H, W]).narrow(2, CUT, W - CUT);
      assert.equal(
        b.sem_mask
          .select(0, k)
          .narrow(2, CUT, W - CUT)
          .sub(truth)
          .abs()
          .max()
          .item(),
        0,
        name,
      );
    });
  });
  torch.dispose(batchTensors(b));
});

test('flips move the valid weights with the labels and the image', async () => {
  const [still, flipped] = [await oneBatch(loader(mini)), await oneBatch(loader(mini, true), 3)];
  let moved = 0;
  torch.tidy(() => {
    for (let k = 0; k < 4; k++) {
      const pick = (t: torch.Tensor) => t.select(0, k);
      const dims = [[], [1], [2], [1, 2]].find(
        (d) => (d.length ? pick(still.image).flip(d) : pick(still.image)).sub(pick(flipped.image)).abs().max().item() === 0,
      );
      assert.ok(dims !== undefined, `sample ${k}: the image is a flip of the plain one`);
      if (dims.length > 0) moved++;
      const same = (t: torch.Tensor, u: torch.Tensor) => (dims.length ? pick(t).flip(dims) : pick(t)).sub(pick(u)).abs().max().item();
      assert.equal(same(still.valid!, flipped.valid!), 0);
      assert.equal(same(still.sem_mask, flipped.sem_mask), 0);
    }
  });
  assert.ok(moved > 0, 'some sample was flipped');
  torch.dispose([...batchTensors(still), ...batchTensors(flipped)]);
});

test('a model trains a few iterations; the ignored pixels get zero gradient on their predictions', async () => {
  torch.manual_seed(3);
  const model = new torch.nn.Conv2d(3, 4, 1);
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.5 });
  const weights = { dice: [1, 1, 1, 1], bce: [1, 1, 1, 1], focal: [1, 1, 1, 1] };
  const losses: number[] = [];
  for (let epoch = 0; epoch < 3; epoch++) {
    const b = await oneBatch(loader(mini, true), epoch);
    try {
      torch.tidy(() => {
        optimizer.zero_grad();
        const logits = model.forward(b.image);
        logits.retain_grad();
        const loss = segmentationLoss(logits, b.sem_mask, weights, b.valid);
        loss.total.backward();
        losses.push(loss.total.item());
        const grad = logits.grad as torch.Tensor;
        const ignored = b.valid!.eq(0).expand(logits.shape);
        assert.equal(grad.masked_select(ignored).abs().max().item(), 0);
        assert.ok(grad.masked_select(ignored.logical_not()).abs().max().item() > 0);
        optimizer.step();
      });
    } finally {
      torch.dispose(batchTensors(b));
    }
  }
  assert.ok(losses.every(Number.isFinite), `${losses}`);
});

// What a training checkpoint holds and how it loads: trainable parameters and persistent buffers are
// saved, frozen parameters that the build reloads from pretrained files are not; loading restores
// the values bit for bit (optimizer state too) and rejects a checkpoint that does not fit the model,
// naming the file and the key.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultConfig } from '../../src/config/index.js';
import * as torch from '../../src/torch/index.js';
import { checkpointTensors, loadTrainingCheckpoint, pretrainedFrozenKeys, saveTrainingCheckpoint } from '../../src/train/checkpoints.js';

const { nn } = torch;
type Tensor = torch.Tensor;

const dir = mkdtempSync(join(tmpdir(), 'mmfd-ckpt-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** An "encoder" that a real build would load from a file and freeze, a trained head, BatchNorm statistics. */
class Net extends nn.Module {
  encoder: torch.nn.Linear;
  head: torch.nn.Linear;
  norm = new nn.BatchNorm2d(2);
  constructor(headOut = 2) {
    super();
    this.encoder = new nn.Linear(3, 4);
    this.head = new nn.Linear(4, headOut);
    this.encoder.requires_grad_(false);
  }
  forward(x: Tensor): Tensor {
    const y = this.head.forward(this.encoder.forward(x));
    return this.norm.forward(y.view(-1, 2, 1, 1)).view(-1, 2);
  }
}

const meta = { config: { ...defaultConfig(), seed: 1 }, iteration: 3, best_miou: 0.5, input_mpp: 1 };

function trainedNet(): { net: Net; opt: torch.optim.AdamW } {
  torch.manual_seed(1);
  const net = new Net();
  const opt = new torch.optim.AdamW(
    net.parameters().filter((p) => p.requires_grad),
    { lr: 0.1 },
  );
  torch.tidy(() => {
    net
      .forward(torch.randn([5, 3]))
      .square()
      .mean()
      .backward();
    opt.step();
  });
  return { net, opt };
}

const equal = (a: Tensor, b: Tensor) => torch.tidy(() => a.equal(b));

test('saved: trainable parameters and persistent buffers; left out: frozen parameters loaded from files', () => {
  const { net } = trainedNet();
  const omitted = pretrainedFrozenKeys(net, true);
  assert.deepEqual([...omitted].sort(), ['encoder.bias', 'encoder.weight']);
  assert.deepEqual([...checkpointTensors(net, omitted).keys()].sort(), [
    'head.bias',
    'head.weight',
    'norm.bias',
    'norm.num_batches_tracked',
    'norm.running_mean',
    'norm.running_var',
    'norm.weight',
  ]);
  // A build without pretrained files cannot restore a frozen parameter: then everything is saved.
  assert.equal(pretrainedFrozenKeys(net, false).size, 0);
});

test('a checkpoint loads back bit for bit, optimizer state included; omitted keys keep the build values', () => {
  const { net, opt } = trainedNet();
  const omitted = pretrainedFrozenKeys(net, true);
  const stem = join(dir, 'roundtrip');
  saveTrainingCheckpoint(stem, net, { omitted, meta, optimizer: opt });

  torch.manual_seed(2);
  const fresh = new Net();
  const freshEncoder = torch.tidy(() => fresh.encoder.weight.clone());
  const opt2 = new torch.optim.AdamW(
    fresh.parameters().filter((p) => p.requires_grad),
    { lr: 0.1 },
  );
  const loaded = loadTrainingCheckpoint(stem, fresh, { omitted, optimizer: opt2 });
  assert.equal(loaded.iteration, 3);
  assert.equal(loaded.best_miou, 0.5);
  assert.equal(loaded.omitted_pretrained, 2);
  const want = net.state_dict();
  for (const [k, t] of fresh.state_dict()) {
    if (omitted.has(k)) continue;
    assert.ok(equal(t, want.get(k)!), k);
  }
  assert.ok(equal(fresh.encoder.weight, freshEncoder), 'the omitted encoder is not touched');
  const a = opt.state_dict();
  const b = opt2.state_dict();
  assert.deepEqual([...b.tensors.keys()], [...a.tensors.keys()]);
  for (const [k, t] of a.tensors) assert.ok(equal(t, b.tensors.get(k)!), k);
  assert.deepEqual(b.meta.state, a.meta.state);
  freshEncoder.dispose();
});

test('a checkpoint that does not fit is an error naming the file and the key', () => {
  const { net } = trainedNet();
  const stem = join(dir, 'misfit');
  saveTrainingCheckpoint(stem, net, { omitted: pretrainedFrozenKeys(net, true), meta });

  // The model lacks nothing the checkpoint holds but needs the encoder, which nobody loads.
  assert.throws(
    () => loadTrainingCheckpoint(stem, new Net(), { omitted: new Set() }),
    /misfit\.json: lacks 2 tensor\(s\).*encoder\.weight/,
  );
  // A key the model does not have.
  const holdsExtra = new Map(checkpointTensors(net, new Set()));
  holdsExtra.set('extra.weight', torch.zeros([1]));
  torch.io.save_checkpoint(join(dir, 'extra'), { state_dict: holdsExtra, meta });
  assert.throws(
    () => loadTrainingCheckpoint(join(dir, 'extra'), new Net(), { omitted: new Set() }),
    /extra\.json: holds 1 tensor\(s\) the model .* lacks \(extra\.weight\)/,
  );
  // Same keys, another shape.
  assert.throws(
    () => loadTrainingCheckpoint(stem, new Net(3), { omitted: pretrainedFrozenKeys(new Net(3), true) }),
    /misfit\.json: .*head\.weight/,
  );
  // No checkpoint at all.
  assert.throws(() => loadTrainingCheckpoint(join(dir, 'absent'), net, { omitted: new Set() }), /absent: no checkpoint here/);
});

test('resuming needs the optimizer state', () => {
  const { net } = trainedNet();
  const stem = join(dir, 'weights-only');
  saveTrainingCheckpoint(stem, net, { omitted: new Set(), meta });
  const opt = new torch.optim.AdamW(net.parameters().filter((p) => p.requires_grad));
  assert.throws(
    () => loadTrainingCheckpoint(stem, net, { omitted: new Set(), optimizer: opt }),
    /weights-only\.json: has no optimizer state/,
  );
});

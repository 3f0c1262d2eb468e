import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as torch from '../../../src/torch/index.js';

const { nn } = torch;

class Block extends nn.Module {
  norm = new nn.LayerNorm(4);
  proj = new nn.Linear(4, 3);
  scale = new nn.Parameter(torch.ones([3]));
  constructor() {
    super();
    this.register_buffer('offset', torch.zeros([3]));
    this.register_buffer('constant', torch.full([3], 2), false);
  }
  forward(x: torch.Tensor): torch.Tensor {
    return this.proj.forward(this.norm.forward(x)).mul(this.scale);
  }
}

class Net extends nn.Module {
  stem = new nn.Conv2d(3, 4, 3, { padding: 1 });
  blocks = new nn.ModuleList([new Block(), new Block()]);
  head = new nn.Sequential(new nn.Linear(3, 8), new nn.GELU(), new nn.Linear(8, 2));
  forward(x: torch.Tensor): torch.Tensor {
    return x;
  }
}

const close = (a: number[], b: number[], tol = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs((a[i] as number) - (b[i] as number)) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

describe('nn.Module', () => {
  test('state_dict keys follow PyTorch: own params, own buffers, then children; non-persistent buffers left out', () => {
    const net = new Net();
    assert.deepEqual(
      [...net.state_dict().keys()],
      [
        'stem.weight',
        'stem.bias',
        ...[0, 1].flatMap((i) => [
          `blocks.${i}.scale`,
          `blocks.${i}.offset`,
          `blocks.${i}.norm.weight`,
          `blocks.${i}.norm.bias`,
          `blocks.${i}.proj.weight`,
          `blocks.${i}.proj.bias`,
        ]),
        'head.0.weight',
        'head.0.bias',
        'head.2.weight',
        'head.2.bias',
      ],
    );
    assert.deepEqual(
      net.named_buffers().map(([k]) => k),
      ['blocks.0.offset', 'blocks.0.constant', 'blocks.1.offset', 'blocks.1.constant'],
    );
    assert.equal(net.parameters().length, 2 + 2 * 5 + 4);
  });

  test('load_state_dict copies values in place and keeps tensor identity', () => {
    const a = new Net();
    const b = new Net();
    const weightBefore = b.head.at(0) as torch.nn.Linear;
    const handle = weightBefore.weight;
    b.load_state_dict(a.state_dict());
    for (const [k, v] of a.state_dict()) assert.deepEqual(b.state_dict().get(k)?.toArray(), v.toArray(), k);
    assert.equal((b.head.at(0) as torch.nn.Linear).weight, handle);
  });

  test('strict loading lists missing and unexpected keys; non-strict returns them', () => {
    const net = new Net();
    const sd = new Map(net.state_dict());
    sd.delete('stem.bias');
    sd.delete('head.2.weight');
    sd.set('extra.weight', torch.zeros([1]));
    assert.throws(
      () => net.load_state_dict(sd),
      (e: Error) => /Missing key\(s\): stem\.bias, head\.2\.weight/.test(e.message) && /Unexpected key\(s\): extra\.weight/.test(e.message),
    );
    const r = net.load_state_dict(sd, false);
    assert.deepEqual(r.missing_keys, ['stem.bias', 'head.2.weight']);
    assert.deepEqual(r.unexpected_keys, ['extra.weight']);
  });

  test('a shape mismatch names the key and both shapes', () => {
    const net = new Net();
    const sd = new Map(net.state_dict());
    sd.set('stem.weight', torch.zeros([4, 3, 5, 5]));
    assert.throws(() => net.load_state_dict(sd), /stem\.weight: checkpoint has \[4, 3, 5, 5\], model has \[4, 3, 3, 3\]/);
  });

  test('train()/eval() reach every submodule; Dropout is the identity in eval mode', () => {
    const net = new nn.Sequential(new nn.Dropout(0.5), new nn.Identity());
    net.eval();
    assert.ok(net.modules().every((m) => !m.training));
    const x = torch.ones([1000]);
    assert.deepEqual(net.forward(x).toArray(), x.toArray());
    net.train();
    const y = net.forward(x).toArray();
    const zeros = y.filter((v) => v === 0).length;
    assert.ok(zeros > 400 && zeros < 600, `dropped ${zeros} of 1000`);
    assert.ok(y.every((v) => v === 0 || Math.abs(v - 2) < 1e-6));
  });

  test('requires_grad_(false) freezes: frozen parameters get no gradient', () => {
    const net = new Block();
    net.norm.requires_grad_(false);
    torch.tidy(() =>
      net
        .forward(torch.randn([2, 4]))
        .sum()
        .backward(),
    );
    assert.equal(net.norm.weight?.grad, undefined);
    assert.notEqual(net.proj.weight.grad, undefined);
    net.zero_grad();
    assert.equal(net.proj.weight.grad, undefined);
  });

  test('Linear computes x W^T + b and uses PyTorch default init bounds', () => {
    const lin = new nn.Linear(5, 3);
    const bound = 1 / Math.sqrt(5);
    assert.ok(lin.weight.toArray().every((v) => Math.abs(v) <= bound));
    assert.ok(lin.bias!.toArray().every((v) => Math.abs(v) <= bound));
    const x = torch.randn([2, 5]);
    const y = lin.forward(x).toArray();
    const [xs, w, b] = [x.toArray(), lin.weight.toArray(), lin.bias!.toArray()];
    const expected: number[] = [];
    for (let n = 0; n < 2; n++)
      for (let o = 0; o < 3; o++) {
        let s = b[o] as number;
        for (let i = 0; i < 5; i++) s += (xs[n * 5 + i] as number) * (w[o * 5 + i] as number);
        expected.push(s);
      }
    close(y, expected, 1e-5);
  });

  test('the same seed builds the same weights', () => {
    torch.manual_seed(7);
    const a = new nn.Conv2d(3, 4, 3).weight.toArray();
    torch.manual_seed(7);
    const b = new nn.Conv2d(3, 4, 3).weight.toArray();
    assert.deepEqual(a, b);
  });

  test('BatchNorm2d: batch statistics and running-stat update when training, running stats in eval', () => {
    const bn = new nn.BatchNorm2d(2, 1e-5, 0.1);
    const data = Array.from({ length: 2 * 2 * 3 }, (_, i) => Math.sin(i) * 3 + (i % 2));
    const x = torch.tensor(data).reshape(2, 2, 3, 1);
    const y = bn.forward(x).toArray();
    const idx = (n: number, c: number, h: number) => n * 6 + c * 3 + h;
    for (let c = 0; c < 2; c++) {
      const vals: number[] = [];
      for (let n = 0; n < 2; n++) for (let h = 0; h < 3; h++) vals.push(data[idx(n, c, h)] as number);
      const mean = vals.reduce((a, b) => a + b) / vals.length;
      const varBiased = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length;
      const varUnbiased = (varBiased * vals.length) / (vals.length - 1);
      for (let n = 0; n < 2; n++)
        for (let h = 0; h < 3; h++) {
          const expect = ((data[idx(n, c, h)] as number) - mean) / Math.sqrt(varBiased + 1e-5);
          assert.ok(Math.abs((y[idx(n, c, h)] as number) - expect) < 1e-5);
        }
      assert.ok(Math.abs((bn.running_mean!.toArray()[c] as number) - 0.1 * mean) < 1e-6);
      assert.ok(Math.abs((bn.running_var!.toArray()[c] as number) - (0.9 + 0.1 * varUnbiased)) < 1e-5);
    }
    assert.equal(bn.num_batches_tracked!.item(), 1);
    bn.eval();
    const rm = bn.running_mean!.toArray();
    const rv = bn.running_var!.toArray();
    const ye = bn.forward(x).toArray();
    for (let n = 0; n < 2; n++)
      for (let c = 0; c < 2; c++)
        for (let h = 0; h < 3; h++) {
          const expect = ((data[idx(n, c, h)] as number) - (rm[c] as number)) / Math.sqrt((rv[c] as number) + 1e-5);
          assert.ok(Math.abs((ye[idx(n, c, h)] as number) - expect) < 1e-5);
        }
    assert.equal(bn.num_batches_tracked!.item(), 1, 'eval mode does not count batches');
  });

  test('Embedding looks up rows; ConvTranspose2d has PyTorch weight layout', () => {
    const emb = new nn.Embedding(5, 3);
    const rows = emb.forward(torch.tensor([4, 0], { dtype: 'int64' })).toArray();
    const w = emb.weight.toArray();
    assert.deepEqual(rows, [...w.slice(12, 15), ...w.slice(0, 3)]);
    const up = new nn.ConvTranspose2d(8, 4, 2, { stride: 2 });
    assert.deepEqual(up.weight.shape, [8, 4, 2, 2]);
    assert.deepEqual(up.forward(torch.zeros([1, 8, 5, 5])).shape, [1, 4, 10, 10]);
  });

  test('to(dtype) casts floating parameters and buffers in place, leaving integer buffers', () => {
    const bn = new nn.BatchNorm2d(3);
    const w = bn.weight!;
    bn.to('float64');
    assert.equal(bn.weight, w);
    assert.equal(w.dtype, 'float64');
    assert.equal(bn.running_var!.dtype, 'float64');
    assert.equal(bn.num_batches_tracked!.dtype, 'int64');
  });
});

describe('memory scopes', () => {
  test('tidy disposes intermediates, keeps returned and kept tensors, hands results to the parent scope', () => {
    let inner: torch.Tensor | undefined;
    let kept: torch.Tensor | undefined;
    const out = torch.tidy(() => {
      const a = torch.ones([4]);
      inner = a.mul(2);
      kept = a.add(1).keep();
      return torch.tidy(() => inner!.add(1));
    });
    assert.ok(inner!.isDisposed);
    assert.ok(!kept!.isDisposed);
    assert.deepEqual(out.toArray(), [3, 3, 3, 3]);
    out.dispose();
    kept!.dispose();
    assert.throws(() => out.toArray(), /disposed/);
  });

  test('tidy disposes everything when fn throws', () => {
    const before = torch.memory_stats().tensors;
    assert.throws(() =>
      torch.tidy(() => {
        torch.ones([3]).add(1);
        throw new Error('boom');
      }),
    );
    assert.equal(torch.memory_stats().tensors, before);
  });

  test('a tensor outside every scope that is never disposed is released after garbage collection', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const before = torch.memory_stats().tensors;
    (() => {
      for (let i = 0; i < 100; i++) torch.ones([1000]);
      torch.tidy(() => torch.ones([10])); // escapes the outermost scope: also GC-managed
    })();
    assert.equal(torch.memory_stats().tensors, before + 101);
    for (let i = 0; i < 10 && torch.memory_stats().tensors > before; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    // Garbage left by earlier tests may go too, so the count can end below `before`.
    assert.ok(torch.memory_stats().tensors <= before);
  });

  test('a module built inside tidy keeps its parameters', () => {
    const lin = torch.tidy(() => new nn.Linear(2, 2));
    assert.ok(!lin.weight.isDisposed);
    lin.dispose();
    assert.ok(lin.weight.isDisposed);
  });

  test('a training loop under tidy keeps the live tensor count flat', () => {
    const net = new nn.Sequential(new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.ReLU(), new nn.Conv2d(4, 1, 1));
    const step = () =>
      torch.tidy(() => {
        const loss = net
          .forward(torch.randn([2, 1, 8, 8]))
          .square()
          .mean();
        loss.backward();
        torch.no_grad(() => {
          for (const p of net.parameters()) p.sub_(p.grad!.mul(0.01));
        });
      });
    for (let i = 0; i < 5; i++) step();
    const before = torch.memory_stats();
    for (let i = 0; i < 50; i++) step();
    assert.deepEqual(torch.memory_stats(), before);
  });
});

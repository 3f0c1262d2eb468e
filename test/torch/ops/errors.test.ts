// Error cases: shape mismatches surface as JS Errors naming the op; disposed tensors throw; bad
// arguments are rejected; tidy() frees what it should.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Tensor } from '../../../src/torch/index.js';
import * as torch from '../../../src/torch/index.js';

const F = torch.nn.functional;
const tidy = torch.tidy;

/** Asserts fn throws an Error whose message names op (and matches more, if given). */
function throwsNaming(fn: () => unknown, op: RegExp, more?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error, 'an Error');
    assert.match(e.message, op);
    if (more) assert.match(e.message, more);
    return true;
  });
}

describe('shape mismatches give an Error naming the op', () => {
  test('elementwise broadcasting failures', () => {
    tidy(() => {
      const a = torch.ones([2, 3]);
      const b = torch.ones([4]);
      throwsNaming(() => a.add(b), /add/, /size of tensor a \(3\) must match the size of tensor b \(4\)/);
      throwsNaming(() => a.sub(b), /sub/);
      throwsNaming(() => a.mul(b), /mul/);
      throwsNaming(() => a.div(b), /div/);
      throwsNaming(() => a.pow(b), /pow/);
      throwsNaming(() => a.maximum(b), /maximum/);
      throwsNaming(() => a.eq(b), /eq/);
      throwsNaming(() => torch.where(torch.ones([2, 3]).bool(), a, b), /where/);
      throwsNaming(() => a.masked_fill(torch.ones([4]).bool(), 0), /masked_fill/);
    });
  });

  test('linear algebra, convolution, normalisation, losses, indexing', () => {
    tidy(() => {
      throwsNaming(() => torch.ones([2, 3]).matmul(torch.ones([2, 3])), /matmul|mm/, /2x3/);
      throwsNaming(() => F.linear(torch.ones([2, 3]), torch.ones([4, 5])), /linear|addmm|mm/);
      throwsNaming(() => F.conv2d(torch.ones([1, 3, 5, 5]), torch.ones([2, 4, 3, 3])), /conv2d/);
      throwsNaming(
        () => F.conv2d(torch.ones([1, 1, 2, 2]), torch.ones([1, 1, 3, 3])),
        /conv2d/,
        /kernel size can't be greater|Kernel size/i,
      );
      throwsNaming(() => F.conv_transpose2d(torch.ones([1, 3, 5, 5]), torch.ones([2, 4, 3, 3])), /conv_transpose2d/);
      throwsNaming(() => F.layer_norm(torch.ones([2, 3]), [4]), /layer_norm/);
      throwsNaming(() => F.batch_norm(torch.ones([2, 3, 2, 2]), torch.zeros([4]), torch.ones([4])), /batch_norm/);
      throwsNaming(() => F.mse_loss(torch.ones([2, 3]), torch.ones([4, 5])), /mse_loss/);
      throwsNaming(() => F.binary_cross_entropy_with_logits(torch.ones([2, 3]), torch.ones([3, 2])), /binary_cross_entropy_with_logits/);
      throwsNaming(() => torch.cat([torch.ones([2, 3]), torch.ones([3, 2])], 0), /cat/);
      throwsNaming(() => torch.stack([torch.ones([2, 3]), torch.ones([3, 2])]), /stack/);
      throwsNaming(() => torch.ones([2, 3]).gather(1, torch.zeros([2, 3, 1], { dtype: 'int64' })), /gather/);
      throwsNaming(() => torch.ones([2, 3]).index_select(0, torch.tensor([5], { dtype: 'int64' })), /index_select/, /out of range/);
      throwsNaming(() => torch.ones([2, 3]).view(4, 2), /view/);
      throwsNaming(() => torch.ones([2, 3]).permute(0, 0), /permute/);
      throwsNaming(() => F.interpolate(torch.ones([2, 3]), { size: [4, 4], mode: 'bilinear' }), /upsample|interpolate/);
    });
  });
});

describe('bad arguments', () => {
  test('an argument of the wrong kind is a TypeError naming the op and argument', () => {
    tidy(() => {
      const x = torch.ones([2]);
      throwsNaming(() => x.add('a' as unknown as number), /add/, /must be/);
      throwsNaming(() => x.sum(1.5), /sum/, /integer/);
      throwsNaming(() => torch.zeros([2.5]), /zeros|shape/);
    });
  });

  test('an unknown operator is an Error naming it', () => {
    throwsNaming(() => torch.op('no_such_operator_xyz', torch.ones([1])), /no_such_operator_xyz/);
  });
});

describe('disposal', () => {
  test('using a disposed tensor throws; dispose twice is safe', () => {
    const x = torch.ones([2]);
    const y = torch.ones([2]);
    x.dispose();
    x.dispose();
    assert.equal(x.isDisposed, true);
    assert.throws(() => x.add(1), /disposed/);
    assert.throws(() => y.add(x), /disposed/);
    assert.throws(() => x.toArray(), /disposed/);
    assert.throws(() => x.shape, /disposed/);
    assert.throws(() => torch.cat([y, x]), /disposed/);
    y.dispose();
  });

  test('tidy frees intermediates, hands the result out, spares kept tensors, and frees on a throw', () => {
    const before = torch.memory_stats().tensors;
    let inner: Tensor | undefined;
    let kept: Tensor | undefined;
    const out = tidy(() => {
      inner = torch.ones([3]).mul(2);
      kept = torch.ones([3]).keep();
      return { sum: inner.add(1) };
    });
    assert.equal(inner?.isDisposed, true);
    assert.equal(kept?.isDisposed, false);
    assert.deepEqual(out.sum.toArray(), [3, 3, 3]);
    out.sum.dispose();
    kept?.dispose();
    let leaked: Tensor | undefined;
    assert.throws(() =>
      tidy(() => {
        leaked = torch.ones([2]);
        throw new Error('inside');
      }),
    );
    assert.equal(leaked?.isDisposed, true);
    assert.equal(torch.memory_stats().tensors, before);
  });

  test('pipe frees each intermediate once the next step has consumed it, never its input or result', () => {
    const x = torch.ones([2, 3]);
    const seen: Tensor[] = [];
    const y = torch.pipe(
      x,
      (t) => t.mul(2),
      (t) => {
        seen.push(t);
        return t; // returns its input: kept alive
      },
      (t) => {
        seen.push(t);
        return t.add(1);
      },
      (t) => {
        assert.equal(seen[0]?.isDisposed, true, 'the mul result is gone once add has used it');
        return t.view(3, 2);
      },
    );
    assert.equal(x.isDisposed, false);
    assert.deepEqual(y.toArray(), [3, 3, 3, 3, 3, 3]);
    torch.dispose([x, y]);
  });
});

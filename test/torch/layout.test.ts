import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../../src/torch/index.js';

test('views report strides, storage offset, contiguity and shared storage', () => {
  torch.tidy(() => {
    const a = torch.arange(12, undefined, 1, { dtype: 'float32' }).reshape(3, 4);
    assert.deepEqual(a.stride(), [4, 1]);
    assert.ok(a.is_contiguous());
    const t = a.t();
    assert.deepEqual(t.stride(), [1, 4]);
    assert.ok(!t.is_contiguous());
    const row = a.select(0, 2);
    assert.equal(row.storage_offset(), 8);
    assert.deepEqual(row.toArray(), [8, 9, 10, 11]);
    assert.ok(a.shares_storage_with(t) && a.shares_storage_with(row));
    assert.ok(!a.shares_storage_with(a.clone()));
    assert.ok(t.contiguous().is_contiguous());
  });
});

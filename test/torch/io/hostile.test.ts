// Hostile checkpoints: shared and cyclic sub-values, absurd nesting, views that would blow up if copied.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as torch from '../../../src/torch/index.js';
import { load_state_dict_file } from '../../../src/torch/io/checkpoint.js';
import { load_pth, type PthValue } from '../../../src/torch/io/pth.js';
import { tempDir } from './helpers.js';
import { beside, nestedLists, RawPickle, selfList, sharedListKey, sharedLists, writePth } from './hostile.js';

const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);
const get = (v: PthValue, k: string): torch.Tensor => {
  assert.ok(v instanceof Map);
  const t = v.get(k);
  assert.ok(t instanceof torch.Tensor, `${k} is a tensor`);
  return t;
};

// A guard, not a timing: before the fix the 60-level file took 2^60 steps (it would hang).
test('a list reused at every level (2^60 paths) and a list holding itself load once each', { timeout: 60_000 }, () => {
  const { dir, cleanup } = tempDir();
  try {
    const shared = join(dir, 'shared.pth');
    writePth(
      shared,
      beside((p) => sharedLists(p, 60)),
    );
    assert.deepEqual([...load_state_dict_file(shared)], []);
    const cyclic = join(dir, 'cyclic.pth');
    writePth(cyclic, beside(selfList));
    assert.deepEqual([...load_state_dict_file(cyclic)], []);
    const v = load_pth(cyclic);
    assert.ok(v instanceof Map);
    const extra = v.get('extra') as PthValue[];
    assert.equal(extra[0], extra, 'the cycle is kept as it is');
    // The same shared list as a dict key (and no state dict): the message does not spell the key out.
    const keyed = join(dir, 'keyed.pth');
    writePth(
      keyed,
      (() => {
        const p = new RawPickle();
        sharedListKey(p, 60);
        return p.bytes();
      })(),
    );
    assert.throws(
      () => load_state_dict_file(keyed),
      (e: Error) => e.message === `${keyed}: no state dict found: the file holds a dict with keys [<list>]`,
    );
  } finally {
    cleanup();
  }
});

test('nesting deeper than any checkpoint is refused, naming the file', () => {
  const { dir, cleanup } = tempDir();
  try {
    const deep = join(dir, 'deep.pth');
    writePth(
      deep,
      beside((p) => nestedLists(p, 100_000)),
    );
    for (const load of [load_pth, load_state_dict_file]) {
      assert.throws(
        () => load(deep),
        (e: Error) => e.message.startsWith(`${deep}: values nested more than 1000 deep (at value["extra"][0][0]`),
      );
    }
  } finally {
    cleanup();
  }
});

test('a 1-element storage seen as [1000000, 1000] stays a view (no 4 GB copy) and keeps its values', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'expand.pth');
    const p = new RawPickle().emptyDict().mark();
    p.str('big').tensor('0', 1, 0, [1_000_000, 1000], [0, 0]);
    p.str('a').tensor('1', 2, 0, [2], [1]);
    p.str('rows').tensor('1', 2, 0, [3, 2], [0, 1]);
    writePth(file, p.op(0x75).bytes(), { '0': f32(7.5), '1': f32(1, 2) });
    torch.tidy(() => {
      const v = load_pth(file);
      const big = get(v, 'big');
      assert.deepEqual(big.shape, [1_000_000, 1000]);
      assert.deepEqual(big.stride(), [0, 0]);
      assert.equal(big.select(0, 999_999).select(0, 999).item(), 7.5);
      const rows = get(v, 'rows');
      assert.deepEqual(rows.toArray(), [1, 2, 1, 2, 1, 2]);
      // 'rows' shares its storage with 'a' in the file; loaded, it is independent as other tensors are.
      get(v, 'a').add_(100);
      assert.deepEqual(rows.toArray(), [1, 2, 1, 2, 1, 2]);
    });
  } finally {
    cleanup();
  }
});

test('views outside their storage or beyond 2^53 elements are refused, naming the file and the tensor', () => {
  const { dir, cleanup } = tempDir();
  try {
    const oob = join(dir, 'oob.pth');
    const p = new RawPickle().emptyDict().mark().str('w').tensor('0', 4, 3, [2], [1]).op(0x75);
    writePth(oob, p.bytes(), { '0': f32(1, 2, 3, 4) });
    assert.throws(
      () => load_pth(oob),
      (e: Error) => e.message === `${oob}: tensor value["w"]: size [2] stride [1] offset 3 reaches element 4 of storage '0' (4 elements)`,
    );
    const huge = join(dir, 'huge.pth');
    const q = new RawPickle()
      .emptyDict()
      .mark()
      .str('w')
      .tensor('0', 1, 0, [1 << 26, 1 << 26, 4], [0, 0, 0])
      .op(0x75);
    writePth(huge, q.bytes(), { '0': f32(1) });
    assert.throws(
      () => load_state_dict_file(huge),
      (e: Error) =>
        e.message.startsWith(`${huge}: tensor value["w"]: size [67108864, 67108864, 4]`) && /more than 2\^53 elements/.test(e.message),
    );
  } finally {
    cleanup();
  }
});

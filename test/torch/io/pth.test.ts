import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as torch from '../../../src/torch/index.js';
import { PyGlobal, PyOrderedDict, PyPersistentId, PyReduce, PyTuple, pickle } from '../../../src/torch/io/pickle.js';
import { load_pth, type PthValue, StorageView, save_pth } from '../../../src/torch/io/pth.js';
import { load_safetensors } from '../../../src/torch/io/safetensors.js';
import { write_zip, ZipReader } from '../../../src/torch/io/zip.js';
import { assertStateDictsIdentical, assertTensorIdentical, dataFile, fixture, leftoverTemps, tempDir } from './helpers.js';

const asMap = (v: PthValue | undefined): Map<string, PthValue> => {
  assert.ok(v instanceof Map, 'expected a dict');
  return v as Map<string, PthValue>;
};
const asTensor = (v: PthValue | undefined): torch.Tensor => {
  assert.ok(v instanceof torch.Tensor, 'expected a tensor');
  return v;
};

test('student_full weights.pth equals weights.safetensors exactly (keys, order, dtypes, bits)', () => {
  const pth = asMap(load_pth(fixture('student_full', 'weights.pth'))) as Map<string, torch.Tensor>;
  const st = load_safetensors(fixture('student_full', 'weights.safetensors'));
  try {
    assert.equal(pth.size, st.tensors.size);
    assert.ok(pth.size > 400);
    for (const t of pth.values()) assert.ok(t instanceof torch.Tensor);
    assertStateDictsIdentical(pth, st.tensors, 'student_full');
    // int64 0-dim scalars (num_batches_tracked) come through as such.
    const scalars = [...pth].filter(([k]) => k.endsWith('num_batches_tracked'));
    assert.ok(scalars.length > 0);
    for (const [, t] of scalars) {
      assert.equal(t.dtype, 'int64');
      assert.deepEqual(t.shape, []);
    }
  } finally {
    torch.dispose([pth, st.tensors]);
  }
});

test("checkpoint.pth is {'net': state dict, 'epoch': 3} and matches weights.safetensors", () => {
  const v = asMap(load_pth(fixture('checkpoint_pth', 'checkpoint.pth')));
  const st = load_safetensors(fixture('checkpoint_pth', 'weights.safetensors'));
  try {
    assert.deepEqual([...v.keys()], ['net', 'epoch']);
    assert.equal(v.get('epoch'), 3);
    const net = asMap(v.get('net')) as Map<string, torch.Tensor>;
    assertStateDictsIdentical(net, st.tensors, 'checkpoint.net');
    const nbt = net.get('seq.0.bn.num_batches_tracked') as torch.Tensor;
    assert.equal(nbt.dtype, 'int64');
    assert.deepEqual(nbt.shape, []);
  } finally {
    torch.dispose([v, st.tensors]);
  }
});

test('the ckpt_loading pretrained files load', () => {
  const dir = (f: string) => fixture('ckpt_loading', 'pretrained', f);
  torch.tidy(() => {
    const sam = asMap(load_pth(dir('medsam_vit_small.pth')));
    assert.ok([...sam.keys()].some((k) => k.startsWith('image_encoder.')));
    assert.ok([...sam.keys()].some((k) => k.startsWith('mask_decoder.')));
    assert.ok([...sam.values()].every((t) => t instanceof torch.Tensor));
    assert.deepEqual(asTensor(sam.get('image_encoder.pos_embed')).shape.slice(0, 3), [1, 16, 16]);

    const plip = asMap(load_pth(dir('plip_pytorch_model.bin')));
    assert.ok([...plip.keys()].some((k) => k.startsWith('vision_model.')));

    const pidi = asMap(load_pth(dir('pidinet_checkpoint.pth')));
    assert.deepEqual([...pidi.keys()].sort(), ['epoch', 'state_dict']);
    const sd = asMap(pidi.get('state_dict'));
    assert.ok(sd.size > 0);
    assert.ok([...sd.keys()].every((k) => k.startsWith('module.')));
  });
});

test('files written by PyTorch 1.13: every storage dtype, views with strides and offsets, shared storage', () => {
  for (const file of ['torch113_dtypes.pt', 'torch113_deflated.pt']) {
    torch.tidy(() => {
      const v = asMap(load_pth(dataFile(file)));
      const arr = (k: string) => asTensor(v.get(k)).toArray();
      const a = asTensor(v.get('a'));
      assert.deepEqual(a.shape, [3, 4]);
      assert.deepEqual(a.toArray(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      assert.deepEqual(asTensor(v.get('t')).shape, [4, 3]);
      assert.deepEqual(arr('t'), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
      assert.deepEqual(asTensor(v.get('v')).shape, [2, 2]);
      assert.deepEqual(arr('v'), [5, 6, 9, 10]);
      const dtypes: Record<string, [torch.DType, number[]]> = {
        h: ['float16', [1.5, 2]],
        bf: ['bfloat16', [1.5, 2]],
        b: ['bool', [1, 0]],
        i8: ['int8', [-3]],
        i16: ['int16', [-3]],
        i32: ['int32', [-3]],
        u8: ['uint8', [250]],
        d: ['float64', [1.25]],
        p: ['float32', [1, 1]],
      };
      for (const [k, [dtype, values]] of Object.entries(dtypes)) {
        assert.equal(asTensor(v.get(k)).dtype, dtype, k);
        assert.deepEqual(arr(k), values, k);
      }
      assert.equal(asTensor(v.get('p')).requires_grad, true);
      assert.equal(asTensor(v.get('a')).requires_grad, false);
      assert.equal(v.get('big'), 2n ** 70n);
      assert.deepEqual(v.get('tup'), [1, 'x', 2.5]);
      assert.deepEqual(asTensor(v.get('empty')).shape, [0, 3]);
      // The loaded tensors are independent copies even though t, v and a share one storage in the file.
      a.add_(100);
      assert.deepEqual(arr('v'), [5, 6, 9, 10]);
    });
  }
});

test('truncated and non-checkpoint files give clear errors naming the file', () => {
  const { dir, cleanup } = tempDir();
  try {
    const bytes = readFileSync(fixture('checkpoint_pth', 'checkpoint.pth'));
    const half = join(dir, 'checkpoint_half.pth');
    writeFileSync(half, bytes.subarray(0, bytes.length >> 1));
    assert.throws(
      () => load_pth(half),
      (e: Error) => e.message.includes(half) && /truncated/.test(e.message),
    );
    const empty = join(dir, 'empty.pth');
    writeFileSync(empty, '');
    assert.throws(
      () => load_pth(empty),
      (e: Error) => e.message.includes(empty),
    );
    const legacy = join(dir, 'legacy.pt');
    writeFileSync(legacy, Buffer.from('80028a0a6cfc9c46f9206a', 'hex'));
    assert.throws(
      () => load_pth(legacy),
      (e: Error) => e.message.includes(legacy) && /legacy/.test(e.message),
    );
    const noPkl = join(dir, 'other.zip');
    write_zip(noPkl, [{ name: 'x/readme.txt', data: new Uint8Array(3) }]);
    assert.throws(
      () => load_pth(noPkl),
      (e: Error) => e.message.includes(noPkl) && /no <folder>\/data\.pkl/.test(e.message),
    );
    // Storage data cut short inside an otherwise valid archive.
    const pkl = pickle(
      new PyReduce(new PyGlobal('torch._utils', '_rebuild_tensor_v2'), [
        new PyPersistentId(new PyTuple(['storage', new PyGlobal('torch', 'FloatStorage'), '0', 'cpu', 4])),
        0,
        new PyTuple([2, 3]),
        new PyTuple([3, 1]),
        false,
        new PyOrderedDict([]),
      ]),
    );
    const oob = join(dir, 'oob.pth');
    write_zip(oob, [
      { name: 'oob/data.pkl', data: pkl },
      { name: 'oob/data/0', data: new Uint8Array(16) },
    ]);
    assert.throws(
      () => load_pth(oob),
      (e: Error) => e.message.includes(oob) && /reaches element 5 of storage '0' \(4 elements\)/.test(e.message),
    );
  } finally {
    cleanup();
  }
});

test('save_pth -> load_pth round trip: nested values, dtypes, strided views, shared storage', () => {
  const { dir, cleanup } = tempDir();
  try {
    torch.tidy(() => {
      const base = torch.arange(0, 24, 1, { dtype: 'float32' }).reshape(4, 6);
      const transposed = base.t(); // non-contiguous
      const sliced = base.slice(1, 1, 5, 2); // strided view
      const tensors: Record<string, torch.Tensor> = {
        f32: torch.randn([3, 5]),
        f64: torch.randn([2, 2], { dtype: 'float64' }),
        f16: torch.randn([7]).to('float16'),
        bf16: torch.randn([7]).to('bfloat16'),
        i64: torch.fromTypedArray(new BigInt64Array([1n, -(2n ** 62n), 2n ** 62n]), [3]),
        i32: torch.tensor([1, -2, 3], { dtype: 'int32' }),
        i16: torch.tensor([1, -2, 3], { dtype: 'int16' }),
        i8: torch.tensor([1, -2, 3], { dtype: 'int8' }),
        u8: torch.tensor([0, 200, 255], { dtype: 'uint8' }),
        bool: torch.tensor([1, 0, 1], { dtype: 'bool' }),
        scalar: torch.fromTypedArray(new BigInt64Array([42n]), []),
        empty: torch.zeros([0, 4]),
      };
      const sd = new Map<string, torch.Tensor | StorageView>(Object.entries(tensors));
      sd.set('base', base);
      sd.set('base_again', base); // the same tensor twice: one storage in the file
      sd.set('transposed', transposed);
      sd.set('sliced', sliced);
      sd.set('window', new StorageView(base, 7, [2, 3], [6, 2])); // a view on base's storage
      const value = new Map<string, unknown>([
        ['model', sd],
        ['epoch', 12],
        ['lr', 0.001],
        ['huge', 2n ** 80n],
        ['name', 'run ünï'],
        ['flags', [true, false, null]],
        ['history', { loss: [0.5, 0.25], steps: [1, 2] }],
      ]);
      const path = join(dir, 'round.pth');
      save_pth(path, value as never);
      assert.deepEqual(leftoverTemps(dir), []);

      // The layout of PyTorch's writer: one top folder named after the stem, 64-byte aligned data.
      const zip = ZipReader.open(path);
      try {
        const names = zip.entries.map((e) => e.name);
        assert.deepEqual(names.slice(0, 4), ['round/data.pkl', 'round/.format_version', 'round/.storage_alignment', 'round/byteorder']);
        assert.deepEqual(names.slice(-2), ['round/version', 'round/.data/serialization_id']);
        assert.equal(new TextDecoder().decode(zip.read('round/version')), '3\n');
        assert.equal(new TextDecoder().decode(zip.read('round/byteorder')), 'little');
        for (const e of zip.entries) assert.equal(zip.dataOffset(e) % 64, 0);
        // base, base_again and window share one storage; 12 + base + transposed + sliced = 15 storages.
        assert.equal(names.filter((n) => n.startsWith('round/data/')).length, 15);
      } finally {
        zip.close();
      }

      const back = asMap(load_pth(path));
      assert.deepEqual([...back.keys()], ['model', 'epoch', 'lr', 'huge', 'name', 'flags', 'history']);
      assert.equal(back.get('epoch'), 12);
      assert.equal(back.get('lr'), 0.001);
      assert.equal(back.get('huge'), 2n ** 80n);
      assert.equal(back.get('name'), 'run ünï');
      assert.deepEqual(back.get('flags'), [true, false, null]);
      const history = asMap(back.get('history'));
      assert.deepEqual(history.get('loss'), [0.5, 0.25]);
      const model = asMap(back.get('model'));
      assert.deepEqual([...model.keys()], [...sd.keys()]);
      for (const [k, t] of Object.entries(tensors)) assertTensorIdentical(asTensor(model.get(k)), t, k);
      assertTensorIdentical(asTensor(model.get('base')), base, 'base');
      assertTensorIdentical(asTensor(model.get('base_again')), base, 'base_again');
      assertTensorIdentical(asTensor(model.get('transposed')), transposed.contiguous(), 'transposed');
      assertTensorIdentical(asTensor(model.get('sliced')), sliced.contiguous(), 'sliced');
      assert.deepEqual(asTensor(model.get('window')).toArray(), [7, 9, 11, 13, 15, 17]);
    });
  } finally {
    cleanup();
  }
});

test('save_pth is atomic: a failed save leaves no file and no temporary', () => {
  const { dir, cleanup } = tempDir();
  try {
    torch.tidy(() => {
      const t = torch.ones([2]);
      assert.throws(() => save_pth(join(dir, 'missing', 'x.pth'), { t }), /does not exist/);
      const path = join(dir, 'keep.pth');
      save_pth(path, { t });
      const before = readFileSync(path);
      // A value that cannot be saved fails before anything is written; the old file stays as it was.
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      assert.throws(() => save_pth(path, cyclic as never), /cycle/);
      assert.throws(() => save_pth(path, { f: (() => 1) as never }), /cannot save/);
      assert.ok(readFileSync(path).equals(before));
      assert.deepEqual(leftoverTemps(dir), []);
    });
  } finally {
    cleanup();
  }
});

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as torch from '../../../src/torch/index.js';
import { load_safetensors, save_safetensors } from '../../../src/torch/io/safetensors.js';
import { assertTensorIdentical, fixture, leftoverTemps, tempDir } from './helpers.js';

/** A safetensors file from a header object and raw data. */
function rawFile(path: string, header: unknown, data: Uint8Array, pad = true): void {
  let json = JSON.stringify(header);
  if (pad) json += ' '.repeat((8 - (json.length % 8)) % 8);
  const h = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(path, Buffer.concat([len, h, data]));
}

test('save_safetensors -> load_safetensors round trip for every dtype', () => {
  const { dir, cleanup } = tempDir();
  try {
    torch.tidy(() => {
      const m = new Map<string, torch.Tensor>([
        ['z.f32', torch.randn([3, 4])],
        ['a.f64', torch.randn([2, 3], { dtype: 'float64' })],
        ['f16', torch.randn([5]).to('float16')],
        ['bf16', torch.randn([2, 2, 2]).to('bfloat16')],
        ['i64', torch.fromTypedArray(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n]), [3])],
        ['i32', torch.tensor([-(2 ** 31), 2 ** 31 - 1], { dtype: 'int32' })],
        ['i16', torch.tensor([-32768, 32767], { dtype: 'int16' })],
        ['i8', torch.tensor([-128, 127], { dtype: 'int8' })],
        ['u8', torch.tensor([0, 255], { dtype: 'uint8' })],
        ['bool', torch.tensor([1, 0, 0, 1], { dtype: 'bool' })],
        ['scalar', torch.fromTypedArray(new BigInt64Array([5n]), [])],
        ['empty', torch.zeros([0, 7])],
        ['strided', torch.arange(0, 12, 1, { dtype: 'float32' }).reshape(3, 4).t()],
      ]);
      const path = join(dir, 'all.safetensors');
      save_safetensors(path, m, { note: 'hello' });
      assert.deepEqual(leftoverTemps(dir), []);

      // Header length is a multiple of 8 and the dtype names are safetensors'.
      const bytes = readFileSync(path);
      const n = Number(bytes.readBigUInt64LE(0));
      assert.equal(n % 8, 0);
      const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string }>;
      assert.deepEqual(
        ['z.f32', 'a.f64', 'f16', 'bf16', 'i64', 'i32', 'i16', 'i8', 'u8', 'bool'].map((k) => header[k]?.dtype),
        ['F32', 'F64', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'],
      );

      const back = load_safetensors(path);
      assert.deepEqual([...back.tensors.keys()], [...m.keys()]);
      assert.equal(back.metadata.note, 'hello');
      assert.deepEqual(JSON.parse(back.metadata.key_order as string), [...m.keys()]);
      for (const [k, t] of m) assertTensorIdentical(back.tensors.get(k) as torch.Tensor, k === 'strided' ? t.contiguous() : t, k);
      assert.deepEqual((back.tensors.get('strided') as torch.Tensor).toArray(), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
      return undefined;
    });
  } finally {
    cleanup();
  }
});

test('without key_order the tensors come in data-offset order', () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'order.safetensors');
    const data = new Uint8Array(12);
    new Float32Array(data.buffer).set([1, 2, 3]);
    rawFile(
      path,
      {
        b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      },
      data,
    );
    torch.tidy(() => {
      const { tensors, metadata } = load_safetensors(path);
      assert.deepEqual([...tensors.keys()], ['a', 'b']);
      assert.deepEqual(metadata, {});
      assert.deepEqual((tensors.get('a') as torch.Tensor).toArray(), [1, 2]);
      assert.deepEqual((tensors.get('b') as torch.Tensor).toArray(), [3]);
    });
  } finally {
    cleanup();
  }
});

test('the fixture files load in state_dict order', () => {
  torch.tidy(() => {
    const { tensors, metadata } = load_safetensors(fixture('checkpoint_pth', 'weights.safetensors'));
    assert.deepEqual([...tensors.keys()], JSON.parse(metadata.key_order as string));
    assert.equal((tensors.get('seq.0.bn.num_batches_tracked') as torch.Tensor).dtype, 'int64');
  });
});

test('invalid headers and truncated files give errors naming the file', () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = (name: string) => join(dir, name);
    const f32 = (n: number) => new Uint8Array(4 * n);
    const cases: [string, () => void, RegExp][] = [
      ['short.safetensors', () => writeFileSync(p('short.safetensors'), Buffer.from([1, 2, 3])), /shorter than the 8-byte header length/],
      [
        'hugeheader.safetensors',
        () => {
          const b = Buffer.alloc(16);
          b.writeBigUInt64LE(1n << 40n);
          writeFileSync(p('hugeheader.safetensors'), b);
        },
        /implausible/,
      ],
      [
        'cuthdr.safetensors',
        () => {
          const b = Buffer.alloc(16);
          b.writeBigUInt64LE(100n);
          writeFileSync(p('cuthdr.safetensors'), b);
        },
        /truncated/,
      ],
      ['notjson.safetensors', () => rawFile(p('notjson.safetensors'), 'x', new Uint8Array(0)), /not an object/],
      [
        'dtype.safetensors',
        () => rawFile(p('dtype.safetensors'), { a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, f32(1)),
        /unsupported dtype "F8_E4M3"/,
      ],
      [
        'size.safetensors',
        () => rawFile(p('size.safetensors'), { a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32(3)),
        /needs 12 bytes/,
      ],
      [
        'range.safetensors',
        () => rawFile(p('range.safetensors'), { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32(2)),
        /truncated or corrupt/,
      ],
      [
        'overlap.safetensors',
        () =>
          rawFile(
            p('overlap.safetensors'),
            { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
            f32(3),
          ),
        /overlap/,
      ],
      [
        'shape.safetensors',
        () => rawFile(p('shape.safetensors'), { a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32(1)),
        /invalid shape/,
      ],
      [
        'meta.safetensors',
        () => rawFile(p('meta.safetensors'), { __metadata__: { n: 1 }, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1)),
        /__metadata__\.n is not a string/,
      ],
      [
        'order.safetensors',
        () =>
          rawFile(
            p('order.safetensors'),
            { __metadata__: { key_order: '["zz"]' }, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } },
            f32(1),
          ),
        /key_order names 'zz'/,
      ],
    ];
    for (const [name, make, re] of cases) {
      make();
      assert.throws(
        () => load_safetensors(p(name)),
        (e: Error) => e.message.includes(p(name)) && re.test(e.message),
        name,
      );
    }
    // A real file cut in half.
    torch.tidy(() => {
      const full = p('full.safetensors');
      save_safetensors(full, new Map([['w', torch.randn([64, 64])]]));
      const bytes = readFileSync(full);
      const half = p('half.safetensors');
      writeFileSync(half, bytes.subarray(0, bytes.length >> 1));
      assert.throws(
        () => load_safetensors(half),
        (e: Error) => e.message.includes(half) && /truncated/.test(e.message),
      );
    });
  } finally {
    cleanup();
  }
});

test('save_safetensors is atomic and validates its input', () => {
  const { dir, cleanup } = tempDir();
  try {
    torch.tidy(() => {
      const t = torch.ones([3]);
      assert.throws(() => save_safetensors(join(dir, 'nope', 'x.safetensors'), new Map([['t', t]])), /does not exist/);
      const path = join(dir, 'x.safetensors');
      save_safetensors(path, { t });
      const before = readFileSync(path);
      assert.throws(() => save_safetensors(path, new Map([['t', 3 as unknown as torch.Tensor]])), /not a Tensor/);
      assert.throws(() => save_safetensors(path, new Map([['t', t]]), { bad: 1 as unknown as string }), /must be a string/);
      assert.ok(readFileSync(path).equals(before));
      // Overwriting replaces the file whole.
      save_safetensors(path, { t, u: torch.zeros([2]) });
      assert.deepEqual([...load_safetensors(path).tensors.keys()], ['t', 'u']);
      assert.deepEqual(leftoverTemps(dir), []);
    });
  } finally {
    cleanup();
  }
});

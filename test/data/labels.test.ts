// Label decoding: the labels fixture through its kind, exact colour matching on hand-made layers,
// the final channels, and the errors for unknown colours and bad meta_info.json.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FINAL_CLASSES, RAW_CLASSES } from '../../src/data/classes.js';
import { DataError } from '../../src/data/errors.js';
import { decodeRawMask, readMetaInfo } from '../../src/data/labels.js';
import { decodeSample, PmftDataset } from '../../src/data/pmft.js';
import { finalMask } from '../../src/data/sem_mask.js';
import { checkFixture } from '../../src/parity/check.js';
import '../../src/parity/kinds.js';
import * as torch from '../../src/torch/index.js';
import { fixture } from '../helpers/fixtures.js';

test('class table: seven raw classes on two layers, four final channels with names and overlay colours', () => {
  assert.deepEqual(
    RAW_CLASSES.map((c) => `${c.name}:${c.layer}`),
    ['villi:seml0', 'villiu:seml0', 'stem:seml0', 'thrombus:seml0', 'bloodvessel:seml1', 'cellgroup:seml1', 'other:null'],
  );
  assert.deepEqual(
    FINAL_CLASSES.map((c) => [c.code, c.display, c.colour]),
    [
      ['villit', 'Villus', [128, 0, 0]],
      ['thrombus', 'Fibrin Deposit', [0, 128, 0]],
      ['bloodvessel', 'Capillary', [0, 224, 224]],
      ['cellgroup', 'Trophoblast Aggregation', [0, 0, 128]],
    ],
  );
});

test('labels fixture: every stored output reproduced through the kind', async () => {
  const { lines, ok } = await checkFixture(fixture('labels'));
  assert.ok(
    ok,
    lines
      .filter((l) => !l.ok)
      .map((l) => `${l.name}: ${l.diff} ${l.note ?? ''}`)
      .join('\n'),
  );
  assert.ok(lines.some((l) => l.name === 'JPEG decoding' && /compared from/.test(l.note ?? '')));
  assert.equal(lines.filter((l) => !Number.isNaN(l.diff)).length, 7);
});

test('labels fixture: strict decoding stops at the first unknown colour, naming file, pixel and colour', async () => {
  const ds = PmftDataset.open(fixture('labels', 'dataset'));
  const files = ds.files('sample_108', 'test');
  // The first pixel of seml0 that is neither background nor a cls2clr colour, found from the stored input.
  const seml0 = torch.io.load_safetensors(fixture('labels', 'inputs.safetensors')).tensors.get('seml0_rgb_u8')!;
  const px = seml0.toTypedArray() as Uint8Array;
  const known = new Set([0, ...ds.cls2clr.values()]);
  let first = -1;
  for (let i = 0; i < px.length / 3 && first < 0; i++)
    if (!known.has(px[i * 3]! * 65536 + px[i * 3 + 1]! * 256 + px[i * 3 + 2]!)) first = i;
  const [x, y] = [first % 96, Math.floor(first / 96)];
  const rgb = `(${px[first * 3]}, ${px[first * 3 + 1]}, ${px[first * 3 + 2]})`;
  await assert.rejects(decodeSample(files, ds.cls2clr, ds.metaInfo), (err: Error) => {
    assert.ok(err instanceof DataError);
    assert.ok(err.message.startsWith(files.seml0), err.message);
    assert.ok(err.message.includes(`RGB ${rgb}`), err.message);
    assert.ok(err.message.includes(`x=${x}, y=${y}`), err.message);
    return true;
  });
  seml0.dispose();
});

const CLS = new Map([
  ['villi', 0x010203],
  ['villiu', 0x010204],
  ['stem', 0x0a0b0c],
  ['thrombus', 0x203040],
  ['bloodvessel', 0x00e0e0],
  ['cellgroup', 0xe0e000],
]);
const rgbOf = (c: number): number[] => [c >> 16, (c >> 8) & 255, c & 255];
const layer = (codes: number[]) => ({ data: Uint8Array.from(codes.flatMap(rgbOf)), width: codes.length, height: 1 });

test('decodeRawMask: exact packed-colour match per layer; other-layer colours ignored; other = no class', () => {
  // seml0: villi, villiu, stem, thrombus, background, bloodvessel colour (wrong layer), villi
  // seml1: -, -, bloodvessel, cellgroup, cellgroup, -, villi colour (wrong layer)
  const l0 = layer([0x010203, 0x010204, 0x0a0b0c, 0x203040, 0, 0x00e0e0, 0x010203]);
  const l1 = layer([0, 0, 0x00e0e0, 0xe0e000, 0xe0e000, 0, 0x010203]);
  const m = decodeRawMask({ seml0: l0, seml1: l1 }, CLS, { seml0: 'a.png', seml1: 'b.png' });
  const rows = Array.from({ length: 7 }, (_, k) => [...m.subarray(k * 7, k * 7 + 7)]);
  assert.deepEqual(rows, [
    [1, 0, 0, 0, 0, 0, 1],
    [0, 1, 0, 0, 0, 0, 0],
    [0, 0, 1, 0, 0, 0, 0],
    [0, 0, 0, 1, 0, 0, 0],
    [0, 0, 1, 0, 0, 0, 0],
    [0, 0, 0, 1, 1, 0, 0],
    [0, 0, 0, 0, 0, 1, 0],
  ]);
});

test('decodeRawMask: a colour one unit off a class colour is an error in strict mode and no class in reference mode', () => {
  const l0 = layer([0x010203, 0x010205, 0x010205]);
  const l1 = layer([0, 0, 0]);
  assert.throws(
    () => decodeRawMask({ seml0: l0, seml1: l1 }, CLS, { seml0: 'ann/x_seml0.png', seml1: 'ann/x_seml1.png', metaInfo: 'meta_info.json' }),
    /^DataError: ann\/x_seml0\.png: label colour RGB \(1, 2, 5\) \(code 66053\) at pixel x=1, y=0 is not in the class table \(meta_info\.json cls2clr\).*2 pixel/,
  );
  const m = decodeRawMask({ seml0: l0, seml1: l1 }, CLS, { seml0: 'a', seml1: 'b' }, 'ignore');
  assert.deepEqual([...m.subarray(0, 3)], [1, 0, 0]);
  assert.deepEqual([...m.subarray(18, 21)], [0, 1, 1]);
});

test('finalMask: villit = clip(villi + villiu + stem), then thrombus, bloodvessel, cellgroup', () => {
  const raw = torch.tensor([
    [0.5, 1, 0],
    [0.75, 0, 0],
    [0, 0.5, 0],
    [0.25, 0, 1],
    [0.1, 0.2, 0.3],
    [0.4, 0.5, 0.6],
    [0, 0, 0],
  ]);
  const out = finalMask(raw);
  assert.deepEqual(out.shape, [4, 3]);
  assert.deepEqual(
    out.toArray().map((v) => Math.round(v * 1e6) / 1e6),
    [1, 1, 0, 0.25, 0, 1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
  );
  torch.dispose([raw, out]);
});

test('readMetaInfo: a missing class or a code outside 24-bit RGB is an error naming meta_info.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmfd-meta-'));
  const file = join(dir, 'meta_info.json');
  const full = Object.fromEntries(CLS);
  writeFileSync(file, JSON.stringify({ cls2clr: { ...full, cellgroup: undefined } }));
  assert.throws(() => readMetaInfo(file), new RegExp(`^DataError: ${file}: cls2clr has no colour for class 'cellgroup'`));
  writeFileSync(file, JSON.stringify({ cls2clr: { ...full, stem: 16777216 } }));
  assert.throws(() => readMetaInfo(file), /cls2clr\.stem must be a packed RGB code/);
  writeFileSync(file, '{"cls2clr": ');
  assert.throws(() => readMetaInfo(file), /cannot read meta_info\.json/);
  writeFileSync(file, JSON.stringify({ cls2clr: { ...full, other: 0x808080 } }));
  assert.equal(readMetaInfo(file).get('other'), 0x808080);
  rmSync(dir, { recursive: true, force: true });
});

// The PMFT reader: a written dataset decodes back to its known masks; the catalog names datasets;
// every kind of bad input is an error naming the file and the problem.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { lookupDataset } from '../../src/data/catalog.js';
import { DataError } from '../../src/data/errors.js';
import { decodeRgb } from '../../src/data/images.js';
import { decodeSample, PmftDataset } from '../../src/data/pmft.js';
import { finalMask, imageTensor, rawMaskTensor, resizeBilinear, semMask } from '../../src/data/sem_mask.js';
import { writeSyntheticDataset } from '../../src/synth/patch/dataset.js';
import * as torch from '../../src/torch/index.js';
import { type MiniDataset, writeMiniDataset } from '../helpers/pmft_dataset.js';

let mini: MiniDataset;
before(async () => {
  mini = await writeMiniDataset({ count: 5, trainCount: 3 });
});
after(() => rmSync(mini.dir, { recursive: true, force: true }));

/** A fresh copy of the mini dataset's files to break, so tests do not affect each other. */
async function scratch(): Promise<MiniDataset> {
  return writeMiniDataset({ count: 3, trainCount: 2 });
}

test('round trip: the split lists its samples and each decodes to its known raw mask and pixels', async () => {
  const ds = PmftDataset.open(mini.root);
  assert.deepEqual(ds.sampleList, mini.names);
  const file = ds.splitFile(mini.split);
  assert.equal(file, join(mini.root, `${mini.split}_fewshot100`, 'dataset_split.csv'));
  assert.deepEqual(
    ds.readSplit(file, 'train').map((s) => s.name),
    mini.train,
  );
  const val = ds.readSplit(file, 'val');
  assert.deepEqual(
    val.map((s) => s.name),
    mini.val,
  );
  for (const files of val) {
    const d = await decodeSample(files, ds.cls2clr, ds.metaInfo);
    assert.deepEqual([d.image.width, d.image.height], [mini.width, mini.height]);
    assert.deepEqual(d.mask, mini.truth.get(files.name));
    // JPEG quality 95: on average within a grey level or two of the encoded pixels.
    const src = mini.pixels.get(files.name)!;
    const meanErr = d.image.data.reduce((m, v, i) => m + Math.abs(v - src[i]!), 0) / src.length;
    assert.ok(meanErr < 2, `mean JPEG error ${meanErr}`);
    torch.tidy(() => {
      const size = [16, 20] as const;
      const target = semMask(rawMaskTensor(d.mask, mini.height, mini.width), size);
      const expected = finalMask(resizeBilinear(rawMaskTensor(mini.truth.get(files.name)!, mini.height, mini.width), size));
      assert.deepEqual(target.shape, [4, 16, 20]);
      assert.equal(target.sub(expected).abs().max().item(), 0);
      const image = resizeBilinear(imageTensor(d.image), size);
      assert.deepEqual(image.shape, [3, 16, 20]);
      assert.ok(image.min().item() >= 0 && image.max().item() <= 1);
    });
  }
});

test('images may be in hsi/ (what the reference code reads) instead of jpg/', async () => {
  const m = await writeMiniDataset({ count: 2, trainCount: 1, imageDir: 'hsi' });
  const ds = PmftDataset.open(m.root);
  const [s] = ds.readSplit(ds.splitFile(m.split), 'train');
  assert.equal(s!.image, join(m.root, 'hsi', `${m.names[0]}.jpg`));
  rmSync(m.dir, { recursive: true, force: true });
});

test('a synthetic dataset (src/synth/patch) reads strictly: every colour is in its table, every split sample decodes', async () => {
  const dir = join(mini.dir, 'synth');
  await writeSyntheticDataset(dir, { count: 3, seed: 2, size: 48 });
  const ds = PmftDataset.open(dir);
  const file = ds.splitFile('splits/fewer/fewer_test30');
  const samples = [...ds.readSplit(file, 'train'), ...ds.readSplit(file, 'val')];
  assert.deepEqual(samples.map((s) => s.name).sort(), [...ds.sampleList].sort());
  for (const s of samples) {
    const d = await decodeSample(s, ds.cls2clr, ds.metaInfo);
    assert.deepEqual([d.image.width, d.image.height], [48, 48]);
    assert.ok(
      d.mask.subarray(0, 48 * 48).some((v) => v === 1),
      'some villus',
    );
  }
});

test('catalog: a dataset name resolves to its root (relative to the catalog file) and split prefix', () => {
  const e = lookupDataset('mini', mini.catalog);
  assert.deepEqual(e, { name: 'mini', root: mini.root, split: mini.split });
  assert.throws(() => lookupDataset('mimi', mini.catalog), /no dataset 'mimi' \(did you mean 'mini'\?\)/);
  const repo = lookupDataset('placenta_dataset');
  assert.match(repo.root, /data[/\\]dataset[/\\]placenta_dataset$/);
  assert.equal(repo.split, 'splits/fewer/fewer_test30');
});

async function expectDataError(p: Promise<unknown> | (() => unknown), file: string, problem: RegExp): Promise<void> {
  const check = (err: unknown): boolean => {
    assert.ok(err instanceof DataError, String(err));
    assert.ok(err.message.includes(file), `'${err.message}' does not name ${file}`);
    assert.match(err.message, problem);
    return true;
  };
  if (typeof p === 'function') assert.throws(p, check);
  else await assert.rejects(p, check);
}

test('bad input: a truncated or unreadable image is an error naming the file', async () => {
  const m = await scratch();
  const ds = PmftDataset.open(m.root);
  const [a, b] = ds.readSplit(ds.splitFile(m.split), 'train');
  const jpeg = readFileSync(a!.image);
  writeFileSync(a!.image, jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  await expectDataError(decodeSample(a!, ds.cls2clr, ds.metaInfo), a!.image, /cannot decode image/);
  writeFileSync(b!.image, 'not an image at all');
  await expectDataError(decodeSample(b!, ds.cls2clr, ds.metaInfo), b!.image, /cannot decode image/);
  const png = readFileSync(b!.seml1);
  writeFileSync(b!.seml1, png.subarray(0, png.length - 20));
  await expectDataError(decodeRgb(b!.seml1), b!.seml1, /cannot decode image/);
  rmSync(b!.seml0);
  await expectDataError(decodeRgb(b!.seml0), b!.seml0, /cannot decode image/);
  rmSync(m.dir, { recursive: true, force: true });
});

test('bad input: a label colour not in the table is an error naming file, pixel and colour', async () => {
  const m = await scratch();
  const ds = PmftDataset.open(m.root);
  const [a] = ds.readSplit(ds.splitFile(m.split), 'train');
  const { data, info } = await sharp(a!.seml1).raw().toBuffer({ resolveWithObject: true });
  data.set([9, 8, 7], (2 * info.width + 5) * 3);
  await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
    .png()
    .toFile(`${a!.seml1}.tmp.png`);
  renameSync(`${a!.seml1}.tmp.png`, a!.seml1);
  await expectDataError(
    decodeSample(a!, ds.cls2clr, ds.metaInfo),
    a!.seml1,
    /RGB \(9, 8, 7\) .* at pixel x=5, y=2 is not in the class table/,
  );
  rmSync(m.dir, { recursive: true, force: true });
});

test('bad input: image and label sizes must match', async () => {
  const m = await scratch();
  const ds = PmftDataset.open(m.root);
  const [a] = ds.readSplit(ds.splitFile(m.split), 'train');
  await sharp(a!.seml0)
    .resize(m.width + 1, m.height)
    .png()
    .toFile(`${a!.seml0}.tmp.png`);
  renameSync(`${a!.seml0}.tmp.png`, a!.seml0);
  await expectDataError(
    decodeSample(a!, ds.cls2clr, ds.metaInfo),
    a!.seml0,
    new RegExp(`label size ${m.width + 1}x${m.height} does not match the image`),
  );
  rmSync(m.dir, { recursive: true, force: true });
});

test('bad input: a missing split file, a missing sample, a path escaping the dataset root, a repeated sample', async () => {
  const m = await scratch();
  const ds = PmftDataset.open(m.root);
  const missing = ds.splitFile(m.split, 50);
  await expectDataError(() => ds.readSplit(missing, 'train'), missing, /split file not found/);
  const file = ds.splitFile(m.split);
  const write = (rows: string) => writeFileSync(file, `,train,val\n${rows}\n`);
  write(`0,${m.names[0]},${m.names[2]}\n1,nosuch,`);
  await expectDataError(() => ds.readSplit(file, 'train'), file, /row 3, column train\): sample 'nosuch' has no image/);
  rmSync(join(m.root, 'ann', `${m.names[2]}_seml1.png`));
  await expectDataError(
    () => ds.readSplit(file, 'val'),
    file,
    new RegExp(`sample '${m.names[2]}' is missing its label layer .*_seml1\\.png`),
  );
  for (const bad of ['../x', '../../etc/passwd', '/etc/passwd', 'a/../../x']) {
    write(`0,${bad},`);
    await expectDataError(() => ds.readSplit(file, 'train'), file, /escapes its dataset folder/);
  }
  write(`0,${m.names[0]},\n1,${m.names[0]},`);
  await expectDataError(() => ds.readSplit(file, 'train'), file, /listed twice \(also row 2\)/);
  write(`0,${m.names[0]}`);
  await expectDataError(() => ds.readSplit(file, 'test' as 'val'), file, /no column 'test'/);
  await expectDataError(() => ds.splitFile('../outside'), 'dataset split', /escapes/);
  rmSync(m.dir, { recursive: true, force: true });
});

test('bad input: a dataset folder without meta_info.json or sample_list.csv', async () => {
  const m = await scratch();
  rmSync(join(m.root, 'sample_list.csv'));
  await expectDataError(() => PmftDataset.open(m.root), join(m.root, 'sample_list.csv'), /missing/);
  rmSync(join(m.root, 'meta_info.json'));
  await expectDataError(() => PmftDataset.open(m.root), join(m.root, 'meta_info.json'), /missing/);
  mkdirSync(join(m.dir, 'empty'));
  await expectDataError(() => PmftDataset.open(join(m.dir, 'nope')), join(m.dir, 'nope'), /dataset folder not found/);
  rmSync(m.dir, { recursive: true, force: true });
});

// Few-shot splits: a seeded, deterministic choice of each share of the training samples, nested
// across shares, written once (atomically) and reused.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { chooseFewshot, ensureFewshotSplits, fewshotCount } from '../../src/data/fewshot.js';
import { PmftDataset } from '../../src/data/pmft.js';
import { writeMiniDataset } from '../helpers/pmft_dataset.js';

const names = Array.from({ length: 200 }, (_, i) => `case${i}`);
const PERCS = [1, 5, 10, 20, 50, 100];

test('fewshotCount: round(P% of n), at least one, at most n; bad percentages are errors', () => {
  assert.deepEqual(
    PERCS.map((p) => fewshotCount(200, p)),
    [2, 10, 20, 40, 100, 200],
  );
  assert.equal(fewshotCount(7, 10), 1);
  assert.equal(fewshotCount(7, 30), 2);
  for (const bad of [0, -5, 101, Number.NaN]) assert.throws(() => fewshotCount(10, bad), /few-shot percentage must be in \(0, 100\]/);
});

test('chooseFewshot: same seed same subset, nested across percentages, original order kept', () => {
  const sets = PERCS.map((p) => chooseFewshot(names, p, 1234));
  assert.deepEqual(
    PERCS.map((p) => chooseFewshot(names, p, 1234)),
    sets,
  );
  for (let i = 1; i < sets.length; i++) {
    const larger = new Set(sets[i]);
    assert.ok(
      sets[i - 1]!.every((n) => larger.has(n)),
      `${PERCS[i - 1]}% not inside ${PERCS[i]}%`,
    );
  }
  assert.deepEqual(sets.at(-1), names);
  for (const s of sets)
    assert.deepEqual(
      s,
      [...s].sort((a, b) => names.indexOf(a) - names.indexOf(b)),
    );
  const other = chooseFewshot(names, 10, 4321);
  assert.notDeepEqual(other, sets[2]);
  // A seeded choice, not a prefix: the 10% subset spreads over the list.
  assert.ok(sets[2]!.some((n) => names.indexOf(n) >= 100));
});

test('ensureFewshotSplits: writes missing split files once, from the full split, and reuses them', async () => {
  const m = await writeMiniDataset({ count: 12, trainCount: 10, height: 8, width: 8 });
  const ds = PmftDataset.open(m.root);
  const files = ensureFewshotSplits(ds, m.split, [20, 50, 100], 1234);
  assert.equal(files.get(100), ds.splitFile(m.split, 100));
  const train20 = ds.readSplit(files.get(20)!, 'train').map((s) => s.name);
  const train50 = ds.readSplit(files.get(50)!, 'train').map((s) => s.name);
  assert.deepEqual(train20, chooseFewshot(m.train, 20, 1234));
  assert.equal(train20.length, 2);
  assert.equal(train50.length, 5);
  assert.ok(train20.every((n) => train50.includes(n)));
  assert.deepEqual(
    ds.readSplit(files.get(20)!, 'val').map((s) => s.name),
    m.val,
  );
  assert.deepEqual(readdirSync(dirname(files.get(20)!)), ['dataset_split.csv'], 'no temporary files left');
  // An existing split file is used as it is (a hand-made or earlier one is never overwritten).
  const mine = `train,val\n${m.train[9]},${m.val[0]}\n`;
  writeFileSync(files.get(20)!, mine);
  ensureFewshotSplits(ds, m.split, [20], 99);
  assert.equal(readFileSync(files.get(20)!, 'utf8'), mine);
  rmSync(ds.splitFile(m.split, 100));
  assert.throws(() => ensureFewshotSplits(ds, m.split, [10], 1234), /_fewshot100[/\\]dataset_split\.csv: split file not found/);
  rmSync(m.dir, { recursive: true, force: true });
});

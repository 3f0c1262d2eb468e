// The decode pool hands jobs out without waiting for replies (a training step keeps the main thread, which hands
// them out, busy for 100-200 ms), up to JOBS_PER_WORKER per worker, and every job comes back with its own sample.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { DecodePool, JOBS_PER_WORKER } from '../../src/data/decode_pool.js';
import { PmftDataset } from '../../src/data/pmft.js';
import { type MiniDataset, writeMiniDataset } from '../helpers/pmft_dataset.js';

let mini: MiniDataset;
before(async () => {
  mini = await writeMiniDataset({ count: 20, trainCount: 20, height: 12, width: 10 });
});
after(() => rmSync(mini.dir, { recursive: true, force: true }));

test('jobs go to the least busy worker, up to JOBS_PER_WORKER each, the rest queue; each reply is its own sample', async () => {
  const ds = PmftDataset.open(mini.root);
  const samples = ds.readSplit(ds.splitFile(mini.split), 'train');
  const pool = new DecodePool(2, ds.cls2clr, ds.metaInfo);
  try {
    const n = 2 * JOBS_PER_WORKER + 4;
    const wanted = Array.from({ length: n }, (_, i) => samples[i % samples.length]!);
    const decoded = wanted.map((s) => pool.decode(s));
    // Handed out synchronously, before any reply can arrive.
    assert.deepEqual(pool.jobs(), { running: [JOBS_PER_WORKER, JOBS_PER_WORKER], queued: 4 });
    const done = await Promise.all(decoded);
    done.forEach((d, i) => {
      const name = wanted[i]!.name;
      assert.equal(d.name, name);
      assert.deepEqual([d.image.width, d.image.height], [mini.width, mini.height]);
      assert.deepEqual([...d.mask], [...mini.truth.get(name)!], `${name}: its own labels`);
    });
    assert.deepEqual(pool.jobs(), { running: [0, 0], queued: 0 });
  } finally {
    await pool.close();
  }
});

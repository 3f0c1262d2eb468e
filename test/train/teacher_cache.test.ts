// The stage II teacher-embedding cache: used only when no augmentation draws at random; an image's
// embedding is computed once, read back bit for bit afterwards, and dropped when the teacher changes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseConfig } from '../../src/config/index.js';
import * as torch from '../../src/torch/index.js';
import { drawsAtRandom, TeacherEmbeddingCache } from '../../src/train/teacher_cache.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const block = (yaml: string) => parseConfig(`train:\n  augment: ${yaml}`).train.augment;

test('which augment blocks draw at random', () => {
  assert.equal(drawsAtRandom(block('{Flip: {h: true, v: true}, Affine: {p: 1}, Resize: {size: [64, 64]}}')), true, 'the reference block');
  assert.equal(drawsAtRandom(block('{Resize: {size: [64, 64]}}')), false);
  assert.equal(drawsAtRandom(block('{HEBDecompose: {use: true}, Resize: {size: [64, 64]}}')), false, 'a fixed colour transform');
  assert.equal(drawsAtRandom(block('{Flip: {h: false, v: false}, Affine: {p: 0}}')), false);
  assert.equal(drawsAtRandom(block('{Flip: {h: false, v: true}}')), true);
  assert.equal(drawsAtRandom(block('{HEDJitter: {use: true}}')), true);
  assert.equal(drawsAtRandom(block('{BrightnessContrast: {use: false}}')), false);
});

test('an embedding is computed once, read back equal, and recomputed for another teacher', () => {
  let calls = 0;
  const compute = (values: number[]) => () => {
    calls++;
    return torch.tensor(values).view(values.length, 1, 1, 1).expand([values.length, 2, 3, 3]).contiguous();
  };
  const cache = new TeacherEmbeddingCache(dir, 'teacher-1');
  const first = cache.embeddings(['a', 'b'], 'cpu', compute([1.5, -2.25]));
  assert.equal(calls, 1);
  const again = cache.embeddings(['b', 'a'], 'cpu', compute([9, 9]));
  assert.equal(calls, 1, 'both cached: not computed');
  assert.deepEqual(again.shape, [2, 2, 3, 3]);
  assert.ok(torch.tidy(() => again.select(0, 0).equal(first.select(0, 1)) && again.select(0, 1).equal(first.select(0, 0))));
  // One new image in the batch: the batch is computed, and the new one stored.
  cache.embeddings(['a', 'c'], 'cpu', compute([7, 8])).dispose();
  assert.equal(calls, 2);
  const c = cache.embeddings(['c'], 'cpu', compute([0]));
  assert.equal(calls, 2);
  assert.equal(c.max().item(), 8);
  // The same folder for another teacher: nothing cached any more.
  const other = new TeacherEmbeddingCache(dir, 'teacher-2');
  other.embeddings(['a'], 'cpu', compute([3])).dispose();
  assert.equal(calls, 3);
  torch.dispose([first, again, c]);
});

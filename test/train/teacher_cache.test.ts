// The stage II teacher-embedding cache: refused when an augmentation draws at random; an image's
// embedding is computed once, read back bit for bit afterwards, and dropped when the teacher changes.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseConfig } from '../../src/config/index.js';
import { buildAugmentations } from '../../src/data/augment.js';
import * as torch from '../../src/torch/index.js';
import { TeacherEmbeddingCache } from '../../src/train/teacher_cache.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The augmentations of a train.augment block, as stage II builds them (missing options from the defaults). */
const pipeline = (yaml: string) => buildAugmentations(parseConfig(`train:\n  augment: ${yaml}`).train.augment);
const randomOnes = (yaml: string) =>
  pipeline(yaml)
    .filter((a) => a.random)
    .map((a) => a.name);

test('each augmentation declares whether it draws at random with its options', () => {
  assert.deepEqual(
    randomOnes('{Flip: {h: true, v: true}, Affine: {p: 1}, Resize: {size: [64, 64]}}'),
    ['Flip', 'Affine'],
    'the reference block',
  );
  assert.deepEqual(randomOnes('{Resize: {size: [64, 64]}}'), []);
  assert.deepEqual(randomOnes('{HEBDecompose: {use: true}, Resize: {size: [64, 64]}}'), [], 'a fixed colour transform');
  assert.deepEqual(randomOnes('{Flip: {h: false, v: false}, Affine: {p: 0}}'), []);
  assert.deepEqual(randomOnes('{Flip: {h: false, v: true}}'), ['Flip']);
  assert.deepEqual(randomOnes('{Flip: null, Affine: null}'), ['Flip', 'Affine'], 'the defaults draw');
  assert.deepEqual(randomOnes('{HEDJitter: {use: true}}'), ['HEDJitter']);
  assert.deepEqual(randomOnes('{BrightnessContrast: {use: false}}'), []);
});

test('the cache refuses a random pipeline, naming the augmentation, before touching the run folder', () => {
  const run = join(dir, 'refused');
  assert.throws(
    () => new TeacherEmbeddingCache(run, 'teacher-1', pipeline('{Resize: {size: [64, 64]}, HEDJitter: {use: true}}'), 'distill.yaml'),
    /^Error: distill\.yaml: train\.cache_teacher_embeddings needs train\.augment without randomness, but HEDJitter draws at random/,
  );
  assert.throws(
    () => new TeacherEmbeddingCache(run, 'teacher-1', pipeline('{Flip: {h: true, v: false}, Affine: {p: 0.5}}'), 'x.yaml'),
    /Flip, Affine draw at random/,
  );
  assert.equal(existsSync(run), false);
});

test('an embedding is computed once, read back equal, and recomputed for another teacher', () => {
  let calls = 0;
  const compute = (values: number[]) => () => {
    calls++;
    return torch.tensor(values).view(values.length, 1, 1, 1).expand([values.length, 2, 3, 3]).contiguous();
  };
  const fixed = pipeline('{Resize: {size: [64, 64]}}');
  const cache = new TeacherEmbeddingCache(dir, 'teacher-1', fixed, 'distill.yaml');
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
  const other = new TeacherEmbeddingCache(dir, 'teacher-2', fixed, 'distill.yaml');
  other.embeddings(['a'], 'cpu', compute([3])).dispose();
  assert.equal(calls, 3);
  torch.dispose([first, again, c]);
});

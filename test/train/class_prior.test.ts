// The decoder's initial logits start at the training split's class prior log-odds (src/train/class_prior.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import type { Batch, DataLoader } from '../../src/data/loader.js';
import { buildStudent, buildTeacher } from '../../src/models/build.js';
import * as torch from '../../src/torch/index.js';
import { classFrequencies, initLogitsFromPriors, priorLogits } from '../../src/train/class_prior.js';
import { repoRoot } from '../helpers/fixtures.js';

/** A loader over fixed masks: each batch is [B, 4, 4, 4] with the given per-class pixel counts in every image. */
function fakeLoader(batches: { b: number; counts: number[] }[]): DataLoader {
  return {
    async *epoch(): AsyncGenerator<Batch> {
      for (const { b, counts } of batches) {
        const mask = torch.zeros([b, 4, 4, 4]);
        counts.forEach((n, c) => {
          if (n > 0) mask.select(1, c).view(b, 16).narrow(1, 0, n).fill_(1);
        });
        yield { image: torch.zeros([b, 3, 4, 4]), sem_mask: mask, names: Array.from({ length: b }, (_, i) => `s${i}`) };
      }
    },
  } as unknown as DataLoader;
}

const logit = (p: number) => Math.log(p / (1 - p));

test('priorLogits is log(p / (1 - p)), clamped so an absent or ubiquitous class stays finite', () => {
  const [half, tenth, none, all] = priorLogits([0.5, 0.1, 0, 1]);
  assert.equal(half, 0);
  assert.ok(Math.abs(tenth! - Math.log(1 / 9)) < 1e-12);
  assert.ok(Math.abs(none! - logit(1e-4)) < 1e-12);
  assert.ok(Math.abs(all! - logit(1 - 1e-4)) < 1e-12);
});

test('classFrequencies counts every pixel of every batch, the short last batch included', async () => {
  // 2 images with counts [16, 4, 0, 8] of 16 pixels, then 1 image with [8, 0, 0, 8]: 48 pixels in all.
  const f = await classFrequencies(
    fakeLoader([
      { b: 2, counts: [16, 4, 0, 8] },
      { b: 1, counts: [8, 0, 0, 8] },
    ]),
  );
  assert.deepEqual(f, [40 / 48, 8 / 48, 0, 24 / 48]);
});

test("initLogitsFromPriors sets the teacher's and the student's init_masks, and nothing else", async () => {
  const configs = join(repoRoot(), 'configs');
  const loader = fakeLoader([{ b: 2, counts: [12, 4, 2, 1] }]);
  const want = [12, 4, 2, 1].map((n) => logit(n / 16));
  torch.manual_seed(0);
  for (const net of [
    buildTeacher(loadConfig(join(configs, 'tiny-multimodel2s.yaml'))),
    buildStudent(loadConfig(join(configs, 'tiny-mobilesam.yaml'))),
  ]) {
    const before = new Map([...net.state_dict()].map(([k, v]) => [k, v.clone()]));
    const got = await initLogitsFromPriors(net, loader);
    assert.deepEqual(got, want);
    for (const [k, v] of net.state_dict()) {
      const changed = torch.tidy(() => !v.equal(before.get(k)!));
      assert.equal(changed, k.endsWith('prompt_encoder.init_masks.weight'), k);
      if (changed) for (const [c, x] of v.toArray().entries()) assert.ok(Math.abs(x - want[c]!) < 1e-6, `${k}[${c}]`);
    }
    torch.dispose([...before.values()]);
    net.dispose();
  }
});

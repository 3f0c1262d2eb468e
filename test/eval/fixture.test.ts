// The metrics fixture through its kind: every stored per-image score and summary value reproduced
// within the README's tolerances, with mmfd's hausdorff_max standing for the reference's "hd95".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFixture, loadFixture } from '../../src/parity/check.js';
import '../../src/parity/kinds.js';
import { run } from '../../src/parity/metrics.js';
import * as torch from '../../src/torch/index.js';
import { fixture } from '../helpers/fixtures.js';

test('metrics fixture: every stored output within tolerance; the distances and num_imgs exactly', async () => {
  const { kind, lines, ok } = await checkFixture(fixture('metrics'));
  assert.equal(kind, 'metrics');
  const failed = lines.filter((l) => !l.ok).map((l) => `${l.name}: diff ${l.diff} (${l.tolerance}) ${l.note ?? ''}`);
  assert.ok(ok, `failing outputs:\n${failed.join('\n')}`);
  assert.equal(lines.length, 23); // 22 stored outputs + the summary key check
  for (const name of ['per_image.hd95', 'summary.hd95', 'summary.hd95_mean', 'summary.num_imgs']) {
    assert.equal(lines.find((l) => l.name === name)?.diff, 0, name);
  }
});

test('metrics fixture: the NaN of the GT-only-empty class and the 1 of the empty/empty class', () => {
  const f = loadFixture(fixture('metrics'));
  const { outputs } = run(f);
  const hd = outputs.get('per_image.hd95')!.toArray();
  const iou = outputs.get('per_image.iou')!.toArray();
  // config.json special_cases: (image 0, class 2) empty in both, (image 1, class 1) empty in the GT only.
  assert.equal(iou[0 * 4 + 2], 1);
  assert.equal(hd[0 * 4 + 2], 0);
  assert.ok(Number.isNaN(hd[1 * 4 + 1]!));
  assert.equal(hd.filter(Number.isNaN).length, 1);
  torch.dispose([outputs, f.inputs, f.outputs]);
});

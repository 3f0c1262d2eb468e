// The label-image contract (data/classes.ts) against the format the README documents for labels.tif and the
// synthetic ground truth: 1 villus, 2 fibrin, 4 capillary, 8 trophoblast aggregation, 16 tissue. Label files
// already written depend on these values, so reordering the class table must fail here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLASS_BITS, CLASS_STYLES, FINAL_CLASSES, LABEL_BITS, LABEL_CLASSES, NUM_FINAL, TISSUE_BIT } from '../../src/data/classes.js';

test('label bits are the documented flags', () => {
  assert.deepEqual({ ...LABEL_BITS }, { villus: 1, fibrin: 2, capillary: 4, aggregate: 8, tissue: 16 });
  assert.equal(TISSUE_BIT, 16);
  assert.equal(CLASS_BITS, 15);
  assert.equal(NUM_FINAL, 4);
});

test('the label table and the export styles agree with the class table', () => {
  assert.deepEqual(
    LABEL_CLASSES.map((c) => [c.value, c.name]),
    [
      [1, 'Villus'],
      [2, 'Fibrin Deposit'],
      [4, 'Capillary'],
      [8, 'Trophoblast Aggregation'],
      [16, 'Tissue section'],
    ],
  );
  for (const [c, f] of FINAL_CLASSES.entries()) {
    assert.deepEqual(CLASS_STYLES[c], { index: c, bit: LABEL_CLASSES[c]!.value, name: f.display, colour: f.colour });
    assert.equal(LABEL_CLASSES[c]!.colour, f.colour);
  }
});

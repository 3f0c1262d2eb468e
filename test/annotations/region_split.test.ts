// The split by region: regions whose boxes grown by one patch meet are one group (also through a chain), an extra
// patch belongs to the region holding or nearest its centre, and whole groups go to val, about 30%, seeded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { regionAt, regionGroups, splitByGroup } from '../../src/annotations/region_split.js';

test('regions within two patches of each other are one group, also through a chain', () => {
  const boxes: [number, number, number, number][] = [
    [0, 0, 100, 100],
    [150, 0, 250, 100], // 50 from the first: grown by 30 each, they meet
    [310, 0, 400, 100], // 60 from the second: grown boxes touch only, apart
    [1000, 1000, 1100, 1100],
  ];
  assert.deepEqual(regionGroups(boxes, 30), [0, 0, 2, 3]);
  assert.deepEqual(regionGroups(boxes, 31), [0, 0, 0, 3]);
  assert.equal(regionAt(boxes, 50, 50), 0);
  assert.equal(regionAt(boxes, 900, 950), 3);
});

test('whole groups go to val, near 30%, seeded; one group falls back to a per-patch split', () => {
  const samples = Array.from({ length: 36 }, (_, i) => ({ name: `p${String(i).padStart(2, '0')}`, group: `g${i % 6}` }));
  const s = splitByGroup(samples, 11);
  assert.equal(s.perPatch, false);
  const groupOf = new Map(samples.map((x) => [x.name, x.group]));
  const [tg, vg] = [s.train, s.val].map((names) => new Set(names.map((n) => groupOf.get(n))));
  assert.deepEqual(
    [...vg!].filter((g) => tg!.has(g)),
    [],
  );
  assert.equal(s.train.length + s.val.length, 36);
  assert.equal(s.val.length, 12, 'six groups of 6: two (12) are nearest 30% (10.8)');
  assert.deepEqual(splitByGroup(samples, 11), s);
  const one = splitByGroup(
    samples.map((x) => ({ ...x, group: 'g' })),
    11,
  );
  assert.equal(one.perPatch, true);
  assert.equal(one.val.length, Math.round(0.3 * 36));
});

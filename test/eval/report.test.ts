// eval_results.json in the reference's save_results text (Python json.dumps, sort_keys, indent 4,
// separators (',', ':')), and the Markdown and CSV tables, written atomically into a folder.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Summary } from '../../src/eval/evaluator.js';
import { pythonFloat, pythonJson } from '../../src/eval/python_json.js';
import { csvTable, markdownTable, writeReport } from '../../src/eval/report.js';

test("pythonFloat writes Python's repr", () => {
  // Expected strings are Python 3's repr() of the same doubles.
  const cases: [number, string][] = [
    [1, '1.0'],
    [0, '0.0'],
    [0.1, '0.1'],
    [1e-4, '0.0001'],
    [0.00012345, '0.00012345'],
    [1e-5, '1e-05'],
    [-2.5e-7, '-2.5e-07'],
    [4.7551119292110755e-11, '4.7551119292110755e-11'],
    [1e15, '1000000000000000.0'],
    [1e16, '1e+16'],
    [123456789012345680, '1.2345678901234568e+17'],
    [1 / 3, '0.3333333333333333'],
  ];
  for (const [x, text] of cases) assert.equal(pythonFloat(x), text, String(x));
});

test('pythonJson matches json.dumps(d, sort_keys=True, indent=4, separators=(",", ":"))', () => {
  const d = { num_imgs: 2, dice: [0.5, 1.0, 1e-5, 1e16], dice_mean: 0.25, MIoU_0_L0: 0.1, MIoU_mean_L0: 2 / 3, b: [] };
  // Printed by Python 3 for the same dict.
  const python = [
    '{',
    '    "MIoU_0_L0":0.1,',
    '    "MIoU_mean_L0":0.6666666666666666,',
    '    "b":[],',
    '    "dice":[',
    '        0.5,',
    '        1.0,',
    '        1e-05,',
    '        1e+16',
    '    ],',
    '    "dice_mean":0.25,',
    '    "num_imgs":2',
    '}',
  ].join('\n');
  assert.equal(pythonJson(d, new Set(['num_imgs'])), python);
  assert.equal(
    pythonJson({ x: Number.NaN, y: [Number.POSITIVE_INFINITY] }, new Set()),
    '{\n    "x":null,\n    "y":[\n        null\n    ]\n}',
  );
});

const SUMMARY: Summary = {
  MIoU_0_L0: 0.1,
  MIoU_1_L0: 0.2,
  MIoU_mean_L0: 0.15,
  MIoU_0_L1: 0.5,
  MIoU_1_L1: 0.25,
  MIoU_mean_L1: 0.375,
  dice: [0.6, 0.7],
  dice_mean: 0.65,
  acc: [0.9, 0.8],
  acc_mean: 0.85,
  precision: [0.5, 0.25],
  precision_mean: 0.375,
  recall: [1, 0.125],
  recall_mean: 0.5625,
  fscore: [0.75, 0.2],
  fscore_mean: 0.475,
  hausdorff_max: [12.5, Number.NaN],
  hausdorff_max_mean: Number.NaN,
  hd95_true_px: [3, 4.5],
  hd95_true_px_mean: 3.75,
  pooled_iou: [0.4, Number.NaN],
  pooled_iou_mean: 0.4,
  pooled_dice: [0.8, Number.NaN],
  pooled_dice_mean: 0.8,
  num_imgs: 7,
};
const NAMES = ['villus', 'capillary'];

test('markdown table: one row per class and the mean, the IoU of the last level, n/a where undefined', () => {
  assert.equal(
    markdownTable(SUMMARY, NAMES),
    [
      '| class | IoU (per-image mean) | Dice (per-image mean) | IoU (pooled) | Dice (pooled) | precision | recall | F-score | Hausdorff max (px) | HD95 (px) | HD95 (um) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      '| villus | 0.5000 | 0.6000 | 0.4000 | 0.8000 | 0.5000 | 1.0000 | 0.7500 | 12.50 | 3.00 | n/a |',
      '| capillary | 0.2500 | 0.7000 | n/a | n/a | 0.2500 | 0.1250 | 0.2000 | n/a | 4.50 | n/a |',
      '| mean | 0.3750 | 0.6500 | 0.4000 | 0.8000 | 0.3750 | 0.5625 | 0.4750 | n/a | 3.75 | n/a |',
      '',
      '- per-image mean; an image where neither truth nor prediction has the class scores Dice 0 and IoU 1, as in the reference.',
      '- pooled (dataset-level): intersections and unions summed over all images, then divided (prediction > 0.5, soft truth); n/a for a class no image has in truth or prediction.',
      '',
    ].join('\n'),
  );
});

test('CSV table: full precision, empty cells where undefined, default class names', () => {
  const micron = { ...SUMMARY, hd95_true_um: [0.75, 1.125], hd95_true_um_mean: 0.9375 };
  const classes4 = { ...micron, dice: [0.6, 0.7, 0.1, 1 / 3] };
  const lines = csvTable(classes4).split('\n');
  assert.equal(
    lines[0],
    'class,IoU (per-image mean),Dice (per-image mean),IoU (pooled),Dice (pooled),precision,recall,F-score,Hausdorff max (px),HD95 (px),HD95 (um)',
  );
  assert.equal(lines[1], 'Villus,0.5,0.6,0.4,0.8,0.5,1,0.75,12.5,3,0.75');
  assert.equal(lines[2], 'Fibrin Deposit,0.25,0.7,,,0.25,0.125,0.2,,4.5,1.125');
  assert.equal(lines[4], 'Trophoblast Aggregation,,0.3333333333333333,,,,,,,,');
  assert.equal(lines[5], 'mean,0.375,0.65,0.4,0.8,0.375,0.5625,0.475,,3.75,0.9375');
  assert.equal(lines.length, 7); // header, 4 classes, mean, final newline
});

test('writeReport writes the three files, complete and with no temporary file left', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmfd-report-'));
  try {
    const out = join(dir, 'model', 'result');
    const paths = writeReport(out, SUMMARY, NAMES);
    assert.deepEqual(readdirSync(out).sort(), ['eval_results.json', 'eval_table.csv', 'eval_table.md']);
    assert.deepEqual(
      paths.sort(),
      readdirSync(out)
        .sort()
        .map((f) => join(out, f)),
    );
    const json = readFileSync(join(out, 'eval_results.json'), 'utf8');
    assert.equal(json, pythonJson(SUMMARY, new Set(['num_imgs'])));
    const parsed = JSON.parse(json) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), Object.keys(SUMMARY).sort());
    assert.deepEqual(parsed.hausdorff_max, [12.5, null]);
    assert.deepEqual(parsed.pooled_dice, [0.8, null]);
    assert.match(json, /\n {4}"num_imgs":7,\n/);
    assert.match(json, /\n {4}"recall_mean":0.5625\n}$/);
    assert.match(json, /"recall":\[\n {8}1\.0,\n {8}0\.125\n {4}\]/);
    assert.equal(readFileSync(join(out, 'eval_table.md'), 'utf8'), markdownTable(SUMMARY, NAMES));
    assert.equal(readFileSync(join(out, 'eval_table.csv'), 'utf8'), csvTable(SUMMARY, NAMES));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

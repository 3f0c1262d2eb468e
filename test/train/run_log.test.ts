// The training log: records appended as JSON lines; a resumed run drops the records past its
// checkpoint; a torn last line (a kill mid-write) is ignored, a corrupt earlier one is an error
// naming the file and line; the curves leave out loss terms that are always 0.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type LogRecord, logSeries, RunLog, readLog } from '../../src/train/run_log.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-runlog-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const time = '2025-01-01T00:00:00.000Z';
const train = (iteration: number): LogRecord => ({
  kind: 'train',
  iteration,
  lr: 0.001,
  losses: { total: 3 - iteration / 10, dice: 1, focal: 0 },
  images_per_s: 4,
  time,
});
const val = (iteration: number, miou: number): LogRecord => ({
  kind: 'val',
  iteration,
  miou,
  miou_per_class: [miou, miou, miou, miou],
  time,
});

test('a resumed log keeps the records up to its checkpoint; a torn last line is dropped', () => {
  const path = join(dir, 'resume.jsonl');
  const log = RunLog.fresh(path);
  for (let i = 1; i <= 5; i++) log.append(train(i));
  log.append(val(4, 0.5));
  appendFileSync(path, '{"kind":"train","iterat'); // killed while writing
  assert.equal(readLog(path).length, 6);
  RunLog.resumed(path, 3).append(train(4));
  assert.deepEqual(
    readLog(path).map((r) => `${r.kind}${r.iteration}`),
    ['train1', 'train2', 'train3', 'train4'],
  );
  assert.ok(readFileSync(path, 'utf8').endsWith('}\n'));
  RunLog.fresh(path);
  assert.deepEqual(readLog(path), []);
});

test('a corrupt line before the end is an error naming the file and the line', () => {
  const path = join(dir, 'corrupt.jsonl');
  writeFileSync(path, `${JSON.stringify(train(1))}\nnot json\n${JSON.stringify(train(2))}\n`);
  assert.throws(() => readLog(path), /corrupt\.jsonl: line 2 is not valid JSON/);
});

test('curves: one series per loss term that is not always 0, and the validation mIoU', () => {
  const { losses, validation } = logSeries([train(1), train(2), val(2, 0.25), train(3), val(3, 0.5)]);
  assert.deepEqual(
    losses.map((s) => s.name),
    ['total', 'dice'],
  );
  assert.deepEqual(losses[0]!.points, [
    [1, 2.9],
    [2, 2.8],
    [3, 2.7],
  ]);
  assert.deepEqual(validation, [
    {
      name: 'val mIoU',
      points: [
        [2, 0.25],
        [3, 0.5],
      ],
    },
  ]);
});

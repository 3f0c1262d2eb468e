// The progress line: rewritten in place on a terminal (notes and the end break it), a full line every
// `every` units otherwise, with an ETA from the rate since the (re)start; durations as people read them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, Progress } from '../src/progress.js';

function sink(isTTY: boolean) {
  const writes: string[] = [];
  return {
    writes,
    stream: Object.assign({ write: (s: string) => writes.push(s) > 0 }, { isTTY }) as unknown as NodeJS.WritableStream & { isTTY: boolean },
  };
}

test('on a terminal: one line rewritten in place; a note goes below it', () => {
  const { writes, stream } = sink(true);
  const p = new Progress('train', 10, { stream });
  p.update(1, '| loss 0.5 |');
  p.update(2, '| loss 0.4 |');
  p.note('validation mIoU 0.3');
  p.update(3, '| loss 0.3 |');
  p.end();
  assert.match(writes[0]!, /^\rtrain 1\/10 \(10%\) \| loss 0\.5 \| ETA \d+s/);
  assert.ok(writes[0]!.endsWith('\x1b[K'), 'clears the rest of the terminal line');
  assert.match(writes[1]!, /^\rtrain 2\/10 \(20%\)/);
  assert.deepEqual(writes.slice(2, 4), ['\n', 'validation mIoU 0.3\n']);
  assert.match(writes[4]!, /^\rtrain 3\/10/);
  assert.equal(writes[5], '\n');
});

test('elsewhere: a line every `every` units and at the end, then the total time', () => {
  const { writes, stream } = sink(false);
  const p = new Progress('test', 7, { stream, every: 3 });
  for (let i = 1; i <= 7; i++) p.update(i, '');
  p.end();
  assert.equal(writes.length, 3);
  assert.match(writes[0]!, /^test 3\/7 \(42%\) ETA \d+s\n$/);
  assert.match(writes[1]!, /^test 6\/7 \(85%\) ETA/);
  assert.match(writes[2]!, /^test 7\/7 \(100%\) done in \d+s\n$/);
});

test('the ETA is the time per unit since the (re)start times the units left', () => {
  const p = new Progress('x', 100, { start: 40, stream: sink(false).stream });
  assert.ok(Number.isNaN(p.eta(40)), 'no rate before the first unit');
  const eta = p.eta(50);
  assert.ok(eta >= 0 && eta < 1, `${eta}`);
});

test('durations', () => {
  assert.equal(formatDuration(9.4), '9s');
  assert.equal(formatDuration(75), '1m15s');
  assert.equal(formatDuration(3725), '1h02m');
  assert.equal(formatDuration(Number.NaN), '?');
});

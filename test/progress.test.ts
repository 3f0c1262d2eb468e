// The progress line: rewritten in place on a terminal (notes and the end break it), a full line every
// `every` units otherwise, with an ETA from the rate since the (re)start; durations as people read them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CohortEvent } from '../src/cohort/run.js';
import { cohortProgressPrinter, formatDuration, Progress } from '../src/progress.js';

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

test('the cohort printer: a line per slide event; stages every 10% off a terminal, in place on one', () => {
  const events: CohortEvent[] = [
    { kind: 'slide', index: 0, total: 2, name: 'a', status: 'running', overall: 0 },
    ...[0, 0.04, 0.12, 0.5, 0.55].map(
      (f): CohortEvent => ({ kind: 'progress', index: 0, name: 'a', stage: 'segment', stageFraction: f, overall: f / 2 }),
    ),
    { kind: 'slide', index: 0, total: 2, name: 'a', status: 'done', seconds: 75, overall: 0.5 },
    { kind: 'slide', index: 1, total: 2, name: 'b', status: 'failed', error: 'b.svs: not a slide', overall: 1 },
  ];
  const plain = sink(false);
  const print = cohortProgressPrinter(plain.stream);
  for (const e of events) print(e);
  assert.equal(plain.writes[0], '[1/2] a: started\n');
  assert.deepEqual(
    plain.writes.slice(1, 4).map((w) => w.replace(/ ETA \S+/, '')),
    ['  a: segment 0% | overall 0.0%\n', '  a: segment 12% | overall 6.0%\n', '  a: segment 50% | overall 25.0%\n'],
  );
  assert.match(plain.writes[2]!, / ETA \d/);
  assert.match(plain.writes[4]!, /^\[1\/2\] a: done in 1m15s \| overall 50\.0% ETA \d+s\n$/);
  assert.equal(plain.writes[5], '[2/2] b: FAILED: b.svs: not a slide | overall 100.0%\n');
  assert.equal(plain.writes.length, 6);

  const tty = sink(true);
  const live = cohortProgressPrinter(tty.stream);
  for (const e of events.slice(0, 4)) live(e);
  assert.equal(tty.writes.length, 4, 'every stage update rewrites the line');
  assert.equal(tty.writes[1], '\r  a: segment 0% | overall 0.0%\x1b[K');
  live(events.at(-1)!);
  assert.equal(tty.writes[4], '\n', 'a slide line first ends the live line');
});

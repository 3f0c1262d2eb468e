// The few-shot curve's own process (the demo runs it beside the 100 % stages; demo.test.ts runs it through): a
// failure inside it reaches the parent with the child's message, and stop() ends it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runFewshotBeside } from '../../src/train/fewshot_beside.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-beside-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('an error in the curve rejects its result with the child’s own message', async () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  const run = runFewshotBeside(join(file, 'demo'), { percentages: [5], iterations: 1, pretrainIterations: 1 });
  await assert.rejects(run.result, (err: Error) => {
    assert.match(err.message, /^few-shot curve: /);
    assert.match(err.message, /ENOTDIR/);
    assert.ok(err.message.includes(join(file, 'demo')), err.message);
    return true;
  });
});

test('stop() ends the child; its result rejects naming the signal', async () => {
  const run = runFewshotBeside(join(dir, 'stopped'), { percentages: [5], iterations: 1, pretrainIterations: 1 });
  run.stop();
  await assert.rejects(run.result, /its process ended \(SIGTERM\)/);
});

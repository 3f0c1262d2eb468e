// The demo's second process (beside.ts; demo.test.ts runs it through): a failure inside it reaches the parent with
// the child's own message, and stop() ends it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runBeside } from '../../src/train/beside.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-beside-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const f = { percentages: [5], iterations: 1, pretrainIterations: 1 };

test('an error in the second process rejects both its results with the child’s own message', async () => {
  const missing = join(dir, 'no-such-config.yaml');
  const run = runBeside({ studentConfig: missing, out: join(dir, 'demo'), f });
  for (const result of [run.studentAlone, run.fewshot])
    await assert.rejects(result, (err: Error) => {
      assert.match(err.message, /^beside: /);
      assert.ok(err.message.includes(missing), err.message);
      return true;
    });
});

test('stop() ends the second process; its results reject naming the signal', async () => {
  const run = runBeside({ studentConfig: join(dir, 'any.yaml'), out: join(dir, 'stopped'), f });
  run.stop();
  await assert.rejects(run.studentAlone, /its process ended \(SIGTERM\)/);
  await assert.rejects(run.fewshot, /its process ended \(SIGTERM\)/);
});

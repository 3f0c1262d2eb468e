// The few-shot curve's derived configs: the control teacher is the few-shot teacher with random encoders and
// nothing else changed (what separates "pretrained" from "a bigger model").
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { deriveFewshotConfigs } from '../../src/train/fewshot_workflow.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-fewshot-configs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the control teacher differs from the few-shot teacher only in its model name and random encoders', async () => {
  const files = await deriveFewshotConfigs(dir, { percentages: [5, 30], iterations: 10, control: true });
  assert.ok(files.control);
  const teacher = loadConfig(files.teacher) as Record<string, unknown> & { train: Record<string, unknown> };
  const control = loadConfig(files.control) as typeof teacher;
  assert.equal(teacher.train.load_pretrained, true);
  assert.equal(control.train.load_pretrained, false);
  assert.equal(control.train.freeze_encoders, true);
  assert.equal(control.model, 'tiny-multimodel2s-control-fewshot');
  const rest = (c: typeof teacher) => ({ ...c, model: undefined, train: { ...c.train, load_pretrained: undefined } });
  assert.deepEqual(rest(control), rest(teacher));
  const without = await deriveFewshotConfigs(join(dir, 'plain'), { percentages: [5] });
  assert.equal(without.control, undefined);
});

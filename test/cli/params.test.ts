import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/fixtures.js';

const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const params = (config: string) => {
  const r = spawnSync(process.execPath, [cli, 'params', '--config', join(repoRoot(), 'configs', config), '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { total: number; trainable: number };
};

test("mmfd params: the reference's teacher and student configs build models of the spec's sizes", () => {
  assert.deepEqual(params('multimodel2s-pidinet-plip-d2t512-iter5k-b8.yaml'), { total: 228714428, trainable: 53110560 });
  assert.deepEqual(params('mobilesam-simple-t1i1-iter5k.yaml'), { total: 9676024, trainable: 9676024 });
});

test('mmfd params: trainable counts what training trains (the tiny teacher trains its encoders whole)', () => {
  const { total, trainable } = params('tiny-multimodel2s.yaml');
  assert.equal(trainable, total);
});

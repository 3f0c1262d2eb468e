import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, get, loadConfig, nearest, parseConfig } from '../../src/config/load.js';
import { repoRoot } from '../helpers/fixtures.js';

const configs = join(repoRoot(), 'configs');

test("the reference's three YAML files load unchanged, with their values", () => {
  const t = loadConfig(join(configs, 'multimodel2s-pidinet-plip-d2t512-iter5k-b8.yaml'));
  assert.equal(get(t, 'task'), 'multimodel2s');
  assert.deepEqual(get(t, 'gpus'), [0]); // yacs reads `(0,)` as a tuple
  assert.deepEqual(get(t, 'component.model_list'), ['medsam', 'pidinet', 'plip']);
  assert.equal(get(t, 'component.fuse_token_num'), 512);
  assert.equal(get(t, 'train.rank'), 4);
  assert.deepEqual(Object.keys(get(t, 'train.augment') as object), ['HEBDecompose', 'Flip', 'Affine', 'Resize']);
  assert.deepEqual(Object.keys(get(t, 'val.augment') as object), ['HEBDecompose', 'Resize']);
  const s = loadConfig(join(configs, 'mobilesam-simple-t1i1-iter5k.yaml'));
  assert.equal(get(s, 'task'), 'mobilesam');
  assert.equal(get(s, 'test.input_size'), 224);
  const d = loadConfig(join(configs, 'multimodel2s_distill-pidinet-plip-d2t512-iter5k-b8-lr0001.yaml'));
  assert.equal(get(d, 'train.base_lr'), 1e-3);
  assert.equal(get(d, 'loss.distill_mse_weight'), 10);
  assert.equal((get(d, 'loss.mask_focal_weight') as number[]).length, 5);
  assert.equal(get(d, 'network_t.cfg_file'), 'configs/multimodel2s-pidinet-plip-d2t512-iter5k-b8.yaml');
});

test('an unknown key is an error naming it and the nearest valid key', () => {
  assert.throws(
    () => parseConfig('component:\n  fuse_dept: 2\n', 'x.yaml'),
    (e: Error) =>
      e instanceof ConfigError && e.message === "x.yaml: unknown key 'component.fuse_dept' (did you mean 'component.fuse_depth'?)",
  );
  assert.throws(() => parseConfig('completely_new: 1\n', 'x.yaml'), /unknown key 'completely_new'$/);
  assert.throws(
    () => parseConfig('train:\n  augment:\n    Flipp: {h: true}\n', 'x.yaml'),
    /unknown key 'train\.augment\.Flipp' \(did you mean 'train\.augment\.Flip'\?\)/,
  );
});

test('a wrong type is an error naming the key and the expected type', () => {
  assert.throws(
    () => parseConfig('train:\n  batch_size: eight\n', 'x.yaml'),
    /x\.yaml: 'train\.batch_size' must be a number .* got "eight"/,
  );
  assert.throws(() => parseConfig('component:\n  model_list: medsam\n', 'x.yaml'), /'component\.model_list' must be a list/);
  assert.throws(() => parseConfig('- a\n- b\n', 'x.yaml'), /top level must be a mapping/);
  assert.throws(() => parseConfig('a: [1, 2\n', 'x.yaml'), /not valid YAML/);
  assert.throws(() => loadConfig('/nonexistent/c.yaml'), /c\.yaml: config file not found/);
});

test('defaults fill what a file leaves out; augment blocks are replaced, not merged', () => {
  const c = parseConfig('train:\n  augment:\n    Resize: {size: [64, 64]}\n');
  assert.deepEqual(Object.keys(get(c, 'train.augment') as object), ['Resize']);
  assert.equal(get(c, 'train.warmup_period'), 50);
  assert.equal(get(c, 'component.fuse_softmax_axis'), 'spatial');
  assert.equal(nearest('zzzzzz', ['model', 'task']), undefined);
});

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { ConfigError, defaultConfig, loadConfig, nearest, parseConfig } from '../../src/config/index.js';
import { repoRoot } from '../helpers/fixtures.js';

const configs = join(repoRoot(), 'configs');
const quiet = () => {};

test("the reference's three YAML files load unchanged, with their values", () => {
  const t = loadConfig(join(configs, 'multimodel2s-pidinet-plip-d2t512-iter5k-b8.yaml'), quiet);
  assert.equal(t.task, 'multimodel2s');
  assert.deepEqual(t.gpus, [0]); // yacs reads `(0,)` as a tuple
  assert.deepEqual(t.component.model_list, ['medsam', 'pidinet', 'plip']);
  assert.equal(t.component.fuse_token_num, 512);
  assert.equal(t.train.rank, 4);
  assert.deepEqual(Object.keys(t.train.augment), ['HEBDecompose', 'Flip', 'Affine', 'Resize']);
  assert.deepEqual(t.train.augment.Affine, { scale: [1, 1], translate: [0, 0], rotate: [-360, 360], shear: [0, 0], p: 1 });
  assert.deepEqual(Object.keys(t.val.augment), ['HEBDecompose', 'Resize']);
  const s = loadConfig(join(configs, 'mobilesam-simple-t1i1-iter5k.yaml'), quiet);
  assert.equal(s.task, 'mobilesam');
  assert.equal(s.test.input_size, 224);
  const d = loadConfig(join(configs, 'multimodel2s_distill-pidinet-plip-d2t512-iter5k-b8-lr0001.yaml'), quiet);
  assert.equal(d.train.base_lr, 1e-3);
  assert.equal(d.loss.distill_mse_weight, 10);
  assert.equal(d.loss.mask_focal_weight.length, 5);
  assert.equal(d.network_t.cfg_file, 'configs/multimodel2s-pidinet-plip-d2t512-iter5k-b8.yaml');
});

test('every shipped config loads, and a resolved config written as YAML loads back equal', () => {
  for (const name of readdirSync(configs).filter((f) => f.endsWith('.yaml') && f !== 'datasets.yaml')) {
    const cfg = loadConfig(join(configs, name), quiet);
    assert.deepEqual(parseConfig(stringify(cfg), name), cfg, name);
    assert.deepEqual(parseConfig(JSON.stringify(cfg), name), cfg, name);
  }
});

test('an unknown key is an error naming it and the nearest valid key', () => {
  assert.throws(
    () => parseConfig('component:\n  fuse_dept: 2\n', 'x.yaml'),
    (e: Error) =>
      e instanceof ConfigError && e.message === "x.yaml: unknown key 'component.fuse_dept' (did you mean 'component.fuse_depth'?)",
  );
  assert.throws(() => parseConfig('completely_new: 1\n', 'x.yaml'), /x\.yaml: unknown key 'completely_new'$/);
  assert.throws(
    () => parseConfig('train:\n  augment:\n    Flipp: {h: true}\n', 'x.yaml'),
    /unknown key 'train\.augment\.Flipp' \(did you mean 'train\.augment\.Flip'\?\)/,
  );
  assert.throws(
    () => parseConfig('arch:\n  TINYVIT: {MERGE_STRIDE: [2, 1, 1]}\n', 'x.yaml'),
    /did you mean 'arch\.TINYVIT\.MERGE_STRIDES'\?/,
  );
});

test("the names of Object's own properties are unknown keys like any other", () => {
  for (const [yaml, key] of [
    ['constructor: 1', 'constructor'],
    ['toString: {}', 'toString'],
    ['__proto__: {task: mobilesam}', '__proto__'],
    ['train:\n  hasOwnProperty: 1', 'train.hasOwnProperty'],
    ['train:\n  augment:\n    constructor: {}', 'train.augment.constructor'],
  ]) {
    assert.throws(
      () => parseConfig(`${yaml}\n`, 'x.yaml'),
      (e: Error) => e instanceof ConfigError && e.message.startsWith(`x.yaml: unknown key '${key}'`),
      yaml,
    );
  }
});

test('a wrong type is an error naming the key, what it must be and what it is', () => {
  assert.throws(
    () => parseConfig('train:\n  batch_size: eight\n', 'x.yaml'),
    /x\.yaml: 'train\.batch_size' must be an integer >= 1, got "eight"$/,
  );
  assert.throws(
    () => parseConfig('component:\n  model_list: medsam\n', 'x.yaml'),
    /'component\.model_list' must be a list of encoder names/,
  );
  assert.throws(
    () => parseConfig('component:\n  model_list: [medsam, sam]\n', 'x.yaml'),
    /'component\.model_list\[1\]' must be one of 'medsam', 'pidinet', 'plip', got "sam"/,
  );
  assert.throws(() => parseConfig('train: 3\n', 'x.yaml'), /'train' must be a mapping, got 3/);
  assert.throws(() => parseConfig('resume: maybe\n', 'x.yaml'), /'resume' must be true or false, got "maybe"/);
  assert.throws(() => parseConfig('- a\n- b\n', 'x.yaml'), /top level must be a mapping/);
  assert.throws(() => parseConfig('a: [1, 2\n', 'x.yaml'), /not valid YAML/);
  assert.throws(() => loadConfig('/nonexistent/c.yaml'), /c\.yaml: config file not found/);
});

test('values out of range are errors before anything runs; NaN and infinities are named', () => {
  const message = (yaml: string): string => {
    try {
      parseConfig(yaml, 'x.yaml');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.message;
    }
    assert.fail(`${yaml} loaded`);
  };
  assert.equal(message('input_mpp: 0'), "x.yaml: 'input_mpp' must be a finite number > 0, got 0");
  assert.equal(message('train: {base_lr: .nan}'), "x.yaml: 'train.base_lr' must be a finite number > 0, got NaN");
  assert.equal(message('train: {base_lr: .inf}'), "x.yaml: 'train.base_lr' must be a finite number > 0, got Infinity");
  assert.equal(message('train: {base_lr: -.inf}'), "x.yaml: 'train.base_lr' must be a finite number > 0, got -Infinity");
  assert.equal(message('train: {max_iterations: 0}'), "x.yaml: 'train.max_iterations' must be an integer >= 1, got 0");
  assert.equal(message('img_size: -128'), "x.yaml: 'img_size' must be an integer >= 1 and <= 4096, got -128");
  assert.equal(message('img_size: 1e6'), "x.yaml: 'img_size' must be an integer >= 1 and <= 4096, got 1000000");
  assert.equal(message('fewshot_perc_list: [0]'), "x.yaml: 'fewshot_perc_list[0]' must be a finite number > 0 and <= 100, got 0");
  assert.equal(
    message('train: {warmup_period: 50, max_iterations: 20}'),
    "x.yaml: 'train.warmup_period' must not exceed 'train.max_iterations' (20), got 50",
  );
  // Every problem is listed, one per line.
  assert.deepEqual(message('input_mpp: 0\nseed: -1\nbogus: 1').split('\n').length, 3);
});

test('img_size must fit the patch grid of the network the task builds, and the message says which', () => {
  const teacher = (extra: string) => () => parseConfig(`task: multimodel2s\nimg_size: 100\n${extra}`, 'x.yaml');
  assert.throws(teacher(''), /'img_size' must be divisible by 16 \(arch\.MED_SAM_VIT\.PATCH_SIZE: MedSAM's patches\), got 100/);
  assert.throws(
    teacher("component: {model_list: ['pidinet', 'plip']}"),
    /'img_size' must be divisible by 32 \(arch\.PLIP\.PATCH_SIZE: PLIP's patches\), got 100/,
  );
  const student = (size: number, strides: string) => () =>
    parseConfig(`task: mobilesam\nimg_size: ${size}\narch: {TINYVIT: {MERGE_STRIDES: ${strides}}}`, 'x.yaml');
  assert.throws(student(120, '[2, 2, 1]'), /'img_size' must be divisible by 16 \(arch\.TINYVIT\.MERGE_STRIDES: TinyViT's token grid/);
  assert.equal(student(120, '[2, 1, 1]')().img_size, 120);
  // a config with no task (a partial config, as the tests write) is not tied to a network
  assert.equal(parseConfig('img_size: 100').img_size, 100);
});

test('defaults fill what a file leaves out; augment blocks are replaced, not merged; yacs forms are read', () => {
  const c = parseConfig('train:\n  augment:\n    Resize: {size: [64, 64]}\n');
  assert.deepEqual(c.train.augment, { Resize: { size: [64, 64] } });
  assert.equal(c.train.warmup_period, 50);
  assert.equal(c.component.fuse_softmax_axis, 'spatial');
  assert.deepEqual(parseConfig('train: {augment: {Affine: {scale: 2}, Flip: }}').train.augment, {
    Affine: { scale: [2, 2], translate: [0, 0], rotate: [-360, 360], shear: [0, 0], p: 1 },
    Flip: { h: true, v: true, prob_th: 0.5 },
  });
  const y = parseConfig("gpus: '(0, 1)'\nresume: 0\ncomponent: {fuse_depth: 'none'}");
  assert.deepEqual([y.gpus, y.resume, y.component.fuse_depth], [[0, 1], false, 'none']);
  assert.deepEqual(defaultConfig(), parseConfig(''));
  assert.equal(nearest('zzzzzz', ['model', 'task']), undefined);
});

test('keys accepted for compatibility: one line each when set to a non-default value, saying why they do nothing', () => {
  const lines: string[] = [];
  loadConfig(join(configs, 'mobilesam-simple-t1i1-iter5k.yaml'), (l) => lines.push(l));
  const file = join(configs, 'mobilesam-simple-t1i1-iter5k.yaml');
  assert.ok(
    lines.includes(`${file}: test.input_size: 224 accepted for compatibility, no effect: the network input size is img_size`),
    lines.join('\n'),
  );
  assert.ok(lines.some((l) => l.startsWith(`${file}: vit_name: "vit_b_iter" accepted for compatibility, no effect: `)));
  // keys at their defaults, and keys mmfd acts on (earlystop, the optimizer, the schedule), say nothing
  for (const key of ['gpus', 'earlystop', 'train.AdamW', 'train.scheduler', 'post.required'])
    assert.ok(!lines.some((l) => l.includes(`: ${key}`)), key);
  const doc = parse(stringify(defaultConfig()));
  assert.deepEqual(doc, defaultConfig());
});

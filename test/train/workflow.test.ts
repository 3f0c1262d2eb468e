// The whole workflow on the tiny configs, through the CLI: train the teacher (the built-in synthetic
// dataset generated on first use) -> test it -> distil the student (cached teacher embeddings) ->
// test it -> visualise one image. Checks the files each step leaves and what they hold.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import * as torch from '../../src/torch/index.js';
import { BUILTIN_SYNTHETIC } from '../../src/train/datasets.js';
import { linkBuiltinDatasets, runCli, workspace } from './tiny_run.js';

const TINY = { synth_tiny: 'synth-tiny', synth_tiny_test: 'synth-tiny-test' };
const ws = workspace(TINY, 'mmfd-workflow-');
after(() => rmSync(ws.dir, { recursive: true, force: true }));

const ITERATIONS = 4;
const short = { out_dir: 'out', 'train.max_iterations': ITERATIONS, 'train.warmup_period': 2, save_iter: 2, eval_iter: 2 };
const teacherCfg = ws.config('tiny-multimodel2s.yaml', 'tiny-multimodel2s.yaml', short);
ws.config('tiny-mobilesam.yaml', 'tiny-mobilesam.yaml', {});
const distillCfg = ws.config('tiny-multimodel2s_distill.yaml', 'tiny-multimodel2s_distill.yaml', {
  ...short,
  'train.augment': { Resize: { size: [128, 128] } },
  'train.cache_teacher_embeddings': true,
});
const teacherDir = join(ws.dir, 'out', 'multimodel2s', 'tiny-multimodel2s', 'fewshot_perc100');
const studentDir = join(ws.dir, 'out', 'multimodel2s_distill', 'tiny-multimodel2s_distill', 'fewshot_perc100');
const dataset = join(ws.dir, 'data', 'synth-tiny');
const testDataset = join(ws.dir, 'data', 'synth-tiny-test');

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const split = (root: string) => readFileSync(join(root, 'splits', 'fewer', 'fewer_test30_fewshot100', 'dataset_split.csv'), 'utf8');
/** Images in a split column; the test reads the held-out dataset's val column. */
const count = (column: 'train' | 'val', root = dataset) => {
  const [head, ...rows] = split(root).trim().split('\n');
  const c = head!.split(',').indexOf(column);
  return rows.filter((r) => (r.split(',')[c] ?? '') !== '').length;
};

async function mmfd(...args: string[]): Promise<string> {
  const r = await runCli(args, ws.dir, ws.env);
  assert.equal(r.code, 0, `mmfd ${args.join(' ')}:\n${r.stderr}`);
  return r.stdout + r.stderr;
}

function assertRunFolder(dir: string, testImages: number, base: number): void {
  for (const f of [
    'config_perc100.yaml',
    'last.json',
    'last.safetensors',
    'best.json',
    'best.safetensors',
    'eval_table.md',
    'eval_table.csv',
  ]) {
    assert.ok(existsSync(join(dir, f)), `${dir}/${f}`);
  }
  const results = readJson(join(dir, 'eval_results.json'));
  assert.equal(results.num_imgs, testImages);
  for (const key of [
    'MIoU_mean_L0',
    'dice_mean',
    'precision_mean',
    'recall_mean',
    'fscore_mean',
    'hausdorff_max_mean',
    'hd95_true_px_mean',
  ]) {
    assert.ok(key in results, key);
  }
  for (const key of ['MIoU_0_L0', 'MIoU_3_L0']) assert.ok(results[key] >= 0 && results[key] <= 1, key);
  assert.equal(results.dice.length, 4);
  const vis = readdirSync(join(dir, 'result_dir', 'vis'));
  assert.equal(vis.filter((f) => f.endsWith('_iter0.jpg')).length, testImages, 'the reference overlay of every test image');
  assert.equal(vis.filter((f) => f.endsWith('_composite.png')).length, 4);
  const log = readFileSync(join(dir, 'train_log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    log.map((r) => `${r.kind}${r.iteration}`),
    ['train1', 'train2', 'val2', 'train3', 'train4', 'val4'],
  );
  // The logged learning rates are the schedule's: 2 warm-up iterations, then cosine over the other 2.
  const lr = log.filter((r) => r.kind === 'train').map((r) => r.lr);
  for (const [i, want] of [base / 3, (2 * base) / 3, base, base / 2].entries())
    assert.ok(Math.abs(lr[i] - want) < 1e-15, `lr at iteration ${i}`);
}

describe('train -> test -> distill -> test -> visualize on the tiny configs', () => {
  let trainOutput = '';
  let cache = '';
  before(async () => {
    cache = await linkBuiltinDatasets(ws, TINY);
    trainOutput = await mmfd('train', '--config', teacherCfg);
  });

  test('the built-in datasets, generated on first use (by ensureBuiltinDataset, as training does) from their built-in spec, split 140/60', () => {
    for (const name of Object.keys(TINY)) {
      const meta = readJson(join(cache, name, 'meta_info.json'));
      const spec = BUILTIN_SYNTHETIC[name]!;
      assert.deepEqual([meta.synthetic.seed, meta.synthetic.count, meta.synthetic.size], [spec.seed, spec.count, spec.size], name);
      assert.equal(readdirSync(join(cache, name, 'jpg')).length, spec.count, name);
    }
    assert.deepEqual([count('train'), count('val')], [140, 60]);
    assert.deepEqual([count('train', testDataset), count('val', testDataset)], [140, 60]);
  });

  test('the teacher run: checkpoints, log, curves, results, pictures', async () => {
    assert.doesNotMatch(trainOutput, /synthesising dataset/, 'the datasets exist, so the run does not draw them again');
    assert.match(
      trainOutput,
      /teacher 4\/4 \(100%\) \| total [\d.]+ dice [\d.]+ bce [\d.]+ focal [\d.]+ \| lr [\d.e-]+ \| [\d.]+ img\/s \| done in/,
    );
    assertRunFolder(teacherDir, count('val', testDataset), 3e-4);
    const png = await sharp(join(teacherDir, 'training_curves.png')).metadata();
    assert.equal(png.format, 'png');
    const meta = readJson(join(teacherDir, 'last.json')).meta;
    assert.equal(meta.iteration, ITERATIONS);
    assert.equal(meta.input_mpp, 1, "the tiny config's input_mpp");
    assert.equal(meta.omitted_pretrained, 0, 'no pretrained files: every tensor is saved');
    assert.equal(meta.config.fewshot_perc_list[0], 100);
    // The initial logits start at the training split's prior log-odds and stay there (they never train):
    // villus covers most pixels, the other classes few.
    const printed = /initial logits = class prior log-odds \[([-\d., ]+)\]/.exec(trainOutput)?.[1]?.split(', ').map(Number);
    assert.ok(printed?.length === 4, 'the run prints its initial logits');
    const saved = torch.io.load_checkpoint(join(teacherDir, 'last'));
    const initMasks = saved.state_dict.get('sam.prompt_encoder.init_masks.weight')!.toArray();
    torch.dispose([...saved.state_dict.values()]);
    for (const [c, v] of initMasks.entries())
      assert.ok(Math.abs(v - printed[c]!) <= 0.005, `init_masks[${c}] ${v} vs printed ${printed[c]}`);
    assert.ok(printed[0]! > 0 && printed.slice(1).every((v) => v < 0), `prior log-odds ${printed}`);
  });

  test('--test scores the saved best teacher again, with the same results', async () => {
    const before = readFileSync(join(teacherDir, 'eval_results.json'), 'utf8');
    await mmfd('train', '--config', teacherCfg, '--test');
    assert.equal(readFileSync(join(teacherDir, 'eval_results.json'), 'utf8'), before);
  });

  test('distillation: the student run, its cached teacher embeddings, the teacher decoder copied and frozen', async () => {
    await mmfd('distill', '--config', distillCfg);
    assertRunFolder(studentDir, count('val', testDataset), 1e-3);
    const cached = readdirSync(join(studentDir, 'teacher_embeddings')).filter((f) => f.endsWith('.safetensors'));
    assert.equal(cached.length, Math.min(count('train'), ITERATIONS * 4), 'one embedding per training image seen');
    const teacher = torch.io.load_checkpoint(join(teacherDir, 'best'));
    const student = torch.io.load_checkpoint(join(studentDir, 'last'));
    try {
      const decoderKeys = [...student.state_dict.keys()].filter((k) => k.startsWith('prompt_encoder.') || k.startsWith('mask_decoder.'));
      assert.ok(decoderKeys.length > 10);
      for (const k of decoderKeys)
        assert.ok(
          torch.tidy(() => student.state_dict.get(k)!.equal(teacher.state_dict.get(`sam.${k}`)!)),
          k,
        );
      // Only the encoder trains: the optimizer holds state for image_encoder parameters alone.
      const trained = student.optimizer!.meta as { param_groups: { params: number[] }[] };
      const encoderParams = [...student.state_dict.keys()].filter((k) => k.startsWith('image_encoder.') && !/running_|num_batches/.test(k));
      assert.equal(trained.param_groups[0]!.params.length, encoderParams.length);
    } finally {
      torch.dispose([teacher, student]);
    }
    await mmfd('distill', '--config', distillCfg, '--test');
  });

  test('visualize: the reference overlay and a composite for one image', async () => {
    const image = join(dataset, 'jpg', readdirSync(join(dataset, 'jpg'))[0]!);
    const stem = readdirSync(join(dataset, 'jpg'))[0]!.replace(/\..*$/, '');
    const out = join(ws.dir, 'vis-out');
    await mmfd('visualize', '--config', distillCfg, '--image', image, '--checkpoint', join(studentDir, 'best.json'), '--out', out);
    const overlay = await sharp(join(out, 'result_dir', 'vis', `${stem}_iter0.jpg`)).metadata();
    assert.deepEqual([overlay.format, overlay.width, overlay.height], ['jpeg', 128, 128]);
    const composite = await sharp(join(out, 'result_dir', 'vis', `${stem}_composite.png`)).metadata();
    assert.ok(composite.width! > 2 * 128, 'original | prediction at the image size (128)');
    assert.match(readFileSync(join(out, 'test_log', 'log.txt'), 'utf8'), /task: multimodel2s_distill/);
  });
});

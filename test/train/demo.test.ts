// `mmfd demo` (the README's first command), shortened to 2 iterations per stage and one few-shot percentage: it
// derives its configs, pretrains the encoders and writes their files, trains the teacher on them, distils the student,
// trains the student alone, tests all three and writes the few-shot curve and one HTML report whose tables, curves
// and overlays are the runs' own; a rerun finds every stage finished.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { linkBuiltinDatasets, runCli, workspace } from './tiny_run.js';

const TINY = { synth_tiny: 'synth-tiny', synth_tiny_test: 'synth-tiny-test' };
// The pretraining dataset's name mapped to the small synth_tiny folder: drawing 2,000 slide crops would take a minute.
const ws = workspace({ ...TINY, synth_slide_crops: 'synth-tiny' }, 'mmfd-demo-');
after(() => rmSync(ws.dir, { recursive: true, force: true }));
const out = join(ws.dir, 'demo');
const runs = {
  teacher: join(out, 'exp', 'multimodel2s', 'tiny-multimodel2s', 'fewshot_perc5'),
  student: join(out, 'exp', 'multimodel2s_distill', 'tiny-multimodel2s_distill', 'fewshot_perc5'),
  'student alone': join(out, 'exp', 'mobilesam', 'tiny-mobilesam', 'fewshot_perc5'),
};

async function demo(): Promise<string> {
  const r = await runCli(['demo', '--out', out, '--iterations', '2', '--percentages', '5'], ws.dir, ws.env);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout + r.stderr;
}

describe('mmfd demo', () => {
  let output = '';
  let html = '';
  before(async () => {
    await linkBuiltinDatasets(ws, TINY);
    output = await demo();
    html = readFileSync(join(out, 'report.html'), 'utf8');
  });

  test('derives loadable configs that point at each other and at its own output folder', () => {
    const teacher = loadConfig(join(out, 'configs', 'tiny-multimodel2s.yaml'));
    const distill = loadConfig(join(out, 'configs', 'tiny-multimodel2s_distill.yaml'));
    assert.equal(teacher.out_dir, join(out, 'exp'));
    assert.equal((teacher.train as { max_iterations: number }).max_iterations, 2);
    assert.equal((distill.network_t as { cfg_file: string }).cfg_file, join(out, 'configs', 'tiny-multimodel2s.yaml'));
    assert.equal((distill.network_s as { cfg_file: string }).cfg_file, join(out, 'configs', 'tiny-mobilesam.yaml'));
  });

  test('the teacher loads the pretrained files the pretraining wrote, with its encoders frozen', () => {
    const pretrain = loadConfig(join(out, 'configs', 'tiny-multimodel2s-pretrain.yaml'));
    const teacher = loadConfig(join(out, 'configs', 'tiny-multimodel2s.yaml'));
    assert.equal(pretrain.train.dataset, 'synth_slide_crops');
    assert.deepEqual(teacher.fewshot_perc_list, [5]);
    assert.equal(teacher.train.load_pretrained, true);
    assert.equal(teacher.train.freeze_encoders, true);
    assert.equal(teacher.sam_ckpt, pretrain.sam_ckpt);
    assert.equal(teacher.pretrained.plip_dir, pretrain.pretrained.plip_dir);
    assert.equal(teacher.pretrained.pidinet, pretrain.pretrained.pidinet);
    for (const f of [teacher.sam_ckpt, teacher.pretrained.pidinet, join(teacher.pretrained.plip_dir, 'config.json')]) {
      assert.ok(f.startsWith(join(out, 'pretrained')) && existsSync(f), f);
    }
  });

  test('reports every test score and the report file', () => {
    const score = (name: string) => Number(new RegExp(`${name} at 5 %: test mIoU ([\\d.]+)`).exec(output)?.[1]);
    for (const [name, dir] of Object.entries(runs)) {
      const results = JSON.parse(readFileSync(join(dir, 'eval_results.json'), 'utf8'));
      assert.equal(score(name), Number(results.MIoU_mean_L0.toFixed(3)), name);
    }
    assert.match(output, /report: .*report\.html/);
  });

  test('the report holds every model’s table, curves and overlays of the same images, all linked inside its folder', () => {
    for (const caption of [
      'Teacher and students',
      'teacher (fused MedSAM + PiDiNet + PLIP) at 5 % (7 labelled patches), per class',
      'student (TinyViT, distilled) at 5 % (7 labelled patches), per class',
      'student alone (TinyViT, no teacher) at 5 % (7 labelled patches), per class',
      'Few-shot curve',
    ])
      assert.ok(html.includes(caption), caption);
    for (const cls of ['Villus', 'Fibrin Deposit', 'Capillary', 'Trophoblast Aggregation']) assert.ok(html.includes(cls), cls);
    const sources = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => decodeURIComponent(m[1] as string));
    assert.ok(
      sources.every((s) => !s.startsWith('data:') && existsSync(join(out, s))),
      'relative links to files under the output folder',
    );
    assert.equal(sources.filter((s) => s.endsWith('training_curves.png')).length, 3);
    assert.deepEqual(
      sources.filter((s) => s.endsWith('fewshot_curve.png')),
      ['fewshot_curve.png'],
    );
    const composites = sources.filter((s) => s.endsWith('_composite.png'));
    assert.equal(composites.length, 12, '4 test images, each model');
    for (const dir of Object.values(runs)) assert.equal(composites.filter((s) => join(out, s).startsWith(dir)).length, 4, dir);
    assert.equal(new Set(composites.map((s) => s.replace(/^.*\//, ''))).size, 4, 'the same 4 images for every model');
  });

  test('mmfd train --test scores the student-only baseline again, with the same results', async () => {
    const results = join(runs['student alone'], 'eval_results.json');
    const before = readFileSync(results, 'utf8');
    // On the demo's thread count (workflowThreads): sums split across threads round differently.
    const env = { ...ws.env, MMFD_NUM_THREADS: process.env.MMFD_NUM_THREADS || '1' };
    const r = await runCli(['train', '--config', join(out, 'configs', 'tiny-mobilesam.yaml'), '--test'], ws.dir, env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(results, 'utf8'), before);
  });

  test('a rerun skips every finished stage', async () => {
    const again = await demo();
    assert.equal(again.match(/already trained/g)?.length, 3, again);
    assert.doesNotMatch(again, /initial logits/, 'a resumed run keeps its saved initial logits and does not recount the priors');
  });
});

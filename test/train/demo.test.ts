// `mmfd demo` (the README's first command), shortened to 2 iterations per stage (3 for the teacher): it derives its
// configs, trains the teacher, distils the student, trains the student alone, tests all three; then the few-shot
// curve at one percentage (5 %): pretrains the encoders and writes their files, trains the teacher on them, distils
// the student, trains the student alone, tests them (where the machine has a core to spare, the student alone and
// the curve in a second process beside the teacher and the distillation); and writes one HTML report whose tables, curves and overlays
// are the runs' own; a rerun finds every stage finished.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { canRunBeside } from '../../src/train/beside.js';
import { linkBuiltinDatasets, runCli, workspace } from './tiny_run.js';

const TINY = { synth_tiny: 'synth-tiny', synth_tiny_test: 'synth-tiny-test' };
// The pretraining dataset's name mapped to the small synth_tiny folder: drawing 2,000 slide crops would take a minute.
const ws = workspace({ ...TINY, synth_slide_crops: 'synth-tiny' }, 'mmfd-demo-');
after(() => rmSync(ws.dir, { recursive: true, force: true }));
const out = join(ws.dir, 'demo');
const runs = {
  teacher: join(out, 'exp', 'multimodel2s', 'tiny-multimodel2s', 'fewshot_perc100'),
  student: join(out, 'exp', 'multimodel2s_distill', 'tiny-multimodel2s_distill', 'fewshot_perc100'),
  'student alone': join(out, 'exp', 'mobilesam', 'tiny-mobilesam', 'fewshot_perc100'),
};
const fewshotRuns = {
  teacher: join(out, 'exp', 'multimodel2s', 'tiny-multimodel2s-fewshot', 'fewshot_perc5'),
  student: join(out, 'exp', 'multimodel2s_distill', 'tiny-multimodel2s_distill-fewshot', 'fewshot_perc5'),
  'student alone': join(out, 'exp', 'mobilesam', 'tiny-mobilesam-fewshot', 'fewshot_perc5'),
};
const FEWSHOT = ['--percentages', '5', '--fewshot-iterations', '2', '--pretrain-iterations', '2'];

async function demo(): Promise<string> {
  const r = await runCli(['demo', '--out', out, '--iterations', '2', '--teacher-iterations', '3', ...FEWSHOT], ws.dir, ws.env);
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
    assert.equal((teacher.train as { max_iterations: number }).max_iterations, 3, '--teacher-iterations sets the teacher alone');
    for (const name of ['tiny-multimodel2s_distill.yaml', 'tiny-mobilesam.yaml']) {
      assert.equal(loadConfig(join(out, 'configs', name)).train.max_iterations, 2, name);
    }
    assert.equal((distill.network_t as { cfg_file: string }).cfg_file, join(out, 'configs', 'tiny-multimodel2s.yaml'));
    assert.equal((distill.network_s as { cfg_file: string }).cfg_file, join(out, 'configs', 'tiny-mobilesam.yaml'));
  });

  test('the few-shot teacher loads the files the pretraining wrote, encoders frozen; the 100 % runs keep their configs', () => {
    const pretrain = loadConfig(join(out, 'configs', 'tiny-multimodel2s-pretrain.yaml'));
    const fewshot = loadConfig(join(out, 'configs', 'tiny-multimodel2s-fewshot.yaml'));
    const distill = loadConfig(join(out, 'configs', 'tiny-multimodel2s_distill-fewshot.yaml'));
    const teacher = loadConfig(join(out, 'configs', 'tiny-multimodel2s.yaml'));
    assert.equal(pretrain.train.dataset, 'synth_slide_crops');
    assert.equal(fewshot.train.dataset, 'synth_tiny');
    assert.deepEqual(fewshot.fewshot_perc_list, [5]);
    assert.equal(fewshot.train.max_iterations, 2);
    assert.equal(fewshot.train.load_pretrained, true);
    assert.equal(fewshot.train.freeze_encoders, true);
    assert.equal(distill.network_t.cfg_file, join(out, 'configs', 'tiny-multimodel2s-fewshot.yaml'));
    assert.equal(distill.network_s.cfg_file, join(out, 'configs', 'tiny-mobilesam-fewshot.yaml'));
    for (const f of [fewshot.sam_ckpt, fewshot.pretrained.pidinet, join(fewshot.pretrained.plip_dir, 'config.json')])
      assert.ok(f.startsWith(join(out, 'pretrained')) && existsSync(f), f);
    assert.deepEqual(
      [fewshot.sam_ckpt, fewshot.pretrained.pidinet, fewshot.pretrained.plip_dir],
      [pretrain.sam_ckpt, pretrain.pretrained.pidinet, pretrain.pretrained.plip_dir],
    );
    // The shipped tiny config's own values: the 100 % teacher starts from random encoders, as bench:learning measured it.
    assert.deepEqual(teacher.fewshot_perc_list, [100]);
    assert.equal(teacher.train.load_pretrained, false);
    assert.equal(teacher.train.freeze_encoders, false);
  });

  test('reports every test score, the 100 % runs and the few-shot ones, and the report file', () => {
    const score = (name: string) => Number(new RegExp(`\\n${name}: test mIoU ([\\d.]+)`).exec(output)?.[1]);
    const fewshotScore = (name: string) =>
      Number(new RegExp(`few-shot 5 % \\(7 labelled patches\\) ${name}: test mIoU ([\\d.]+)`).exec(output)?.[1]);
    const results = (dir: string) => Number(JSON.parse(readFileSync(join(dir, 'eval_results.json'), 'utf8')).MIoU_mean_L0.toFixed(3));
    for (const [name, dir] of Object.entries(runs)) assert.equal(score(name), results(dir), name);
    for (const [name, dir] of Object.entries(fewshotRuns)) assert.equal(fewshotScore(name), results(dir), name);
    const margins =
      /few-shot margins: at 5 % \(7 labelled patches\), test mIoU over the student alone: teacher ([+−][\d.]+), distilled student ([+−][\d.]+) \(seed 1234;/.exec(
        output,
      );
    const raw = (dir: string) => JSON.parse(readFileSync(join(dir, 'eval_results.json'), 'utf8')).MIoU_mean_L0 as number;
    const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}`;
    const over = (name: keyof typeof fewshotRuns) => signed(raw(fewshotRuns[name]) - raw(fewshotRuns['student alone']));
    assert.deepEqual(margins?.slice(1), [over('teacher'), over('student')]);
    assert.match(output, /few-shot curve: .*fewshot_curve\.png/);
    // On two cores or more the student alone and the curve train in a second process; its lines come prefixed.
    if (canRunBeside()) {
      assert.match(output, /^core 2 \| tiny-mobilesam P100 student alone/m);
      assert.match(output, /^core 2 \| tiny-multimodel2s-pretrain/m);
    }
    assert.match(output, /report: .*report\.html/);
  });

  test('the report holds every model’s table, curves and overlays of the same images, all linked inside its folder', () => {
    for (const caption of [
      'Teacher and students',
      'teacher (fused MedSAM + PiDiNet + PLIP), per class',
      'student (TinyViT, distilled), per class',
      'student alone (TinyViT, no teacher), per class',
      'Few-shot: teacher on pretrained encoders and students at each percentage',
      'few-shot teacher (fused MedSAM + PiDiNet + PLIP) at 5 % (7 labelled patches), per class',
      'few-shot student (TinyViT, distilled) at 5 % (7 labelled patches), per class',
      'few-shot student alone (TinyViT, no teacher) at 5 % (7 labelled patches), per class',
      'Few-shot curve',
      'Few-shot margins',
    ])
      assert.ok(html.includes(caption), caption);
    for (const cls of ['Villus', 'Fibrin Deposit', 'Capillary', 'Trophoblast Aggregation']) assert.ok(html.includes(cls), cls);
    const sources = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => decodeURIComponent(m[1] as string));
    assert.ok(
      sources.every((s) => !s.startsWith('data:') && existsSync(join(out, s))),
      'relative links to files under the output folder',
    );
    const curves = sources.filter((s) => s.endsWith('training_curves.png')).map((s) => join(out, s));
    assert.deepEqual(
      curves.sort(),
      [...Object.values(runs), ...Object.values(fewshotRuns)].map((d) => join(d, 'training_curves.png')).sort(),
    );
    assert.deepEqual(
      sources.filter((s) => s.endsWith('.png') && !s.endsWith('training_curves.png') && !s.endsWith('_composite.png')),
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
    assert.equal(again.match(/already trained/g)?.length, 6, again);
    assert.doesNotMatch(again, /initial logits/, 'a resumed run keeps its saved initial logits and does not recount the priors');
  });
});

// `mmfd demo` (the README's first command), shortened to 2 iterations per stage: it derives its
// configs, trains the teacher, distils the student, tests both and writes one HTML report whose
// tables, curves and overlays are the runs' own; a rerun finds both stages finished.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { runCli, workspace } from './tiny_run.js';

const ws = workspace({ synth_tiny: 'synth-tiny', synth_tiny_test: 'synth-tiny-test' }, 'mmfd-demo-');
after(() => rmSync(ws.dir, { recursive: true, force: true }));
const out = join(ws.dir, 'demo');
const runs = {
  teacher: join(out, 'exp', 'multimodel2s', 'tiny-multimodel2s', 'fewshot_perc100'),
  student: join(out, 'exp', 'multimodel2s_distill', 'tiny-multimodel2s_distill', 'fewshot_perc100'),
};

async function demo(): Promise<string> {
  const r = await runCli(['demo', '--out', out, '--iterations', '2'], ws.dir, ws.env);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout + r.stderr;
}

describe('mmfd demo', () => {
  let output = '';
  let html = '';
  before(async () => {
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

  test('reports both test scores and the report file', () => {
    const score = (name: string) => Number(new RegExp(`${name}: test mIoU ([\\d.]+)`).exec(output)?.[1]);
    for (const [name, dir] of Object.entries(runs)) {
      const results = JSON.parse(readFileSync(join(dir, 'eval_results.json'), 'utf8'));
      assert.equal(score(name), Number(results.MIoU_mean_L0.toFixed(3)), name);
    }
    assert.match(output, /report: .*report\.html/);
  });

  test('the report holds both models’ tables, both curves and paired overlays, all linked inside its folder', () => {
    for (const caption of ['Teacher and student', 'Teacher, per class (test)', 'Student, per class (test)'])
      assert.ok(html.includes(caption), caption);
    for (const cls of ['Villus', 'Fibrin Deposit', 'Capillary', 'Trophoblast Aggregation']) assert.ok(html.includes(cls), cls);
    const sources = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => decodeURIComponent(m[1] as string));
    assert.ok(
      sources.every((s) => !s.startsWith('data:') && existsSync(join(out, s))),
      'relative links to files under the output folder',
    );
    assert.equal(sources.filter((s) => s.endsWith('training_curves.png')).length, 2);
    const composites = sources.filter((s) => s.endsWith('_composite.png'));
    assert.equal(composites.length, 8, '4 test images, teacher and student each');
    assert.equal(composites.filter((s) => s.includes('multimodel2s_distill')).length, 4);
  });

  test('a rerun skips both finished stages', async () => {
    const again = await demo();
    assert.match(again, /teacher: already trained/);
    assert.match(again, /distill.*already trained|student.*already trained/);
  });
});

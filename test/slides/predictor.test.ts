// Model predictors: trained weights required (random only when asked for, and labelled so), an mmfd
// checkpoint's role, config and input_mpp honoured and its weights really loaded, bad meta refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { buildStudent } from '../../src/models/build.js';
import { loadPredictor } from '../../src/slides/pipeline/predictor.js';
import * as torch from '../../src/torch/index.js';
import { TINY_TEACHER_YAML } from '../helpers/tiny_configs.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-predictor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The MMFD student at 128 pixels, to keep the tests quick. */
const smallConfig = join(dir, 'small.yaml');
writeFileSync(smallConfig, 'task: multimodel2s_distill\nimg_size: 128\n');

/** The fused teacher (MedSAM + PiDiNet + PLIP) shrunk to 64 pixels and a few channels. */
const tinyTeacher = join(dir, 'teacher.yaml');
writeFileSync(tinyTeacher, TINY_TEACHER_YAML);

describe('loadPredictor', () => {
  test('a student without trained weights is refused unless random weights are asked for', () => {
    assert.throws(() => loadPredictor({ model: 'student', config: smallConfig }), /the student needs trained weights/);
    assert.throws(() => loadPredictor({ model: 'teacher' }), /the teacher needs trained weights/);
    const p = loadPredictor({ config: smallConfig, randomSeed: 1 });
    try {
      assert.deepEqual([p.tileSize, p.inputMpp, p.id], [128, 1.0, 'student:random:1']);
      assert.deepEqual(p.classes, ['villit', 'thrombus', 'bloodvessel', 'cellgroup']);
      const y = torch.tidy(() => {
        const out = p.predict(torch.rand([2, 3, 128, 128], { generator: new torch.Generator(2) }));
        return { shape: out.shape, min: out.min().item(), max: out.max().item() };
      });
      assert.deepEqual(y.shape, [2, 4, 128, 128]);
      assert.ok(y.min >= 0 && y.max <= 1);
    } finally {
      p.dispose();
    }
  });

  test('--model teacher: the fused teacher as a predictor', () => {
    const p = loadPredictor({ model: 'teacher', config: tinyTeacher, randomSeed: 2 });
    try {
      assert.deepEqual([p.tileSize, p.id], [64, 'teacher:random:2']);
      const shape = torch.tidy(() => p.predict(torch.rand([2, 3, 64, 64])).shape);
      assert.deepEqual(shape, [2, 4, 64, 64]);
    } finally {
      p.dispose();
    }
  });

  test('an mmfd checkpoint: its role, config and input_mpp are used and its weights loaded', () => {
    const cfg = loadConfig(smallConfig);
    torch.manual_seed(11);
    const net = buildStudent(cfg);
    net.eval();
    const stem = join(dir, 'trained');
    torch.io.save_checkpoint(stem, { state_dict: net.state_dict(), meta: { role: 'student', input_mpp: 0.5, config: cfg } });
    const input = torch.rand([1, 3, 128, 128], { generator: new torch.Generator(4) });
    const expected = torch.no_grad(() => torch.tidy(() => net.forward(input, 'test').masks.sigmoid()));
    const p = loadPredictor({ model: `${stem}.json` });
    try {
      assert.deepEqual([p.tileSize, p.inputMpp, p.id], [128, 0.5, 'student:trained.json']);
      const got = torch.tidy(() => p.predict(input));
      assert.ok(torch.allclose(got, expected, 1e-5, 1e-6), "the checkpoint's weights, not fresh ones");
      torch.dispose(got);
    } finally {
      p.dispose();
      torch.dispose([input, expected]);
      net.dispose();
    }
  });

  test('input_mpp defaults to 1.0; nonsense input_mpp or a checkpoint that says nothing of its role is refused', () => {
    const cfg = loadConfig(smallConfig);
    const net = buildStudent(cfg);
    const save = (name: string, meta: Record<string, unknown>) => {
      torch.io.save_checkpoint(join(dir, name), { state_dict: net.state_dict(), meta });
      return join(dir, `${name}.json`);
    };
    try {
      const plain = loadPredictor({ model: save('plain', { role: 'student', config: cfg }) });
      assert.equal(plain.inputMpp, 1.0);
      plain.dispose();
      assert.throws(
        () => loadPredictor({ model: save('bad_mpp', { role: 'student', config: cfg, input_mpp: 40 }) }),
        /bad_mpp\.json: input_mpp 40/,
      );
      assert.throws(
        () => loadPredictor({ model: save('anonymous', { step: 5 }) }),
        /anonymous\.json: the checkpoint's meta records neither a role/,
      );
      assert.throws(() => loadPredictor({ model: join(dir, 'missing.pth') }), /missing\.pth: no such checkpoint/);
    } finally {
      net.dispose();
    }
  });
});

// `mmfd export`: a student and a teacher trained by mmfd (random weights stand in; a checkpoint is a checkpoint)
// written as .pth and .safetensors read back bit for bit under their original key names and order, the .pth's
// pickle walked opcode by opcode against what torch.load(weights_only=True) accepts; the student's ONNX file
// run in ONNX Runtime at batch 1 and 3 against libtorch; the teacher's ONNX export and bad flags refused.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { exportModel } from '../../src/export/model_export.js';
import { buildStudent, buildTeacher } from '../../src/models/build.js';
import { createSession, loadOrt } from '../../src/onnx/runtime.js';
import * as torch from '../../src/torch/index.js';
import { ZipReader } from '../../src/torch/io/zip.js';
import { repoRoot } from '../helpers/fixtures.js';
import { TINY_TEACHER_YAML } from '../helpers/tiny_configs.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const mmfd = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

const studentYaml = join(dir, 'student.yaml');
writeFileSync(
  studentYaml,
  'task: multimodel2s_distill\nimg_size: 64\narch:\n  TINYVIT: {EMBED_DIMS: [16, 32, 48, 64], DEPTHS: [1, 1, 1, 1], NUM_HEADS: [1, 2, 3, 4], WINDOW_SIZES: [2, 2, 3, 2]}\n  DECODER: {TRANSFORMER_DIM: 32, MLP_DIM: 64, NUM_HEADS: 2, MASK_IN_CHANS: 8}\n',
);
const teacherYaml = join(dir, 'teacher.yaml');
writeFileSync(teacherYaml, TINY_TEACHER_YAML);

/** Saves a network as an mmfd checkpoint and returns its .json and its state dict (the truth). */
function checkpoint(name: string, role: 'student' | 'teacher', yaml: string, seed: number) {
  const cfg = loadConfig(yaml);
  torch.manual_seed(seed);
  const net = role === 'student' ? buildStudent(cfg) : buildTeacher(cfg);
  net.eval();
  torch.io.save_checkpoint(join(dir, name), { state_dict: net.state_dict(), meta: { role, config: cfg, input_mpp: 1.0 } });
  return { json: join(dir, `${name}.json`), net };
}

/** Every tensor equal bit for bit (same dtype, shape and bytes), keys in the same order. */
function assertSameStateDict(got: Map<string, torch.Tensor>, want: Map<string, torch.Tensor>, what: string): void {
  assert.deepEqual([...got.keys()], [...want.keys()], `${what}: keys and order`);
  for (const [k, w] of want) {
    const g = got.get(k)!;
    assert.equal(g.dtype, w.dtype, `${what}: ${k} dtype`);
    assert.deepEqual(g.shape, w.shape, `${what}: ${k} shape`);
    assert.deepEqual(Buffer.from(g.toTypedArray().buffer), Buffer.from(w.toTypedArray().buffer), `${what}: ${k} bytes`);
  }
}

// What torch's weights_only unpickler (torch/_weights_only_unpickler.py) executes, with each opcode's argument
// length (-1: GLOBAL's two text lines; -2: a 4-byte length then the bytes; -3: a 1-byte length then the bytes).
const WEIGHTS_ONLY_OPCODES: Record<number, number> = {
  128: 1,
  46: 0,
  99: -1,
  82: 0,
  81: 0,
  113: 1,
  114: 4,
  104: 1,
  106: 4,
  40: 0,
  116: 0,
  133: 0,
  134: 0,
  135: 0,
  41: 0,
  93: 0,
  125: 0,
  97: 0,
  101: 0,
  115: 0,
  117: 0,
  78: 0,
  136: 0,
  137: 0,
  74: 4,
  75: 1,
  77: 2,
  71: 8,
  138: -3,
  88: -2,
};
const WEIGHTS_ONLY_GLOBALS = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  ...['Float', 'Double', 'Half', 'BFloat16', 'Long', 'Int', 'Short', 'Char', 'Byte', 'Bool'].map((t) => `torch.${t}Storage`),
]);

/** The opcodes and globals of a pickle; throws on an opcode weights_only does not execute. */
function walkPickle(data: Uint8Array): { globals: Set<string>; opcodes: Set<number> } {
  const globals = new Set<string>();
  const opcodes = new Set<number>();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let i = 0;
  for (;;) {
    const op = data[i++]!;
    const arg = WEIGHTS_ONLY_OPCODES[op];
    if (arg === undefined) throw new Error(`opcode 0x${op.toString(16)} at ${i - 1} is not one weights_only executes`);
    opcodes.add(op);
    if (arg === -1) {
      const line = () => {
        const end = data.indexOf(0x0a, i);
        const s = new TextDecoder().decode(data.subarray(i, end));
        i = end + 1;
        return s;
      };
      globals.add(`${line()}.${line()}`);
    } else if (arg === -2) i += 4 + view.getUint32(i, true);
    else if (arg === -3) i += 1 + data[i]!;
    else i += arg;
    if (op === 0x2e) break;
  }
  assert.equal(i, data.length, 'nothing after STOP');
  return { globals, opcodes };
}

test('pth and safetensors: original keys, every tensor bit for bit; the pickle is what weights_only loads', () => {
  for (const [role, yaml] of [
    ['student', studentYaml],
    ['teacher', teacherYaml],
  ] as const) {
    const { json, net } = checkpoint(role, role, yaml, role === 'student' ? 1 : 2);
    const truth = net.state_dict();
    const pth = join(dir, `${role}.pth`);
    const st = join(dir, `${role}.safetensors`);
    for (const [format, out] of [
      ['pth', pth],
      ['safetensors', st],
    ]) {
      const r = exportModel({ model: json, format: format as 'pth' | 'safetensors', out: out! });
      assert.deepEqual([r.role, r.tensors], [role, truth.size]);
    }
    const loaded = torch.io.load_pth(pth) as Map<string, torch.Tensor>;
    assert.ok(loaded instanceof Map, 'an OrderedDict');
    assertSameStateDict(loaded, truth, `${role}.pth`);
    const safe = torch.io.load_safetensors(st).tensors;
    assertSameStateDict(safe, truth, `${role}.safetensors`);

    // torch.load's zip layout: <top>/data.pkl, <top>/data/<key> per storage, <top>/version
    const zip = ZipReader.open(pth);
    const names = zip.entries.map((e) => e.name);
    const top = names[0]!.split('/')[0];
    assert.ok(zip.has(`${top}/data.pkl`) && zip.has(`${top}/version`), names.join(', '));
    assert.equal(names.filter((n) => n.startsWith(`${top}/data/`)).length, truth.size, 'one storage per tensor');
    const { globals, opcodes } = walkPickle(zip.read(`${top}/data.pkl`));
    zip.close();
    for (const g of globals) assert.ok(WEIGHTS_ONLY_GLOBALS.has(g), `global ${g}`);
    assert.ok(
      globals.has('collections.OrderedDict') && globals.has('torch._utils._rebuild_tensor_v2') && globals.has('torch.FloatStorage'),
    );
    assert.ok(opcodes.has(0x51), 'tensors come from persistent storage ids');
    torch.dispose([...loaded.values(), ...safe.values()]);
    net.dispose();
  }
});

test('onnx: the student runs in ONNX Runtime at batch 1 and 3 as on libtorch; the teacher and bad flags are refused', async () => {
  const { json, net } = checkpoint('student_onnx', 'student', studentYaml, 3);
  const out = join(dir, 'student.onnx');
  const r = mmfd('export', '--checkpoint', json, '--format', 'onnx', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /student\.onnx: the student \(student:student_onnx\.json\) as onnx/);
  const ort = await loadOrt();
  assert.ok(ort);
  const session = await createSession(ort, new Uint8Array(readFileSync(out)), { threads: 1 });
  assert.deepEqual([session.inputNames, session.outputNames], [['image'], ['masks']]);
  for (const b of [1, 3]) {
    const x = torch.rand([b, 3, 64, 64], { generator: new torch.Generator(b) });
    const want = torch.no_grad(() => torch.tidy(() => net.forward(x, 'test').masks));
    const res = await session.run({ image: new ort.Tensor('float32', x.toTypedArray() as Float32Array, x.shape) });
    const got = torch.fromTypedArray(res.masks!.data as Float32Array, res.masks!.dims as number[]);
    assert.deepEqual(got.shape, [b, 4, 64, 64]);
    const diff = torch.tidy(() => got.sub(want).abs().max().item());
    const limit =
      1e-4 *
      Math.max(
        1,
        torch.tidy(() => want.abs().max().item()),
      );
    assert.ok(diff <= limit, `batch ${b}: ${diff}`);
    torch.dispose([x, want, got]);
  }
  await session.release();
  net.dispose();

  const { json: tj, net: teacher } = checkpoint('teacher_onnx', 'teacher', teacherYaml, 4);
  teacher.dispose();
  assert.throws(
    () => exportModel({ model: tj, format: 'onnx', out: join(dir, 'teacher.onnx') }),
    /the ONNX export covers the student only/,
  );
  const bad = mmfd('export', '--checkpoint', json, '--format', 'tflite', '--out', join(dir, 'x'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--format is one of onnx, pth, safetensors \(got 'tflite'\)/);
  assert.throws(
    () => exportModel({ model: json, format: 'pth', precision: 'int8', out: join(dir, 'y.pth') }),
    /--precision int8 applies to --format onnx only/,
  );
});

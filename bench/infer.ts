// npm run bench:infer — the real-size student (TinyViT-5M + decoder, 9,676,024 parameters, random weights) on
// 512 x 512 images, 2 threads, batch 1 and 4: libtorch against ONNX Runtime fp32 and int8 (src/onnx), all in
// this one process and run, as images/s and ratios to libtorch; ONNX Runtime both with its threads spinning
// between ops (its default) and without (`_no_spinning`). --profile writes ONNX Runtime's profile of
// warm batch-1 runs per precision (the first runs left out) and sums its node times by op type. Writes
// bench/results/infer.json.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Student } from '../src/models/student.js';
import { quantizeDynamic } from '../src/onnx/quantize.js';
import { createSession, loadOrt } from '../src/onnx/runtime.js';
import { studentGraph } from '../src/onnx/student.js';
import * as torch from '../src/torch/index.js';
import { writeBenchResult } from './results_file.js';

const THREADS = 2;
const SIZE = 512;
const BATCHES = [1, 4];
// --profile: runs left out (cold), then runs summed
const PROFILE_WARMUP = 2;
const PROFILE_RUNS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timeRuns(runs: number, fn: () => unknown): Promise<number[]> {
  await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

/**
 * Node time per op type (ms per run) over the profile's runs after the first `skip` (the first runs of a
 * session page in its buffers and run several times slower, mostly in the early, largest tensors), largest first.
 */
function profileByOp(file: string, skip: number): Record<string, number> {
  const events = JSON.parse(readFileSync(file, 'utf8')) as {
    cat: string;
    name: string;
    ts: number;
    dur: number;
    args?: { op_name?: string };
  }[];
  const runs = events.filter((e) => e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const from = runs[skip]!.ts;
  const sums = new Map<string, number>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < from) continue;
    const op = e.args?.op_name ?? '?';
    sums.set(op, (sums.get(op) ?? 0) + e.dur / 1000 / (runs.length - skip));
  }
  return Object.fromEntries([...sums].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Number(v.toFixed(2))]));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, profile: { type: 'boolean', default: false } } });
  const runs = Number(values.runs);
  torch.set_num_threads(THREADS);
  const ort = await loadOrt();
  if (ort === undefined) throw new Error('bench:infer needs onnxruntime-node');
  const load_average_start = loadavg();
  torch.manual_seed(0);
  const net = new Student({ img_size: SIZE, num_classes: 4 }).eval();
  const params = net.parameters().reduce((n, p) => n + p.numel(), 0);
  const fp32 = studentGraph(net);
  const models = { fp32: fp32.encode({ producerVersion: 'bench' }), int8: quantizeDynamic(fp32).encode({ producerVersion: 'bench' }) };
  const results: Record<string, Record<string, unknown>> = {};
  const profiles: Record<string, Record<string, number>> = {};
  for (const batch of BATCHES) {
    const image = torch.rand([batch, 3, SIZE, SIZE]);
    const data = image.toTypedArray() as Float32Array;
    const n = batch === 1 ? runs : Math.max(2, Math.ceil(runs / 2));
    const row: Record<string, unknown> = {};
    const lt = await timeRuns(n, () => torch.no_grad(() => torch.tidy(() => net.forward(image, 'test').masks)).dispose());
    row.libtorch = { ms_per_image: median(lt) / batch, images_per_s: (1000 * batch) / median(lt), runs_ms: lt };
    console.log(`batch ${batch} libtorch: ${(median(lt) / batch).toFixed(0)} ms per image`);
    for (const [precision, model] of Object.entries(models)) {
      const feeds = { image: new ort.Tensor('float32', data, image.shape) };
      // ONNX Runtime's default (threads spin between ops), then without spinning (see SessionOptions.spinning)
      for (const spinning of [true, false]) {
        const session = await createSession(ort, model, { threads: THREADS, spinning });
        const t = await timeRuns(n, () => session.run(feeds));
        const key = `onnxruntime_${precision}${spinning ? '' : '_no_spinning'}`;
        row[key] = { ms_per_image: median(t) / batch, images_per_s: (1000 * batch) / median(t), runs_ms: t };
        console.log(`batch ${batch} ${key}: ${(median(t) / batch).toFixed(0)} ms per image`);
        await session.release();
      }
      if (values.profile && batch === 1) {
        const dir = '.tmp/infer-profile';
        mkdirSync(dir, { recursive: true });
        const prof = await createSession(ort, model, { threads: THREADS, profilePrefix: join(dir, precision) });
        for (let i = 0; i < PROFILE_WARMUP + PROFILE_RUNS; i++) await prof.run(feeds);
        prof.endProfiling(); // writes <prefix>_<date>.json
        await prof.release();
        const file = join(dir, readdirSync(dir).find((f) => f.startsWith(`${precision}_`))!);
        profiles[precision] = profileByOp(file, PROFILE_WARMUP);
        rmSync(file, { force: true });
        console.log(`profile ${precision} (ms per op type and run, ${PROFILE_RUNS} warm runs):`, profiles[precision]);
      }
    }
    const ips = (k: string) => (row[k] as { images_per_s: number }).images_per_s;
    row.ratio_fp32_to_libtorch = ips('onnxruntime_fp32') / ips('libtorch');
    row.ratio_int8_to_libtorch = ips('onnxruntime_int8') / ips('libtorch');
    row.ratio_fp32_no_spinning_to_libtorch = ips('onnxruntime_fp32_no_spinning') / ips('libtorch');
    row.ratio_int8_no_spinning_to_libtorch = ips('onnxruntime_int8_no_spinning') / ips('libtorch');
    console.log(
      `batch ${batch}: fp32 ${(row.ratio_fp32_to_libtorch as number).toFixed(2)}x, int8 ${(row.ratio_int8_to_libtorch as number).toFixed(2)}x libtorch; ` +
        `no spinning: fp32 ${(row.ratio_fp32_no_spinning_to_libtorch as number).toFixed(2)}x, int8 ${(row.ratio_int8_no_spinning_to_libtorch as number).toFixed(2)}x`,
    );
    results[`batch${batch}`] = row;
    image.dispose();
  }
  net.dispose();
  // Goals (issue 15): ONNX Runtime fp32 >= 2.5x libtorch's images/s, int8 >= 4x; where missed, what the profile shows.
  const goals = Object.entries(results).flatMap(([batch, row]) => [
    { batch, precision: 'fp32', ratio: row.ratio_fp32_to_libtorch as number, goal: 2.5 },
    { batch, precision: 'int8', ratio: row.ratio_int8_to_libtorch as number, goal: 4 },
  ]);
  const missed = goals.filter((g) => g.ratio < g.goal);
  const shares = (p: Record<string, number>) => {
    const total = Object.values(p).reduce((a, b) => a + b, 0);
    return Object.entries(p)
      .slice(0, 5)
      .map(([op, ms]) => `${op} ${((100 * ms) / total).toFixed(0)}%`)
      .join(', ');
  };
  const note =
    missed.length === 0
      ? 'all goals met'
      : `missed: ${missed.map((g) => `${g.precision} ${g.batch} ${g.ratio.toFixed(2)}x < ${g.goal}x`).join('; ')}.` +
        (values.profile
          ? ` Node time by op type at batch 1: fp32 ${shares(profiles.fp32!)}; int8 ${shares(profiles.int8!)}.`
          : ' Run with --profile.');
  console.log(note);
  writeBenchResult('infer', {
    date: new Date().toISOString(),
    machine: { cores: availableParallelism(), threads: THREADS, load_average_start, load_average_end: loadavg() },
    model: { parameters: params, input: [3, SIZE, SIZE], weights: 'random (seed 0)' },
    onnxruntime: { version: ort.env.versions.common, graph_optimization_level: 'all', intra_op_threads: THREADS },
    goals: { fp32_ratio: 2.5, int8_ratio: 4, met: goals.map((g) => ({ ...g, met: g.ratio >= g.goal })) },
    note,
    results,
    ...(values.profile ? { profile_ms_by_op: profiles } : {}),
  });
}

await main();

// bench:train: training steps and batching of the full-size student and teacher (512 x 512, random
// weights, CPU) against an older checkout of mmfd, timed in the same run, and for the student against
// PyTorch itself. Each measurement is its own process (bench/train/worker.ts) and the sides alternate
// (checkouts ABBA; with PyTorch now / before / pytorch, the order rotating each round), so that the load of
// a shared machine falls on all alike; the figures are ratios of the sides, with the load average beside them.
//   MMFD_BASELINE=/path/to/old/checkout (built: dist/ and native/build) npm run bench:train
// Default baseline: /tmp/mmfd-before, e.g. `git archive 27fad90 | tar -x -C /tmp/mmfd-before`, then
// `npm run build:native && npx tsc -p tsconfig.json` there (with node_modules linked in).
// The PyTorch side (optional, bench-only: `apt-get install python3-torch`, Debian's PyTorch 1.13 on the same
// libtorch; MMFD_PYTHON names another python) is bench/train/pytorch_student.py, the student ported op for op.
// bench/train/pytorch_parity.ts first checks that it computes what mmfd computes on mmfd's weights (masks, loss,
// gradient norms within 1e-4 x max(1, |ref|)); a mismatch stops the bench. Without torch that side is skipped,
// saying so. Its threads follow mmfd's rule (MMFD_NUM_THREADS, else every core) and it runs with the runtime
// settings mmfd's addon gives itself (MMFD_BENCH_PYTORCH_PLAIN=1: PyTorch's defaults). The teacher is mmfd
// against the old checkout only (no PyTorch port of it).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBenchResult } from './results_file.js';
import { PYTORCH_STUDENT, pythonWithTorch } from './train/pytorch.js';

const here = new URL('../..', import.meta.url).pathname;
const baseline = process.env.MMFD_BASELINE ?? '/tmp/mmfd-before';
const worker = new URL('./train/worker.js', import.meta.url).pathname;
const breakdown = new URL('./train/breakdown.js', import.meta.url).pathname;
const parity = new URL('./train/pytorch_parity.js', import.meta.url).pathname;
// A full teacher step is 9-20 s on 2 threads (minutes under load): few rounds. MMFD_BENCH_ROUNDS overrides both.
const rounds = (n: number): number => Number(process.env.MMFD_BENCH_ROUNDS ?? n);
// MMFD_BENCH_NETS=student (or teacher) runs one network only, written as bench/results/train-<net>.json.
const only = process.env.MMFD_BENCH_NETS;
const NETS = [
  { name: 'student', rounds: rounds(3), runs: 2 },
  { name: 'teacher', rounds: rounds(2), runs: 1 },
].filter(({ name }) => only === undefined || only === name);

type Figures = Record<string, number>;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function runScript<T>(script: string, root: string, net: string, runs: number): T {
  const out = execFileSync(process.execPath, [script, root, net, String(runs)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return lastJsonLine<T>(out);
}

function runPython<T>(python: string, mode: 'time' | 'profile', runs: number, stateDict: string): T {
  const out = execFileSync(python, [PYTORCH_STUDENT, mode, String(runs), stateDict], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return lastJsonLine<T>(out);
}

function lastJsonLine<T>(out: string): T {
  return JSON.parse(out.trim().split('\n').pop() as string) as T;
}

/** PyTorch's side of the student: a python with torch and mmfd's weights, once parity holds; undefined without torch. */
function pytorchSide(): { python: string; stateDict: string; dir: string; parity: unknown } | undefined {
  const python = pythonWithTorch();
  if (python === undefined) {
    console.log('bench:train: no python3 imports torch (apt-get install python3-torch, or set MMFD_PYTHON): PyTorch side skipped');
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'mmfd-bench-pytorch-'));
  const run = spawnSync(process.execPath, [parity, dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, MMFD_PYTHON: python },
  });
  if (run.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `bench:train: PyTorch's student (${PYTORCH_STUDENT}) does not compute what mmfd's does, not timing it: ${run.stdout.trim()}`,
    );
  }
  const result = lastJsonLine<unknown>(run.stdout);
  console.log(`  student parity with PyTorch: ${JSON.stringify(result)}`);
  return { python, stateDict: join(dir, 'student.pth'), dir, parity: result };
}

type Side = 'now' | 'before' | 'pytorch';

function medians(all: Figures[]): Figures {
  const out: Figures = {};
  for (const k of Object.keys(all[0] as Figures)) out[k] = median(all.map((f) => f[k] as number));
  return out;
}

function main(): void {
  if (!existsSync(join(baseline, 'dist/src/torch/index.js'))) {
    throw new Error(`bench:train: no built baseline checkout at ${baseline} (set MMFD_BASELINE; see the header of bench/train.ts)`);
  }
  const load: number[] = [loadavg()[0] as number];
  const result: Record<string, unknown> = {
    date: new Date().toISOString(),
    baseline,
    cores: 'as the machine has; threads MMFD_NUM_THREADS, else every core (mmfd and PyTorch alike)',
  };
  for (const { name, rounds, runs } of NETS) {
    const pytorch = name === 'student' ? pytorchSide() : undefined;
    if (name === 'teacher') console.log('  teacher: mmfd against the old checkout only (no PyTorch port of the teacher)');
    const sides: Record<Side, Figures[]> = { before: [], now: [], pytorch: [] };
    const three: Side[] = ['now', 'before', 'pytorch'];
    for (let r = 0; r < rounds; r++) {
      const order: Side[] = pytorch
        ? [...three.slice(r % 3), ...three.slice(0, r % 3)]
        : r % 2 === 0
          ? ['now', 'before']
          : ['before', 'now'];
      for (const side of order) {
        const f =
          side === 'pytorch' && pytorch
            ? runPython<Figures>(pytorch.python, 'time', runs, pytorch.stateDict)
            : runScript<Figures>(worker, side === 'now' ? here : baseline, name, runs);
        sides[side].push(f);
        load.push(loadavg()[0] as number);
        console.log(
          `  ${name} ${side.padEnd(7)} step ${f.train_step_wall_ms?.toFixed(0)} ms (cpu ${f.train_step_cpu_ms?.toFixed(0)}, ` +
            `${f.train_step_page_faults} page faults); forward per image b1 ${f.forward_b1_wall_ms_per_image?.toFixed(0)}, ` +
            `b4 ${f.forward_b4_wall_ms_per_image?.toFixed(0)} ms; load ${load[load.length - 1]?.toFixed(1)}`,
        );
      }
    }
    const before = medians(sides.before);
    const now = medians(sides.now);
    const ratios: Record<string, number> = {
      train_step_wall_now_over_before: (now.train_step_wall_ms as number) / (before.train_step_wall_ms as number),
      train_step_cpu_now_over_before: (now.train_step_cpu_ms as number) / (before.train_step_cpu_ms as number),
      forward_b4_over_b1_per_image_wall_now: (now.forward_b4_wall_ms_per_image as number) / (now.forward_b1_wall_ms_per_image as number),
      forward_b4_over_b1_per_image_cpu_now: (now.forward_b4_cpu_ms_per_image as number) / (now.forward_b1_cpu_ms_per_image as number),
      forward_b4_over_b1_per_image_wall_before:
        (before.forward_b4_wall_ms_per_image as number) / (before.forward_b1_wall_ms_per_image as number),
      forward_b4_over_b1_per_image_cpu_before:
        (before.forward_b4_cpu_ms_per_image as number) / (before.forward_b1_cpu_ms_per_image as number),
    };
    const torchSide = pytorch ? medians(sides.pytorch) : undefined;
    if (torchSide) {
      const over = (k: string): number => (now[k] as number) / (torchSide[k] as number);
      Object.assign(ratios, {
        train_step_wall_now_over_pytorch: over('train_step_wall_ms'),
        train_step_cpu_now_over_pytorch: over('train_step_cpu_ms'),
        forward_b1_wall_now_over_pytorch: over('forward_b1_wall_ms_per_image'),
        forward_b4_wall_now_over_pytorch: over('forward_b4_wall_ms_per_image'),
        forward_b4_over_b1_per_image_wall_pytorch:
          (torchSide.forward_b4_wall_ms_per_image as number) / (torchSide.forward_b1_wall_ms_per_image as number),
        forward_b4_over_b1_per_image_cpu_pytorch:
          (torchSide.forward_b4_cpu_ms_per_image as number) / (torchSide.forward_b1_cpu_ms_per_image as number),
      });
    }
    console.log(
      `${name}: ${Object.entries(ratios)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ')}`,
    );
    // Where a step's time goes (bench/train/breakdown.ts; PyTorch's own profiler for its side), one process each.
    const phases: Record<string, unknown> = {
      before: runScript(breakdown, baseline, name, runs),
      now: runScript(breakdown, here, name, runs),
    };
    if (pytorch) {
      phases.pytorch = runPython(pytorch.python, 'profile', runs, pytorch.stateDict);
      rmSync(pytorch.dir, { recursive: true, force: true });
    }
    console.log(`${name} phases (ms, cpu): ${JSON.stringify(phases)}`);
    result[name] = {
      rounds,
      timed_runs_per_process: runs,
      before,
      now,
      ...(torchSide && pytorch ? { pytorch: torchSide, pytorch_parity: pytorch.parity } : {}),
      ratios,
      breakdown: phases,
    };
    // Written after each network, so that the student's figures survive a teacher run cut short.
    result.load_average = { min: Math.min(...load), max: Math.max(...load), samples: load };
    writeBenchResult(only === undefined ? 'train' : `train-${only}`, result);
  }
}

main();

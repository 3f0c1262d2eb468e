// bench:train: training steps and batching of the full-size student and teacher (512 x 512, random
// weights, CPU) against an older checkout of mmfd, timed in the same run. Each measurement is its own
// process (bench/train/worker.ts) and the two checkouts alternate (ABBA), so that the load of a shared
// machine falls on both alike; the figures are ratios of the two sides, with the load average beside them.
//   MMFD_BASELINE=/path/to/old/checkout (built: dist/ and native/build) npm run bench:train
// Default baseline: /tmp/mmfd-before, e.g. `git archive 27fad90 | tar -x -C /tmp/mmfd-before`, then
// `npm run build:native && npx tsc -p tsconfig.json` there (with node_modules linked in).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { writeBenchResult } from './results_file.js';

const here = new URL('../..', import.meta.url).pathname;
const baseline = process.env.MMFD_BASELINE ?? '/tmp/mmfd-before';
const worker = new URL('./train/worker.js', import.meta.url).pathname;
const breakdown = new URL('./train/breakdown.js', import.meta.url).pathname;
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
  return JSON.parse(out.trim().split('\n').pop() as string) as T;
}

function runSide(root: string, net: string, runs: number): Figures {
  return runScript<Figures>(worker, root, net, runs);
}

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
    cores: 'as the machine has; libtorch threads at their default',
  };
  for (const { name, rounds, runs } of NETS) {
    const sides: Record<'before' | 'now', Figures[]> = { before: [], now: [] };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['now', 'before'] as const) : (['before', 'now'] as const);
      for (const side of order) {
        const f = runSide(side === 'now' ? here : baseline, name, runs);
        sides[side].push(f);
        load.push(loadavg()[0] as number);
        console.log(
          `  ${name} ${side.padEnd(6)} step ${f.train_step_wall_ms?.toFixed(0)} ms (cpu ${f.train_step_cpu_ms?.toFixed(0)}, ` +
            `${f.train_step_page_faults} page faults); forward per image b1 ${f.forward_b1_wall_ms_per_image?.toFixed(0)}, ` +
            `b4 ${f.forward_b4_wall_ms_per_image?.toFixed(0)} ms; load ${load[load.length - 1]?.toFixed(1)}`,
        );
      }
    }
    const before = medians(sides.before);
    const now = medians(sides.now);
    const ratios = {
      train_step_wall_now_over_before: (now.train_step_wall_ms as number) / (before.train_step_wall_ms as number),
      train_step_cpu_now_over_before: (now.train_step_cpu_ms as number) / (before.train_step_cpu_ms as number),
      forward_b4_over_b1_per_image_wall_now: (now.forward_b4_wall_ms_per_image as number) / (now.forward_b1_wall_ms_per_image as number),
      forward_b4_over_b1_per_image_cpu_now: (now.forward_b4_cpu_ms_per_image as number) / (now.forward_b1_cpu_ms_per_image as number),
      forward_b4_over_b1_per_image_wall_before:
        (before.forward_b4_wall_ms_per_image as number) / (before.forward_b1_wall_ms_per_image as number),
      forward_b4_over_b1_per_image_cpu_before:
        (before.forward_b4_cpu_ms_per_image as number) / (before.forward_b1_cpu_ms_per_image as number),
    };
    console.log(
      `${name}: ${Object.entries(ratios)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ')}`,
    );
    // Where a step's time goes (bench/train/breakdown.ts), both checkouts, one process each.
    const phases = { before: runScript(breakdown, baseline, name, runs), now: runScript(breakdown, here, name, runs) };
    console.log(`${name} phases (ms, cpu): ${JSON.stringify(phases)}`);
    result[name] = { rounds, timed_runs_per_process: runs, before, now, ratios, breakdown: phases };
    // Written after each network, so that the student's figures survive a teacher run cut short.
    result.load_average = { min: Math.min(...load), max: Math.max(...load), samples: load };
    writeBenchResult(only === undefined ? 'train' : `train-${only}`, result);
  }
}

main();

// npm run bench:synth-slide — writes 10k, 20k and 40k square synthetic slides (src/synth/slide/slide.ts),
// then a 10k x 40k one, into a temporary folder, each in its own process so that its peak RSS is its own,
// and reports time, throughput, file sizes and peak RSS. Memory is one band of tiles per pyramid level,
// O(width), never O(area): from 10k to 40k square the area grows 16x and peak RSS must grow far less
// (only the width's share), and the 10k x 40k slide must peak where the 10k square one does.
// Writes bench/results/synth_slide.json; the slides are deleted afterwards.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticSlide } from '../src/synth/slide/slide.js';
import { writeBenchResult } from './results_file.js';

const _root = new URL('../..', import.meta.url).pathname;
const SHAPES: [number, number][] = [
  [10000, 10000],
  [20000, 20000],
  [40000, 40000],
  [10000, 40000],
];
const SEED = 1;
const MPP = 0.5;

interface Run {
  width: number;
  height: number;
  seconds: number;
  megapixels_per_s: number;
  peak_rss_mb: number;
  slide_mb: number;
  labels_mb: number;
  tissue_fraction: number;
}

/** In the child: writes one slide and prints its figures as JSON on the last line. */
async function one(width: number, height: number, dir: string): Promise<void> {
  const name = `${width}x${height}`;
  const out = join(dir, `slide_${name}.tif`);
  const t0 = process.hrtime.bigint();
  let lastTenth = 0;
  const result = await writeSyntheticSlide({
    out,
    width,
    height,
    seed: SEED,
    mpp: MPP,
    onProgress: (done, total) => {
      const tenth = Math.floor((10 * done) / total);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        process.stderr.write(`  ${name}: ${tenth * 10}% after ${s.toFixed(0)} s, ETA ${((s / done) * (total - done)).toFixed(0)} s\n`);
      }
    },
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const run: Run = {
    width,
    height,
    seconds,
    megapixels_per_s: (width * height) / 1e6 / seconds,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    slide_mb: statSync(result.slide).size / 2 ** 20,
    labels_mb: statSync(result.labels).size / 2 ** 20,
    tissue_fraction: result.pixelCounts.tissue! / (width * height),
  };
  console.log(JSON.stringify(run));
}

async function main(): Promise<void> {
  const [mode, width, height, dir] = process.argv.slice(2);
  if (mode === '--one') return one(Number(width), Number(height), dir!);
  const work = mkdtempSync(join(tmpdir(), 'mmfd-bench-slide-'));
  const runs: Run[] = [];
  try {
    for (const [w, h] of SHAPES) {
      const name = `${w}x${h}`;
      console.log(`writing a ${w} x ${h} slide (mpp ${MPP}) ...`);
      const stdout = execFileSync(process.execPath, [new URL(import.meta.url).pathname, '--one', String(w), String(h), work], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const run = JSON.parse(stdout.trim().split('\n').at(-1)!) as Run;
      runs.push(run);
      console.log(
        `  ${name}: ${run.seconds.toFixed(1)} s (${run.megapixels_per_s.toFixed(1)} Mpx/s), peak RSS ${run.peak_rss_mb.toFixed(0)} MB, ` +
          `slide ${run.slide_mb.toFixed(0)} MB, labels ${run.labels_mb.toFixed(1)} MB, tissue ${(100 * run.tissue_fraction).toFixed(0)}%`,
      );
      rmSync(join(work, `slide_${name}.tif`), { force: true });
      rmSync(join(work, `slide_${name}_labels.tif`), { force: true });
      rmSync(join(work, `slide_${name}_labels.json`), { force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const rss = runs.map((r) => r.peak_rss_mb);
  const squareGrowth = rss[2]! / rss[0]!;
  const tallGrowth = rss[3]! / rss[0]!;
  console.log(`peak RSS 10k -> 40k square: x${squareGrowth.toFixed(2)} for x16 the pixels (x4 the width)`);
  console.log(`peak RSS 10k square -> 10k x 40k: x${tallGrowth.toFixed(2)} for x4 the pixels at the same width`);
  const result = {
    date: new Date().toISOString(),
    cores: availableParallelism(),
    seed: SEED,
    mpp: MPP,
    runs,
    peak_rss_growth: { square_10k_to_40k: squareGrowth, width_10k_height_10k_to_40k: tallGrowth },
  };
  writeBenchResult('synth_slide', result);
}

await main();

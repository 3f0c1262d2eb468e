import { join } from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { buildStudent, buildTeacher } from '../src/models/build.js';
import * as torch from '../src/torch/index.js';
import { segmentationLoss } from '../src/train/losses.js';
import { writeBenchResult } from './results_file.js';

const root = new URL('../..', import.meta.url).pathname;
const LOSS = { dice: [0.5, 0, 0, 1.5], bce: [0.5, 2, 2, 0], focal: [0, 0, 0, 0] };
// Where training would run: CUDA when the linked libtorch has it, else the CPU.
const device = torch.best_device();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Wall time of fn, queued GPU work included. */
function timeMs(fn: () => void): number {
  torch.cuda.synchronize();
  const t0 = process.hrtime.bigint();
  fn();
  torch.cuda.synchronize();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

interface Net {
  name: string;
  forward(image: torch.Tensor): torch.Tensor; // -> high-res logits
  trainable: torch.Tensor[];
  train(mode: boolean): void;
}

function measure(net: Net, runs: number): Record<string, number> {
  const out: Record<string, number> = {};
  net.train(false);
  for (const batch of [1, 4]) {
    const image = torch.rand([batch, 3, 512, 512], { device });
    torch.no_grad(() => torch.tidy(() => net.forward(image))); // warm-up
    const times = Array.from({ length: runs }, () => timeMs(() => torch.no_grad(() => torch.tidy(() => net.forward(image)))));
    out[`forward_ms_per_image_b${batch}`] = median(times) / batch;
    image.dispose();
    console.log(
      `  ${net.name} forward, batch ${batch}: ${(median(times) / batch).toFixed(0)} ms per image (runs ${times.map((t) => t.toFixed(0)).join(', ')})`,
    );
  }
  net.train(true);
  const opt = new torch.optim.AdamW(net.trainable, { lr: 1e-4 });
  const image = torch.rand([1, 3, 512, 512], { device });
  const target = torch.rand([1, 4, 512, 512], { device }).gt(0.5).float();
  const step = () =>
    torch.tidy(() => {
      const loss = segmentationLoss(net.forward(image), target, LOSS).total;
      opt.zero_grad();
      loss.backward();
      opt.step();
    });
  step(); // warm-up (creates the optimizer state)
  const times = Array.from({ length: Math.max(2, runs - 1) }, () => timeMs(step));
  out.train_step_ms_b1 = median(times);
  console.log(`  ${net.name} training step, batch 1: ${median(times).toFixed(0)} ms`);
  opt.dispose();
  torch.dispose([image, target]);
  return out;
}

function main(): void {
  const cfgT = loadConfig(join(root, 'configs/multimodel2s-pidinet-plip-d2t512-iter5k-b8.yaml'));
  const cfgS = loadConfig(join(root, 'configs/mobilesam-simple-t1i1-iter5k.yaml'));
  console.log(`libtorch ${torch.libtorch_version()}, ${device === 'cpu' ? `${torch.get_num_threads()} threads` : device}, 512x512 input`);
  torch.manual_seed(0);
  const student = buildStudent(cfgS).to(device);
  const s = measure(
    {
      name: 'student',
      forward: (x) => student.forward(x).masks,
      trainable: student.parameters(),
      train: (m) => student.train(m),
    },
    5,
  );
  student.dispose();
  const teacher = buildTeacher(cfgT).to(device);
  const t = measure(
    {
      name: 'teacher',
      forward: (x) => teacher.forward(x).masks,
      trainable: teacher.trainable_parameters().map(([, p]) => p),
      train: (m) => teacher.train(m),
    },
    3,
  );
  teacher.dispose();
  const result = {
    date: new Date().toISOString(),
    libtorch: torch.libtorch_version(),
    threads: torch.get_num_threads(),
    device,
    student: s,
    teacher: t,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
  console.log(`peak RSS ${result.peak_rss_mb.toFixed(0)} MB`);
  writeBenchResult('models', result, device);
}

main();

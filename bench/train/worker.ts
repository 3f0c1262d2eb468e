// One side of bench:train, in its own process: builds the full-size student or teacher from the mmfd
// checkout at `root` (this one or an older one, through its dist/) and times training steps at batch
// 1 and forward passes at batch 1 and 4 (512 x 512, random weights), printing one JSON line. Wall and
// CPU time are both reported: on a shared machine CPU time is the steadier of the two.
import { type Cost, clock, LOSS, loadCheckout } from './checkout.js';

const [root, which, stepsArg] = process.argv.slice(2) as [string, 'student' | 'teacher', string];
const steps = Number(stepsArg);
const { torch, segmentationLoss, net, params } = await loadCheckout(root, which);

/** Wall ms, CPU ms and page faults of fn, each the least of `runs` after one untimed warm-up. */
function time(fn: () => void, runs: number): Cost {
  fn();
  let best = { wall: Number.POSITIVE_INFINITY, cpu: Number.POSITIVE_INFINITY, faults: Number.POSITIVE_INFINITY };
  for (let i = 0; i < runs; i++) {
    const a = clock();
    fn();
    const b = clock();
    best = {
      wall: Math.min(best.wall, b.wall - a.wall),
      cpu: Math.min(best.cpu, b.cpu - a.cpu),
      faults: Math.min(best.faults, b.faults - a.faults),
    };
  }
  return best;
}

const result: Record<string, number> = {};

net.train(true);
const opt = new torch.optim.AdamW(params, { lr: 1e-4 });
const image = torch.rand([1, 3, 512, 512]);
const target = torch.rand([1, 4, 512, 512]).gt(0.5).float();
const step = time(
  () =>
    torch.tidy(() => {
      const loss = segmentationLoss(net.forward(image).masks, target, LOSS).total;
      opt.zero_grad();
      loss.backward();
      opt.step();
    }),
  steps,
);
result.train_step_wall_ms = step.wall;
result.train_step_cpu_ms = step.cpu;
result.train_step_page_faults = step.faults;
opt.dispose();

net.train(false);
// Each measurement is the same 4 images, as 4 passes at batch 1 or one at batch 4, and each batch size gets the
// least of 2, so that neither side gains from taking the least of more samples.
const IMAGES = 4;
for (const batch of [1, 4]) {
  const x = torch.rand([batch, 3, 512, 512]);
  const pass = () => torch.no_grad(() => torch.tidy(() => net.forward(x)));
  const t = time(() => {
    for (let i = 0; i < IMAGES / batch; i++) pass();
  }, 2);
  result[`forward_b${batch}_wall_ms_per_image`] = t.wall / IMAGES;
  result[`forward_b${batch}_cpu_ms_per_image`] = t.cpu / IMAGES;
  result[`forward_b${batch}_page_faults_per_image`] = t.faults / IMAGES;
  x.dispose();
}
result.peak_rss_mb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify(result)}\n`);

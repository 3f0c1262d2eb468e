// Where a training step's time goes, in its own process: the full-size student or teacher (512 x 512,
// batch 1, random weights) from the mmfd checkout at `root`, one step split into its phases (forward
// with grad, loss, zero_grad, backward, optimizer step, release of the step's tensors), wall and CPU ms
// each, the least of `runs` steps after a warm-up; then, where that checkout's addon has the profiler
// hook, one more step under libtorch's autograd profiler, its ops aggregated by name: call counts and
// self ms (wall clock under the profiler, whose own cost inflates small ops: for ranking, not timing).
// Prints one JSON line.
//   node dist/bench/train/breakdown.js <root> student|teacher <runs>
import { clock, LOSS, loadCheckout } from './checkout.js';

const [root, which, runsArg] = process.argv.slice(2) as [string, 'student' | 'teacher', string];
const runs = Number(runsArg);
const { torch, native, segmentationLoss, net, params } = await loadCheckout(root, which);

const PHASES = ['forward', 'loss', 'zero_grad', 'backward', 'optimizer_step', 'release'] as const;
type Phase = (typeof PHASES)[number];

net.train(true);
const opt = new torch.optim.AdamW(params, { lr: 1e-4 });
const image = torch.rand([1, 3, 512, 512]);
const target = torch.rand([1, 4, 512, 512]).gt(0.5).float();

/** One training step; each phase's wall and CPU ms. */
function step(): Record<Phase, { wall: number; cpu: number }> {
  const out = {} as Record<Phase, { wall: number; cpu: number }>;
  let last = clock();
  const mark = (phase: Phase): void => {
    const now = clock();
    out[phase] = { wall: now.wall - last.wall, cpu: now.cpu - last.cpu };
    last = now;
  };
  torch.tidy(() => {
    const masks = net.forward(image).masks;
    mark('forward');
    const loss = segmentationLoss(masks, target, LOSS).total;
    mark('loss');
    opt.zero_grad();
    mark('zero_grad');
    loss.backward();
    mark('backward');
    opt.step();
    mark('optimizer_step');
  });
  mark('release');
  return out;
}

step();
const best = Object.fromEntries(PHASES.map((p) => [p, { wall: Number.POSITIVE_INFINITY, cpu: Number.POSITIVE_INFINITY }])) as Record<
  Phase,
  { wall: number; cpu: number }
>;
for (let i = 0; i < runs; i++) {
  const s = step();
  for (const p of PHASES) best[p] = { wall: Math.min(best[p].wall, s[p].wall), cpu: Math.min(best[p].cpu, s[p].cpu) };
}
const result: Record<string, unknown> = {
  phases_ms: Object.fromEntries(PHASES.map((p) => [p, { wall: Math.round(best[p].wall), cpu: Math.round(best[p].cpu) }])),
};
if (typeof native.profilerStart === 'function') {
  native.profilerStart();
  step();
  const rows = native.profilerStop() as [string, number, number, number][];
  const top = rows.sort((a, b) => b[2] - a[2]).slice(0, 25);
  result.profiler_top_self_ms = top.map(([name, calls, self, total]) => ({
    name,
    calls,
    self_ms: Math.round(self / 100) / 10,
    total_ms: Math.round(total / 100) / 10,
  }));
  result.profiler_calls = rows.reduce((a, r) => a + r[1], 0);
}
opt.dispose();
process.stdout.write(`${JSON.stringify(result)}\n`);

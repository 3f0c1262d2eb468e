// `mmfd demo`: the main job on built-in data, CPU, no downloads.
// Until the MMFD networks and the synthetic placenta land (issues 3-5), it shows the engine doing a
// complete segmentation training run: synthetic "villus" discs on intervillous background, a small
// conv net, AdamW with linear warm-up then cosine annealing, and the IoU on held-out images.
import * as torch from '../torch/index.js';

const { nn } = torch;
const F = nn.functional;
type Tensor = torch.Tensor;

/** A batch of size x size RGB images with one pink disc each on a pale background, plus the disc masks. */
function discs(n: number, size: number, gen: torch.Generator): { image: Tensor; mask: Tensor } {
  return torch.tidy(() => {
    const coords = torch.arange(0, size, 1, { dtype: 'float32' });
    const [yy, xx] = torch.meshgrid([coords, coords]) as [Tensor, Tensor]; // [S, S]
    const centre = torch
      .rand([n, 2, 1, 1], { generator: gen })
      .mul(size * 0.6)
      .add(size * 0.2);
    const radius = torch
      .rand([n, 1, 1, 1], { generator: gen })
      .mul(size * 0.15)
      .add(size * 0.1);
    const dist2 = yy
      .sub(centre.narrow(1, 0, 1))
      .square()
      .add(xx.sub(centre.narrow(1, 1, 1)).square());
    const mask = dist2.le(radius.square()).float(); // [N, 1, S, S]
    const pink = torch.tensor([0.85, 0.45, 0.65]).reshape(1, 3, 1, 1);
    const pale = torch.tensor([0.95, 0.9, 0.93]).reshape(1, 3, 1, 1);
    const noise = torch.randn([n, 3, size, size], { generator: gen }).mul(0.08);
    const image = pink
      .mul(mask)
      .add(pale.mul(mask.neg().add(1)))
      .add(noise);
    return { image, mask };
  });
}

class TinySegmenter extends nn.Module {
  body = new nn.Sequential(
    new nn.Conv2d(3, 16, 3, { padding: 1 }),
    new nn.BatchNorm2d(16),
    new nn.ReLU(),
    new nn.Conv2d(16, 16, 3, { padding: 2, dilation: 2 }),
    new nn.ReLU(),
    new nn.Conv2d(16, 1, 1),
  );
  forward(x: Tensor): Tensor {
    return this.body.forward(x);
  }
}

function iou(logits: Tensor, mask: Tensor): number {
  return torch.tidy(() => {
    const pred = logits.gt(0);
    const truth = mask.gt(0.5);
    return pred.logical_and(truth).sum().item() / Math.max(1, pred.logical_or(truth).sum().item());
  });
}

export async function run(args: string[]): Promise<number> {
  const steps = Number(args[args.indexOf('--steps') + 1] ?? 300) || 300;
  torch.manual_seed(1234);
  const gen = new torch.Generator(1234);
  const net = new TinySegmenter();
  const opt = new torch.optim.AdamW(net.parameters(), { lr: 1e-2 });
  const sched = new torch.optim.WarmupCosine(opt, { warmup_iters: 20, max_iters: steps });
  console.log(`mmfd demo: libtorch ${torch.libtorch_version()}, ${torch.get_num_threads()} threads`);
  console.log(`training a small segmenter on synthetic 32x32 tissue discs for ${steps} steps (AdamW, warm-up + cosine)`);
  const t0 = Date.now();
  let first = 0;
  let last = 0;
  for (let step = 1; step <= steps; step++) {
    last = torch.tidy(() => {
      const { image, mask } = discs(16, 32, gen);
      const loss = F.binary_cross_entropy_with_logits(net.forward(image), mask);
      opt.zero_grad();
      loss.backward();
      opt.step();
      sched.step();
      return loss.item();
    });
    if (step === 1) first = last;
    if (step === 1 || step % 50 === 0)
      console.log(`  step ${String(step).padStart(4)}  loss ${last.toFixed(4)}  lr ${opt.param_groups[0]!.lr.toExponential(2)}`);
  }
  net.eval();
  const test = discs(64, 32, new torch.Generator(99));
  const score = torch.no_grad(() => torch.tidy(() => iou(net.forward(test.image), test.mask)));
  torch.dispose(test);
  console.log(
    `loss ${first.toFixed(4)} -> ${last.toFixed(4)} (${(first / last).toFixed(1)}x lower) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  console.log(`held-out IoU on 64 new images: ${score.toFixed(3)}`);
  net.dispose();
  return score > 0.5 ? 0 : 1;
}

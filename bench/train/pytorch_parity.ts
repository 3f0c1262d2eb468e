// bench:train's PyTorch side computes what mmfd computes: builds the full-size student in mmfd (seed 0),
// writes its state dict (`<dir>/student.pth`, as `mmfd export --format pth`) and, in `<dir>/io.pth`, a fixed
// image and target, mmfd's eval-mode masks, train-mode masks, the step's loss and each parameter's gradient norm; then
// bench/train/pytorch_student.py loads both and checks its own outputs within 1e-4 x max(1, |ref|).
//   node dist/bench/train/pytorch_parity.js <dir>   prints the comparison as one JSON line; exit 1 on a mismatch,
//   2 when no python3 imports torch (Debian: apt-get install python3-torch; MMFD_PYTHON names another python).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/index.js';
import { buildStudent } from '../../src/models/build.js';
import * as torch from '../../src/torch/index.js';
import { segmentationLoss } from '../../src/train/losses.js';
import { LOSS } from './checkout.js';
import { PYTORCH_STUDENT, pythonWithTorch } from './pytorch.js';

const CONFIG = fileURLToPath(new URL('../../../configs/mobilesam-simple-t1i1-iter5k.yaml', import.meta.url));

interface Worst {
  max_abs_diff: number;
  max_ref: number;
  /** max |got - ref| / (1e-4 x max(1, |ref|)): at most 1 passes. */
  worst_over_tolerance: number;
}

export interface ParityResult {
  eval_masks: Worst;
  train_masks: Worst;
  loss: Worst & { pytorch: number; mmfd: number };
  grad_norms: Worst;
  torch_version: string;
  ok: boolean;
}

/** mmfd's side: the student's state dict and reference outputs, written to `dir`. */
export function writeReference(dir: string): void {
  mkdirSync(dir, { recursive: true });
  torch.manual_seed(0);
  const net = buildStudent(loadConfig(CONFIG, () => {}));
  try {
    torch.tidy(() => {
      torch.io.save_pth(join(dir, 'student.pth'), new Map([...net.state_dict()].map(([k, t]) => [k, t.detach()])));
      const image = torch.rand([1, 3, 512, 512]);
      const target = torch.rand([1, 4, 512, 512]).gt(0.5).float();
      // Eval first: the train-mode forward updates the batch-norm running statistics, as PyTorch's does.
      net.train(false);
      const evalMasks = torch.no_grad(() => net.forward(image).masks);
      net.train(true);
      const trainMasks = net.forward(image).masks;
      const loss = segmentationLoss(trainMasks, target, LOSS).total;
      loss.backward();
      // Each parameter's gradient norm, in named_parameters order: the backward compared without 39 MB of gradients
      // (0 for the unused classification head, which gets none).
      const grads = torch.stack(net.named_parameters().map(([, p]) => p.grad?.norm() ?? torch.zeros([])));
      const io = { image, target, eval_masks: evalMasks, train_masks: trainMasks.detach(), loss: loss.detach(), grad_norms: grads };
      torch.io.save_pth(join(dir, 'io.pth'), new Map(Object.entries(io)));
    });
  } finally {
    net.dispose();
  }
}

/** Writes the reference to `dir` and runs PyTorch's side of the comparison with `python`. */
export function checkParity(python: string, dir: string): ParityResult {
  writeReference(dir);
  const out = execFileSync(python, [PYTORCH_STUDENT, 'parity', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop() as string) as ParityResult;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir] = process.argv.slice(2);
  if (dir === undefined) throw new Error('usage: node dist/bench/train/pytorch_parity.js <dir>');
  const python = pythonWithTorch();
  if (python === undefined) {
    console.error('pytorch_parity: no python3 imports torch (Debian: apt-get install python3-torch; or set MMFD_PYTHON)');
    process.exit(2);
  }
  const result = checkParity(python, dir);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(result.ok ? 0 : 1);
}

// The decoder's initial logits (`init_masks`, one per class) set to each class's prior log-odds on the
// training split. The decoder adds them to its output but never trains them: the previous logits are
// detached before reuse, as in the reference (spec §3.9), so whatever they start at is a permanent
// per-class offset. The reference leaves nn.Embedding's N(0, 1) start, harmless under a pretrained
// decoder; trained from scratch, an offset of +3 on a class that covers 2% of the pixels kept the tiny
// teacher at the trivial all-or-nothing answer for thousands of iterations. The class prior is where a
// classifier's bias belongs (RetinaNet's prior initialisation). Checkpoints, original ones included,
// keep the values they hold: this runs only when a run starts fresh; resuming loads the saved ones.
import { batchTensors, type DataLoader } from '../data/loader.js';
import * as torch from '../torch/index.js';

/** The key of the initial logits in the teacher's and the student's state dict (both end so). */
const INIT_MASKS = 'prompt_encoder.init_masks.weight';
/** Frequencies are clamped to [EPS, 1 - EPS], so an absent class gets logit(1e-4) ~ -9.2 and not -infinity. */
const EPS = 1e-4;

/** Each class's share of the labelled training pixels (soft targets count their value), from one pass over the split. */
export async function classFrequencies(loader: DataLoader): Promise<number[]> {
  let sums: number[] | undefined;
  let pixels = 0;
  for await (const batch of loader.epoch(0)) {
    try {
      const [b, , h, w] = batch.sem_mask.shape as [number, number, number, number];
      const { valid } = batch;
      // Ignored pixels count neither for a class nor in the total.
      const s = torch.tidy(() => (valid ? batch.sem_mask.mul(valid) : batch.sem_mask).double().sum([0, 2, 3])).toArray();
      sums = sums ? sums.map((v, c) => v + (s[c] as number)) : s;
      pixels += valid ? torch.tidy(() => valid.double().sum().item()) : b * h * w;
    } finally {
      torch.dispose(batchTensors(batch));
    }
  }
  if (sums === undefined || pixels === 0) throw new Error('classFrequencies: the training split is empty');
  return sums.map((v) => v / pixels);
}

/** log(p / (1 - p)) of each frequency, clamped to [EPS, 1 - EPS]. */
export function priorLogits(frequencies: readonly number[]): number[] {
  return frequencies.map((f) => {
    const p = Math.min(1 - EPS, Math.max(EPS, f));
    return Math.log(p / (1 - p));
  });
}

/** Sets the model's initial logits to the training split's prior log-odds; returns them. */
export async function initLogitsFromPriors(model: torch.nn.Module, train: DataLoader): Promise<number[]> {
  const entry = model.named_parameters().find(([k]) => k === INIT_MASKS || k.endsWith(`.${INIT_MASKS}`));
  if (entry === undefined) throw new Error(`initLogitsFromPriors: the model has no ${INIT_MASKS}`);
  const [, weight] = entry;
  const logits = priorLogits(await classFrequencies(train));
  if (logits.length !== weight.numel()) {
    throw new Error(`initLogitsFromPriors: the data has ${logits.length} classes, the model's ${INIT_MASKS} ${weight.numel()}`);
  }
  torch.no_grad(() => torch.tidy(() => weight.copy_(torch.tensor(logits, { device: weight.device as torch.Device }).view(weight.shape))));
  return logits;
}

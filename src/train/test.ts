// Testing a trained model (the reference's test_process): every image of the test split scored by
// the Evaluator (spec §8), eval_results.json with the Markdown and CSV tables in the run folder, and
// pictures in <run>/result_dir/vis/: the reference's overlay <name>_iter0.jpg of every image (when
// test.is_savevis), and original | prediction | ground truth composites of the first few.
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { type Batch, batchTensors, type DataLoader } from '../data/loader.js';
import { Evaluator, type Summary } from '../eval/evaluator.js';
import { markdownTable, RESULTS_JSON, writeReport } from '../eval/report.js';
import { Progress } from '../progress.js';
import * as torch from '../torch/index.js';
import { writeComposite } from '../viz/composite.js';
import { writeReferenceOverlay } from '../viz/overlay.js';

type Tensor = torch.Tensor;

/** Composites written per test run (the reference overlay is written for every image). */
export const COMPOSITES = 4;
/** Composite panels are enlarged (nearest neighbour) to at least this many pixels a side to be legible. */
const MIN_PANEL = 256;

/** The image [3, H, W] enlarged by a whole factor for the composite; the maps are resized to it there. */
function forDisplay(image: Tensor): Tensor {
  const [h, w] = image.shape.slice(-2) as [number, number];
  const k = Math.ceil(MIN_PANEL / Math.min(h, w));
  if (k <= 1) return image.clone();
  return torch.tidy(() => torch.nn.functional.interpolate(image.unsqueeze(0), { size: [h * k, w * k], mode: 'nearest' }).squeeze(0));
}

export interface TestRun {
  cfg: Config;
  dir: string;
  label: string;
  model: torch.nn.Module;
  loader: DataLoader;
  device: torch.Device;
  /** Logits [B, C, H, W] per refinement level (component.test_iter of them), model in eval mode. */
  predict(batch: Batch): Tensor[];
  /** µm per pixel of the network input (the checkpoint's input_mpp): adds the HD95 in microns. */
  mpp?: number;
}

export const visDir = (dir: string): string => join(dir, 'result_dir', 'vis');

/** Scores the test split, writes the results and pictures, and returns the summary. */
export async function testModel(run: TestRun): Promise<Summary> {
  const levels = run.cfg.component.test_iter;
  const evaluator = new Evaluator({ levels, mpp: run.mpp });
  const saveVis = run.cfg.test.is_savevis;
  const progress = new Progress(`${run.label} test`, run.loader.samples.length);
  let scored = 0;
  run.model.eval();
  for await (const batch of run.loader.epoch(0)) {
    // Logits on the CPU: the metrics and pictures read them there.
    const logits = torch.tidy(() =>
      torch.no_grad(() => {
        const image = run.device === 'cpu' ? batch.image : batch.image.to(run.device);
        return run.predict({ ...batch, image }).map((l) => l.to('cpu'));
      }),
    );
    try {
      if (logits.length !== levels)
        throw new Error(`${run.label}: the model gave ${logits.length} refinement levels, component.test_iter is ${levels}`);
      for (let k = 0; k < batch.names.length; k++) {
        const name = batch.names[k] as string;
        torch.tidy(() => {
          for (const [level, l] of logits.entries())
            evaluator.add(l.narrow(0, k, 1), batch.sem_mask.narrow(0, k, 1), level, batch.valid?.narrow(0, k, 1));
        });
        const [image, maps, truth] = [batch.image.select(0, k), (logits.at(-1) as Tensor).select(0, k), batch.sem_mask.select(0, k)];
        try {
          if (saveVis) await writeReferenceOverlay({ visDir: visDir(run.dir), stem: name, image, maps, logits: true });
          if (scored < COMPOSITES) {
            const shown = forDisplay(image);
            try {
              await writeComposite(join(visDir(run.dir), `${name}_composite.png`), {
                image: shown,
                prediction: maps,
                logits: true,
                groundTruth: truth,
                heading: name,
              });
            } finally {
              shown.dispose();
            }
          }
        } finally {
          torch.dispose([image, maps, truth]);
        }
        progress.update(++scored, '');
      }
    } finally {
      torch.dispose([...batchTensors(batch), ...logits]);
    }
  }
  progress.end();
  const summary = evaluator.summary();
  writeReport(run.dir, summary);
  process.stdout.write(`${run.label}: ${join(run.dir, RESULTS_JSON)}\n${markdownTable(summary)}`);
  return summary;
}

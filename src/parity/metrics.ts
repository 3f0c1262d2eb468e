// metrics: the test evaluator's per-image scores and summary for a few images, each scored on its own
// (batch 1) by mmfd's Evaluator. mmfd's honest key names map back to the reference's (REFERENCE_KEY).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Evaluator, isMmfdKey, REFERENCE_KEY, type Summary } from '../eval/evaluator.js';
import type { ImageScores } from '../eval/metrics.js';
import * as torch from '../torch/index.js';
import { absolute, EXACT, type Fixture, type KindResult, type Tolerance } from './check.js';

/** README: scores and their means within 1e-6 absolute; "hd95" within 1e-9. */
const SCORE = absolute(1e-6);
const DISTANCE = absolute(1e-9);

/** Stored per-image name -> mmfd's ImageScores field. */
const PER_IMAGE: Record<string, Exclude<keyof ImageScores, 'overlap'>> = {
  iou: 'iou',
  soft_dice: 'soft_dice',
  accuracy: 'accuracy',
  precision: 'precision',
  recall: 'recall',
  fscore: 'fscore',
  hd95: 'hausdorff_max',
};

/** mmfd's summary under the reference's key names, without mmfd's own additions. */
function referenceSummary(summary: Summary): Summary {
  return Object.fromEntries(
    Object.entries(summary)
      .filter(([k]) => !isMmfdKey(k))
      .map(([k, v]) => [REFERENCE_KEY[k] ?? k, v]),
  );
}

function toleranceOf(name: string): Tolerance {
  if (name.endsWith('num_imgs')) return EXACT;
  return name === 'per_image.hd95' || name.startsWith('summary.hd95') ? DISTANCE : SCORE;
}

export function run(f: Fixture): KindResult {
  const logits = f.inputs.get('logits');
  const gt = f.inputs.get('gt');
  if (logits === undefined || gt === undefined) throw new Error(`${f.dir}: inputs.safetensors needs logits and gt`);
  // The fixture holds one output per image, so one refinement level.
  const evaluator = new Evaluator({ levels: 1 });
  const images = logits.size(0);
  for (let n = 0; n < images; n++) torch.tidy(() => evaluator.add(logits.narrow(0, n, 1), gt.narrow(0, n, 1)));
  const summary = referenceSummary(evaluator.summary());

  const outputs = new Map<string, torch.Tensor>();
  for (const [stored, field] of Object.entries(PER_IMAGE)) {
    outputs.set(
      `per_image.${stored}`,
      torch.tensor(
        evaluator.images.map((s) => s[field]),
        { dtype: 'float64' },
      ),
    );
  }
  for (const [key, value] of Object.entries(summary)) {
    if (/^MIoU_\d+_L\d+$/.test(key)) continue; // stored per level as one vector, below
    const values = Array.isArray(value) ? value : [value];
    outputs.set(`summary.${key}`, torch.tensor(values, { dtype: key === 'num_imgs' ? 'int64' : 'float64' }));
  }
  const classes = logits.size(1);
  for (let level = 0; level < evaluator.levels; level++) {
    const perClass = Array.from({ length: classes }, (_, c) => summary[`MIoU_${c}_L${level}`] as number);
    outputs.set(`summary.MIoU_L${level}`, torch.tensor(perClass, { dtype: 'float64' }));
  }

  const stored = JSON.parse(readFileSync(join(f.dir, 'metrics.json'), 'utf8')) as { summary: Record<string, unknown> };
  const expectedKeys = Object.keys(stored.summary).sort().join(', ');
  const producedKeys = Object.keys(summary).sort().join(', ');
  return {
    outputs,
    tolerance: toleranceOf,
    checks: [
      {
        name: 'summary keys as metrics.json',
        ok: expectedKeys === producedKeys,
        detail:
          expectedKeys === producedKeys ? `${Object.keys(summary).length} keys` : `produced ${producedKeys}; expected ${expectedKeys}`,
      },
    ],
  };
}

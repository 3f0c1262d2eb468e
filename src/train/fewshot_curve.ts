// The few-shot curve: held-out test mIoU against the labelled patches a model trained on, one line per model
// (the mean over seeds where there are several; bench:fewshot's JSON and table give each seed and the spread).
import { writeCurvesPng } from '../viz/plot.js';

export interface FewshotLine {
  name: string;
  /** One point per percentage, in increasing patches; `miou` holds one value per seed. */
  points: readonly { patches: number; miou: readonly number[] }[];
}

export const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

/** Writes the curve as a PNG. */
export async function writeFewshotCurve(path: string, lines: readonly FewshotLine[], title: string): Promise<void> {
  const seeds = Math.max(...lines.flatMap((l) => l.points.map((p) => p.miou.length)));
  const losses = lines.map((l) => ({
    name: seeds > 1 ? `${l.name}, mean of ${seeds} seeds` : l.name,
    points: l.points.map((p) => [p.patches, mean(p.miou)] as const),
  }));
  await writeCurvesPng(path, { losses, title, xLabel: 'labelled training patches', lossLabel: 'held-out test mIoU' });
}

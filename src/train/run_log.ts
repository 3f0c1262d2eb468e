// The training log: one JSON object per line (JSONL), a `train` record for every iteration and a
// `val` record for every validation, appended as they happen. A resumed run first drops the records
// past its checkpoint (the killed run may have logged iterations it then lost), so the log always
// describes the weights on disk. The curves PNG is drawn from it.
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { writeAtomic } from '../torch/io/files.js';
import { type Series, writeCurvesPng } from '../viz/plot.js';

export const LOG_FILE = 'train_log.jsonl';
export const CURVES_FILE = 'training_curves.png';

export interface TrainRecord {
  kind: 'train';
  /** Iterations done, this one included. */
  iteration: number;
  /** The learning rate this iteration used. */
  lr: number;
  /** The loss terms of this iteration's batch (`total` is what was backpropagated). */
  losses: Record<string, number>;
  images_per_s: number;
  time: string;
}

export interface ValRecord {
  kind: 'val';
  iteration: number;
  miou: number;
  miou_per_class: number[];
  time: string;
}

export type LogRecord = TrainRecord | ValRecord;

/** Every record of a log file; a torn last line (a run killed mid-write) is ignored. */
export function readLog(path: string): LogRecord[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: LogRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as LogRecord);
    } catch (err) {
      const last = lines.slice(i + 1).every((l) => l.trim() === '');
      if (!last) throw new Error(`${path}: line ${i + 1} is not valid JSON: ${(err as Error).message}`);
    }
  });
  return out;
}

export class RunLog {
  private constructor(readonly path: string) {}

  /** A new log (any earlier one at path is removed). */
  static fresh(path: string): RunLog {
    rmSync(path, { force: true });
    return new RunLog(path);
  }

  /** The log of a run resumed after `iteration`: later records are dropped. */
  static resumed(path: string, iteration: number): RunLog {
    const kept = readLog(path).filter((r) => r.iteration <= iteration);
    const text = kept.map((r) => `${JSON.stringify(r)}\n`).join('');
    writeAtomic(path, (sink) => sink.write(new TextEncoder().encode(text)));
    return new RunLog(path);
  }

  append(record: LogRecord): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }
}

/** The loss terms (those not always 0) and the validation mIoU of a log, as curves. */
export function logSeries(records: readonly LogRecord[]): { losses: Series[]; validation: Series[] } {
  const train = records.filter((r): r is TrainRecord => r.kind === 'train');
  const terms = [...new Set(train.flatMap((r) => Object.keys(r.losses)))];
  const losses = terms
    .map((name) => ({ name, points: train.map((r) => [r.iteration, r.losses[name] ?? Number.NaN] as const) }))
    .filter((s) => s.points.some(([, y]) => y !== 0));
  const val = records.filter((r): r is ValRecord => r.kind === 'val');
  return { losses, validation: val.length ? [{ name: 'val mIoU', points: val.map((r) => [r.iteration, r.miou] as const) }] : [] };
}

/** Draws the log's loss and validation curves into a PNG (atomically); a log without training records has none. */
export async function writeTrainingCurves(logPath: string, pngPath: string, title: string): Promise<void> {
  const { losses, validation } = logSeries(readLog(logPath));
  if (losses.length === 0) return;
  await writeCurvesPng(pngPath, {
    losses,
    validation: validation.length ? validation : undefined,
    title,
    xLabel: 'iteration',
    lossLabel: 'loss',
    validationLabel: 'mIoU',
  });
}

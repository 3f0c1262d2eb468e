// The student-only baseline: the reference's task `mobilesam` (spec §1.5, its only complete training
// loop), run by `mmfd train --config configs/mobilesam-*.yaml`. TinyViT and its own semantic decoder
// train on the segmentation losses alone, no teacher, in the shared loop (AdamW, warm-up + cosine,
// `last`/`best`, resume, early stopping that stops) rather than the reference's epoch loop with its never-stopping EarlyStopping.
// It is the comparison distillation has to beat, and a student for slides when no teacher is trained.
import type { Config } from '../config/index.js';
import type { Summary } from '../eval/evaluator.js';
import { forEachPercentage } from './datasets.js';
import { resolvedConfig, runDir } from './run_config.js';
import { type StageRun, trainOnLosses } from './stage1.js';
import { buildSeededStudent, studentLogits, testTrainedStudent } from './stage2.js';

const label = (cfg: Config, perc: number) => `${cfg.model} P${perc} student alone`;

const testRun = (cfg: Config, perc: number, source: string): Promise<Summary> =>
  testTrainedStudent({
    arch: cfg,
    run: resolvedConfig(cfg, perc),
    perc,
    label: label(cfg, perc),
    howToTrain: `mmfd train --config ${source}`,
  });

/** `mmfd train --config <mobilesam.yaml>`: trains (or resumes) and tests the student alone for every percentage. */
export function trainStudentAlone(cfg: Config, source: string): Promise<StageRun[]> {
  return forEachPercentage(cfg, async (perc) => {
    const training = await trainOnLosses(cfg, perc, {
      label: label(cfg, perc),
      build: (run) => {
        const student = buildSeededStudent(run, run.seed);
        return { model: student, trainable: student.parameters().filter((p) => p.requires_grad), omitted: new Set() };
      },
      logits: studentLogits,
    });
    return { perc, dir: runDir(cfg, perc), training, test: await testRun(cfg, perc, source) };
  });
}

/** `mmfd train --config <mobilesam.yaml> --test`: tests the trained student of every percentage. */
export function testStudentAlone(cfg: Config, source: string): Promise<Summary[]> {
  return forEachPercentage(cfg, (perc) => testRun(cfg, perc, source));
}

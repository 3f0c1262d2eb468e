// A stand-in SlideSegmenter that hands back each slide's ground truth (its synthetic label image), as if the
// model were perfect: the cohort's outputs are then known without a network. `log`, when given, gets one
// line per call started and finished ("start <slide>", "end <slide>"), so a test can count runs across
// processes; `hang` names a slide on which it stops forever after writing the label map (a worker to kill
// mid-slide), touching `<log>.hang` first so the test knows when.
import { appendFileSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { SlideSegmenter } from '../../src/cohort/run.js';
import { OpenSlide } from '../../src/slides/io/openslide.js';
import { labelPaths } from '../../src/synth/slide/slide.js';

export const TRUTH_MODEL_SHA = 'ab'.repeat(32);

export function truthSegmenter(o: { log?: string; hang?: string } = {}): SlideSegmenter {
  const note = (line: string) => o.log !== undefined && appendFileSync(o.log, `${line}\n`);
  return {
    id: 'truth',
    sha256: TRUTH_MODEL_SHA,
    async segment(request) {
      const name = basename(request.slide);
      note(`start ${name}`);
      const slide = OpenSlide.open(request.slide);
      try {
        const mpp = request.mpp ?? slide.mpp!.x;
        await copyFile(labelPaths(request.slide).labels, request.labels);
        request.onProgress?.(1, 1);
        if (name === o.hang) {
          writeFileSync(`${o.log}.hang`, name);
          await new Promise(() => {});
        }
        note(`end ${name}`);
        return { slideMpp: mpp, labelMpp: mpp };
      } finally {
        slide.close();
      }
    },
  };
}

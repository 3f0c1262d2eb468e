// `mmfd segment --shard i/n`: the i-th of n parts of a cohort (i from 1), for clusters without Redis (a Slurm
// job array, a Kubernetes indexed job). Every part computes the same split from the same list, with no
// coordination: slides go, largest first, to the part with the fewest bytes so far (ties to the lower part,
// then list order), so the parts take about equal time; each part keeps its slides in list order.
import { existsSync, statSync } from 'node:fs';
import type { SlideInput } from './slide_list.js';

export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (m === null || count < 1 || index < 1 || index > count)
    throw new Error(
      `--shard needs i/n with 1 <= i <= n, e.g. 1/4 (got ${text}); in a Slurm job array numbered from 1: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`,
    );
  return { index, count };
}

/** The slides of part `shard.index` (sizes read from the files; a missing file counts as 0 bytes). */
export function shardSlides<T extends SlideInput>(slides: readonly T[], shard: Shard, size = fileSize): T[] {
  const order = slides.map((s, k) => ({ k, bytes: size(s.path) })).sort((a, b) => b.bytes - a.bytes || a.k - b.k);
  const load = new Array<number>(shard.count).fill(0);
  const mine = new Set<number>();
  for (const { k, bytes } of order) {
    let part = 0;
    for (let p = 1; p < shard.count; p++) if (load[p]! < load[part]!) part = p;
    load[part]! += bytes;
    if (part === shard.index - 1) mine.add(k);
  }
  return slides.filter((_, k) => mine.has(k));
}

function fileSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

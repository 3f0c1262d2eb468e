// The train/val split of `mmfd patches` by annotated region: patches cut from one region overlap and look alike,
// so a per-patch split would score validation on near-copies of training patches. Regions whose boxes, grown by
// one patch on every side, meet are one group (their patches may share pixels); a group goes to one side whole.
import { splitSamples } from '../synth/patch/dataset.js';
import { SynthRng, synthSeed } from '../synth/prng.js';
import { type Box, boxesOverlap } from './geometry.js';

/** Each region's group: the smallest index of the regions its grown box meets, directly or through others. */
export function regionGroups(boxes: readonly Box[], grow: number): number[] {
  const parent = boxes.map((_, i) => i);
  const root = (i: number): number => (parent[i] === i ? i : root(parent[i]!));
  const grown = boxes.map((b): Box => [b[0] - grow, b[1] - grow, b[2] + grow, b[3] + grow]);
  for (let i = 0; i < boxes.length; i++) {
    for (let j = 0; j < i; j++) {
      if (!boxesOverlap(grown[i]!, grown[j]!)) continue;
      const [a, b] = [root(i), root(j)];
      parent[Math.max(a, b)] = Math.min(a, b);
    }
  }
  return boxes.map((_, i) => root(i));
}

/** The region whose box holds (x, y), else the one nearest it (an extra patch centred on a class annotation). */
export function regionAt(boxes: readonly Box[], x: number, y: number): number {
  const distance = (b: Box) => Math.hypot(Math.max(b[0] - x, 0, x - b[2]), Math.max(b[1] - y, 0, y - b[3]));
  let best = 0;
  boxes.forEach((b, i) => {
    if (distance(b) < distance(boxes[best]!)) best = i;
  });
  return best;
}

/**
 * About 30% of the patches to val, whole groups at a time in a seeded order, at least one group on each side (the
 * smallest group holds at most half the patches, under twice the target, so val always gets one).
 * With fewer than two groups there is nothing to split by: the split is per patch, and `perPatch` says so.
 */
export function splitByGroup(
  samples: readonly { name: string; group: string }[],
  seed: number,
): { train: string[]; val: string[]; groups: number; perPatch: boolean } {
  const groups = [...new Set(samples.map((s) => s.group))].sort();
  if (groups.length < 2)
    return {
      ...splitSamples(
        samples.map((s) => s.name),
        seed,
      ),
      groups: groups.length,
      perPatch: true,
    };
  const count = (g: string) => samples.filter((s) => s.group === g).length;
  const order = new SynthRng(synthSeed(seed, 0x5e61, groups.length)).shuffle([...groups]);
  const target = 0.3 * samples.length;
  const valGroups = new Set<string>();
  let inVal = 0;
  // In the seeded order, a group goes to val when it brings val nearer the target, and never the last one left.
  for (const g of order) {
    const n = count(g);
    if (valGroups.size === groups.length - 1 || Math.abs(inVal + n - target) >= Math.abs(inVal - target)) continue;
    valGroups.add(g);
    inVal += n;
  }
  const side = (val: boolean) =>
    samples
      .filter((s) => valGroups.has(s.group) === val)
      .map((s) => s.name)
      .sort();
  return { train: side(false), val: side(true), groups: groups.length, perPatch: false };
}

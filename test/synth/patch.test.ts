// The synthetic placenta generator: exact labels (the written layers decode to the drawn geometry), anatomy
// (capillaries inside villi, knots on villus borders), H&E-like colour next to a real patch, reproducible
// bytes, the split, and clear errors for a bad --out.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { run } from '../../src/cli/synth.js';
import { SPLIT_DIR, type SyntheticDataset, splitSamples, syntheticSample, writeSyntheticDataset } from '../../src/synth/patch/dataset.js';
import { CLASS_TABLE, cls2clr, type RawClassName } from '../../src/synth/patch/labels.js';
import { finalClassMasks, type SynthPatch, synthesizePatch } from '../../src/synth/patch/placenta.js';
import { FOLDER_TEMP_NAME } from '../../src/torch/io/files.js';
import { runCaptured } from '../helpers/cli.js';
import { repoRoot } from '../helpers/fixtures.js';

const EXAMPLE = join(repoRoot(), '..', 'shared', 'data', 'placenta-example.jpg');
const SIZE = 256;
const SEED = 20250;

/** Every file under dir, as sorted paths relative to it. */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(dir, join(prefix, e.name)) : [join(prefix, e.name)]))
    .sort();
}

async function decodeRgb(file: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3, `${file}: expected RGB`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

function csvColumns(file: string): Record<string, string[]> {
  const [header, ...rows] = readFileSync(file, 'utf8').trimEnd().split('\n');
  const names = header!.split(',');
  const out: Record<string, string[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const row of rows) {
    for (const [c, v] of row.split(',').entries()) if (v !== '') out[names[c]!]!.push(v);
  }
  return out;
}

/** Mean RGB of the pixels where `where` holds, and how many there were. */
function meanColour(image: Uint8Array, where: (i: number) => boolean): { rgb: [number, number, number]; count: number } {
  const sum = [0, 0, 0];
  let count = 0;
  for (let i = 0; i < image.length / 3; i++) {
    if (!where(i)) continue;
    count++;
    for (let c = 0; c < 3; c++) sum[c]! += image[3 * i + c]!;
  }
  return { rgb: sum.map((s) => s / Math.max(1, count)) as [number, number, number], count };
}

describe('synthetic placenta dataset', () => {
  let root: string;
  let ds: SyntheticDataset;
  let patches: SynthPatch[];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'mmfd-synth-'));
    ds = await writeSyntheticDataset(join(root, 'ds'), { count: 10, seed: SEED, size: SIZE });
    patches = ds.samples.map((_, i) => synthesizePatch(syntheticSample(SEED, i).seed, SIZE));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('writes the PMFT layout, with the class colours in meta_info.json and nothing left beside it', () => {
    const expected = [
      ...ds.samples.flatMap((n) => [join('ann', `${n}_seml0.png`), join('ann', `${n}_seml1.png`), join('jpg', `${n}.jpg`)]),
      'meta_info.json',
      'sample_list.csv',
      join(SPLIT_DIR, 'dataset_split.csv'),
    ].sort();
    assert.deepEqual(listFiles(ds.dir), expected);
    const meta = JSON.parse(readFileSync(join(ds.dir, 'meta_info.json'), 'utf8'));
    assert.deepEqual(meta.cls2clr, cls2clr());
    assert.equal(meta.cls2clr.bloodvessel, 0 * 65536 + 224 * 256 + 224);
    assert.equal(new Set(Object.values(meta.cls2clr)).size, 6, 'class colours are distinct');
    assert.deepEqual(readdirSync(root), ['ds'], 'no temporary folder left behind');
  });

  it('label layers decode to exactly the drawn classes, and the JPEG is the painted image', async () => {
    const table = cls2clr();
    for (const [index, name] of ds.samples.entries()) {
      const patch = patches[index]!;
      for (const layer of [0, 1] as const) {
        const { data, width, height } = await decodeRgb(join(ds.dir, 'ann', `${name}_seml${layer}.png`));
        assert.deepEqual([width, height], [SIZE, SIZE]);
        const own = CLASS_TABLE.filter((c) => c.layer === layer);
        const codeToClass = new Map<number, RawClassName>(own.map((c) => [table[c.name], c.name]));
        const decoded = new Map<RawClassName, Uint8Array>(own.map((c) => [c.name, new Uint8Array(SIZE * SIZE)]));
        for (let i = 0; i < SIZE * SIZE; i++) {
          const code = data[3 * i]! * 65536 + data[3 * i + 1]! * 256 + data[3 * i + 2]!;
          if (code === 0) continue;
          const cls = codeToClass.get(code);
          assert.ok(cls !== undefined, `${name}_seml${layer}.png pixel ${i}: colour ${code} is not a class of this layer`);
          decoded.get(cls)![i] = 1;
        }
        for (const [cls, mask] of decoded) assert.deepEqual(mask, patch.classes[cls], `${name}: ${cls} differs from the drawn geometry`);
      }
      const jpeg = await decodeRgb(join(ds.dir, 'jpg', `${name}.jpg`));
      let diff = 0;
      for (let i = 0; i < jpeg.data.length; i++) diff += Math.abs(jpeg.data[i]! - patch.image[i]!);
      assert.ok(diff / jpeg.data.length < 4, `${name}.jpg: mean difference ${diff / jpeg.data.length} from the painted image`);
    }
  });

  it('every raw class appears across the dataset', () => {
    for (const c of CLASS_TABLE) {
      const pixels = patches.reduce((sum, p) => sum + p.classes[c.name].reduce((a, b) => a + b, 0), 0);
      assert.ok(pixels > 0, `${c.name} never drawn in ${patches.length} images`);
    }
  });

  it('capillaries lie inside villi, away from their edge; trophoblast aggregates sit on villus borders', () => {
    for (const [index, p] of patches.entries()) {
      const [villus, , capillary, knot] = finalClassMasks(p) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
      const neighbours = (i: number): number[] => {
        const x = i % SIZE;
        const y = Math.floor(i / SIZE);
        return [x > 0 ? i - 1 : -1, x < SIZE - 1 ? i + 1 : -1, y > 0 ? i - SIZE : -1, y < SIZE - 1 ? i + SIZE : -1].filter((j) => j >= 0);
      };
      const onVillusBorder = (i: number): boolean => neighbours(i).some((j) => villus[j] === 0);
      for (let i = 0; i < SIZE * SIZE; i++) {
        if (capillary[i]) assert.ok(villus[i] && !onVillusBorder(i), `image ${index}: capillary pixel ${i} is not inside a villus`);
        if (knot[i]) assert.equal(villus[i], 1, `image ${index}: trophoblast aggregate pixel ${i} outside a villus`);
      }
      // each connected aggregate (4-neighbourhood) touches the villus border
      const seen = new Uint8Array(SIZE * SIZE);
      for (let start = 0; start < SIZE * SIZE; start++) {
        if (!knot[start] || seen[start]) continue;
        const stack = [start];
        seen[start] = 1;
        let touches = false;
        while (stack.length > 0) {
          const i = stack.pop()!;
          touches ||= onVillusBorder(i);
          for (const j of neighbours(i)) {
            if (knot[j] && !seen[j]) {
              seen[j] = 1;
              stack.push(j);
            }
          }
        }
        assert.ok(touches, `image ${index}: the trophoblast aggregate at pixel ${start} does not reach a villus border`);
      }
    }
  });

  it('is painted from the masks: villi darker than intervillous space, knots darkest, fibrin and blood redder', () => {
    const groups = { space: [0, 0, 0], villus: [0, 0, 0], fibrin: [0, 0, 0], capillary: [0, 0, 0], knot: [0, 0, 0] };
    const counts = { space: 0, villus: 0, fibrin: 0, capillary: 0, knot: 0 };
    for (const p of patches) {
      const [villus, fibrin, capillary, knot] = finalClassMasks(p) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
      const where: Record<keyof typeof groups, (i: number) => boolean> = {
        space: (i) => p.level0[i] === 0 && p.level1[i] === 0,
        villus: (i) => villus[i] === 1 && p.level1[i] === 0,
        fibrin: (i) => fibrin[i] === 1,
        capillary: (i) => capillary[i] === 1,
        knot: (i) => knot[i] === 1,
      };
      for (const g of Object.keys(groups) as (keyof typeof groups)[]) {
        const m = meanColour(p.image, where[g]);
        for (let c = 0; c < 3; c++) groups[g][c]! += m.rgb[c]! * m.count;
        counts[g] += m.count;
      }
    }
    const mean = (g: keyof typeof groups): number[] => groups[g].map((s) => s / counts[g]);
    const lum = (g: keyof typeof groups): number => mean(g).reduce((a, b) => a + b) / 3;
    const [r, gr, b] = [0, 1, 2];
    assert.ok(lum('villus') < lum('space') - 20, `villi ${lum('villus')} vs intervillous space ${lum('space')}`);
    assert.ok(lum('knot') < lum('villus') - 40, `trophoblast aggregates ${lum('knot')} vs villi ${lum('villus')}`);
    assert.ok(mean('knot')[b]! > mean('knot')[r]!, 'trophoblast aggregates are blue-purple (haematoxylin)');
    const redness = (g: keyof typeof groups): number => mean(g)[r]! - mean(g)[gr]!;
    const blueness = (g: keyof typeof groups): number => mean(g)[b]! - mean(g)[gr]!;
    assert.ok(redness('fibrin') > redness('villus') + 10, `fibrin redness ${redness('fibrin')} vs villi ${redness('villus')}`);
    assert.ok(blueness('fibrin') < blueness('villus') - 8, `fibrin is more orange than villous stroma`);
    assert.ok(
      redness('capillary') > redness('villus') + 8,
      `capillaries (red cells) ${redness('capillary')} vs villi ${redness('villus')}`,
    );
  });

  it('colour statistics are H&E-like, close to the real placenta patch', async () => {
    const stats = async (file: string): Promise<{ mean: number[]; sd: number[] }> => {
      const s = await sharp(file).stats();
      return { mean: s.channels.slice(0, 3).map((c) => c.mean), sd: s.channels.slice(0, 3).map((c) => c.stdev) };
    };
    const real = await stats(EXAMPLE);
    const images = await Promise.all(ds.samples.map((n) => stats(join(ds.dir, 'jpg', `${n}.jpg`))));
    for (const [i, s] of images.entries()) {
      const [r, g, b] = s.mean as [number, number, number];
      assert.ok(r > b && b > g, `image ${i}: mean ${s.mean.map(Math.round)} is not pink-purple (R > B > G)`);
      for (let c = 0; c < 3; c++) {
        assert.ok(Math.abs(s.mean[c]! - real.mean[c]!) < 45, `image ${i} channel ${c}: mean ${s.mean[c]} vs real ${real.mean[c]}`);
        assert.ok(
          s.sd[c]! > 0.5 * real.sd[c]! && s.sd[c]! < 2 * real.sd[c]!,
          `image ${i} channel ${c}: sd ${s.sd[c]} vs real ${real.sd[c]}`,
        );
      }
    }
    for (let c = 0; c < 3; c++) {
      const mean = images.reduce((a, s) => a + s.mean[c]!, 0) / images.length;
      assert.ok(Math.abs(mean - real.mean[c]!) < 20, `channel ${c}: dataset mean ${mean} vs real ${real.mean[c]}`);
    }
    // stain and scale vary between images
    const greens = images.map((s) => s.mean[1]!);
    assert.ok(Math.max(...greens) - Math.min(...greens) > 10, `green means ${greens.map(Math.round)} barely vary`);
  });

  it('the split lists every sample exactly once (about 70/30) and sample_list.csv lists them all', () => {
    const split = csvColumns(join(ds.dir, SPLIT_DIR, 'dataset_split.csv'));
    assert.deepEqual(Object.keys(split), ['train', 'val']);
    const listed = [...split.train!, ...split.val!].sort();
    assert.deepEqual(listed, [...ds.samples].sort());
    assert.equal(new Set(listed).size, listed.length);
    assert.equal(split.val!.length, 3);
    assert.deepEqual(split, splitSamples(ds.samples, SEED));
    assert.deepEqual(csvColumns(join(ds.dir, 'sample_list.csv')), { sample_name: ds.samples });
  });
});

describe('synthetic placenta reproducibility', () => {
  it('the same seed gives the same bytes in every file; another seed gives other images and labels', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mmfd-synth-'));
    try {
      const a = await writeSyntheticDataset(join(root, 'a'), { count: 3, seed: 7, size: 128 });
      const b = await writeSyntheticDataset(join(root, 'b'), { count: 3, seed: 7, size: 128 });
      const c = await writeSyntheticDataset(join(root, 'c'), { count: 3, seed: 8, size: 128 });
      const files = listFiles(a.dir);
      assert.deepEqual(listFiles(b.dir), files);
      for (const f of files) assert.ok(readFileSync(join(a.dir, f)).equals(readFileSync(join(b.dir, f))), `${f} differs between two runs`);
      for (let i = 0; i < 3; i++) {
        for (const [x, y] of [
          [`jpg/${a.samples[i]}.jpg`, `jpg/${c.samples[i]}.jpg`],
          [`ann/${a.samples[i]}_seml0.png`, `ann/${c.samples[i]}_seml0.png`],
        ] as const) {
          assert.ok(!readFileSync(join(a.dir, x)).equals(readFileSync(join(c.dir, y))), `${x} is the same for seeds 7 and 8`);
        }
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('synthesizePatch is a pure function of seed and size', () => {
    const a = synthesizePatch(99, 96);
    assert.deepEqual(synthesizePatch(99, 96), a);
    assert.notDeepEqual(synthesizePatch(100, 96).image, a.image);
    assert.equal(a.image.length, 96 * 96 * 3);
  });
});

describe('mmfd synth command', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'mmfd-synth-cli-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));
  const args = (out: string, ...more: string[]): string[] => ['--out', out, '--count', '2', '--seed', '3', '--size', '32', ...more];

  it('refuses an --out that is an existing file, naming it, and leaves it alone', async () => {
    const file = join(root, 'taken.txt');
    writeFileSync(file, 'keep me');
    await assert.rejects(run(args(file)), (err: Error) => err.message.includes(file) && /not a folder/.test(err.message));
    assert.equal(readFileSync(file, 'utf8'), 'keep me');
  });

  it('refuses a non-empty folder without --force, and with --force unless it holds a dataset', async () => {
    const dir = join(root, 'busy');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    await assert.rejects(run(args(dir)), (err: Error) => err.message.includes(dir) && /not empty/.test(err.message));
    await assert.rejects(run(args(dir, '--force')), /no meta_info\.json/);
    assert.deepEqual(readdirSync(dir), ['notes.txt']);
    assert.deepEqual(
      readdirSync(root).filter((n) => FOLDER_TEMP_NAME.test(n)),
      [],
      'no temporary folder left behind',
    );
  });

  it('writes a dataset, and --force replaces an earlier one completely', async () => {
    const dir = join(root, 'nested', 'ds');
    assert.equal(await run(args(dir)), 0);
    assert.equal(listFiles(dir).filter((f) => f.endsWith('.jpg')).length, 2);
    await assert.rejects(run(args(dir)), /not empty/);
    assert.equal(await run(['--out', dir, '--count', '1', '--seed', '4', '--size', '32', '--force']), 0);
    assert.deepEqual(
      listFiles(dir).filter((f) => f.endsWith('.jpg')),
      [join('jpg', 'synth_4_0000.jpg')],
    );
    assert.deepEqual(readdirSync(dirname(dir)), ['ds'], 'no temporary or set-aside folder left behind');
  });

  it('rejects bad numbers and a missing --out clearly', async () => {
    const bad = await runCaptured(run, ['--out', join(root, 'x'), '--count', 'ten', '--seed', '1']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--count needs an integer \(got 'ten'\)/);
    await assert.rejects(run(['--out', join(root, 'x'), '--count', '0', '--seed', '1']), /count must be a positive integer/);
    await assert.rejects(run(['--out', join(root, 'x'), '--count', '1', '--seed', '1', '--size', '8']), /size must be an integer from 16/);
    const missing = await runCaptured(run, ['--count', '1']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--out is required\nusage: mmfd synth /);
    assert.equal(existsSync(join(root, 'x')), false);
  });
});

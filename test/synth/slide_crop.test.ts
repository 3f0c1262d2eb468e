// Patches cut from synthetic slides (`mmfd synth --from slides`): each is its virtual slide's window painted at half
// the pixel size and 2x2-averaged (as a finer scan is read), its label layers decode to that window's label bits, most crops are mostly tissue and some show glass,
// and the dataset records its source.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { run } from '../../src/cli/synth.js';
import { LABEL_BITS } from '../../src/data/classes.js';
import { writeSyntheticDataset } from '../../src/synth/patch/dataset.js';
import { finalClassMasks } from '../../src/synth/patch/placenta.js';
import { slideCropPatch } from '../../src/synth/patch/slide_crop.js';
import { SlidePainter } from '../../src/synth/slide/paint.js';

const SIZE = 96;
const MPP = 1;

describe('slideCropPatch', () => {
  it('is its virtual slide scanned finer and averaged, with labels equal to the slide truth', () => {
    for (const seed of [3, 17, 90]) {
      const crop = slideCropPatch(seed, SIZE, MPP);
      const { side, x, y } = crop.window;
      const bits = new Uint8Array(SIZE * SIZE);
      new SlidePainter(side, side, seed, MPP).paintWindow(x, y, SIZE, SIZE, new Uint8Array(SIZE * SIZE * 3), bits);
      const fine = new Uint8Array(4 * SIZE * SIZE * 3);
      new SlidePainter(2 * side, 2 * side, seed, MPP / 2).paintWindow(
        2 * x,
        2 * y,
        2 * SIZE,
        2 * SIZE,
        fine,
        new Uint8Array(4 * SIZE * SIZE),
      );
      for (let i = 0; i < SIZE * SIZE * 3; i += 97) {
        const [py, px, c] = [Math.floor(i / 3 / SIZE), Math.floor(i / 3) % SIZE, i % 3];
        const at = (dy: number, dx: number) => fine[((2 * py + dy) * 2 * SIZE + 2 * px + dx) * 3 + c]!;
        assert.equal(crop.image[i], Math.round((at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4), `seed ${seed}: byte ${i}`);
      }
      const [villus, fibrin, capillary, aggregate] = finalClassMasks(crop);
      for (let i = 0; i < bits.length; i++) {
        const b = bits[i]!;
        // A fibrin pixel is never villus in the slide truth; where a capillary crosses an aggregate, the slide
        // paints (and the layer keeps) the capillary.
        assert.equal(villus![i], b & LABEL_BITS.villus ? 1 : 0, `seed ${seed} pixel ${i}: villus`);
        assert.equal(fibrin![i], b & LABEL_BITS.fibrin ? 1 : 0, `seed ${seed} pixel ${i}: fibrin`);
        assert.equal(capillary![i], b & LABEL_BITS.capillary ? 1 : 0, `seed ${seed} pixel ${i}: capillary`);
        assert.equal(aggregate![i], b & LABEL_BITS.aggregate && !(b & LABEL_BITS.capillary) ? 1 : 0, `seed ${seed} pixel ${i}: aggregate`);
      }
    }
  });

  it('is reproducible, and mostly tissue with some glass and intervillous space', () => {
    assert.deepEqual(slideCropPatch(5, SIZE, MPP).image, slideCropPatch(5, SIZE, MPP).image);
    let mostlyTissue = 0;
    let withGlass = 0;
    let unlabelled = 0;
    const count = 40;
    for (let seed = 100; seed < 100 + count; seed++) {
      const crop = slideCropPatch(seed, SIZE, MPP);
      const { side, x, y } = crop.window;
      const bits = new Uint8Array(SIZE * SIZE);
      new SlidePainter(side, side, seed, MPP).paintWindow(x, y, SIZE, SIZE, new Uint8Array(SIZE * SIZE * 3), bits);
      const tissue = bits.filter((b) => b & LABEL_BITS.tissue).length / bits.length;
      if (tissue >= 0.5) mostlyTissue++;
      if (tissue < 1) withGlass++;
      // Tissue with no class: the intervillous space the patch generator hardly shows.
      unlabelled += bits.filter((b) => b === LABEL_BITS.tissue).length / bits.length;
    }
    assert.ok(mostlyTissue >= 0.7 * count, `${mostlyTissue} of ${count} crops are at least half tissue`);
    assert.ok(withGlass >= 2, `${withGlass} crops show glass`);
    assert.ok(unlabelled / count > 0.15, `intervillous space is ${(unlabelled / count).toFixed(2)} of the crops`);
  });
});

describe('mmfd synth --from slides', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmfd-slide-crops-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a dataset of slide windows and records the source', async () => {
    const out = join(dir, 'crops');
    const d = await writeSyntheticDataset(out, { count: 4, seed: 8, size: 64, mpp: 1, source: 'slides' });
    assert.equal(d.samples.length, 4);
    const meta = JSON.parse(readFileSync(join(out, 'meta_info.json'), 'utf8')) as { synthetic: { source: string; mpp: number } };
    assert.equal(meta.synthetic.source, 'slides');
    assert.equal(meta.synthetic.mpp, 1);
  });

  it('refuses an unknown source', async () => {
    const errors: string[] = [];
    const original = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      const code = await run(['--out', join(dir, 'x'), '--count', '1', '--seed', '1', '--from', 'tiles']);
      assert.equal(code, 2);
    } finally {
      console.error = original;
    }
    assert.match(errors.join('\n'), /--from is one of patches, slides \(got 'tiles'\)/);
  });
});

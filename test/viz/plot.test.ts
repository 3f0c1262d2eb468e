// The curves PNG read back: its size, each series' colour inside its own panel's plot area (and not in the
// other panel), text drawn beside the axes; and the 1-2-5 axis arithmetic on hand-checked ranges.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import type { Rgb } from '../../src/viz/overlay.js';
import { curvesSvg, niceAxis, type Series, writeCurvesPng } from '../../src/viz/plot.js';
import type { Rect } from '../../src/viz/svg.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-viz-plot-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const iterations = Array.from({ length: 100 }, (_, i) => i * 50);
const losses: Series[] = [
  { name: 'focal', points: iterations.map((x) => [x, 0.8 * Math.exp(-x / 1500) + 0.1]) },
  { name: 'dice', points: iterations.map((x) => [x, 0.5 - x / 20000]) },
];
const validation: Series[] = [{ name: 'mIoU', points: [1000, 2000, 3000, 4000].map((x, i) => [x, 0.4 + 0.1 * i]) }];

describe('writeCurvesPng', async () => {
  const path = join(dir, 'curves.png');
  const layout = await writeCurvesPng(path, { losses, validation, title: 'run' });
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });

  function count(r: Rect, match: (px: readonly number[]) => boolean): number {
    let n = 0;
    for (let y = r.y; y < r.y + r.height; y++) {
      for (let x = r.x; x < r.x + r.width; x++) {
        const i = (y * info.width + x) * info.channels;
        if (match([data[i] as number, data[i + 1] as number, data[i + 2] as number])) n++;
      }
    }
    return n;
  }
  const near = (colour: Rgb) => (px: readonly number[]) => px.every((v, k) => Math.abs(v - (colour[k] as number)) <= 10);

  test('decodes to the layout size, two panels stacked', () => {
    assert.deepEqual([info.width, info.height], [960, layout.height]);
    const [top, bottom] = layout.panels;
    assert.ok(top !== undefined && bottom !== undefined);
    assert.ok(bottom.plot.y >= top.plot.y + top.plot.height, 'the validation panel is below the loss panel');
    assert.ok(bottom.plot.y + bottom.plot.height < info.height);
  });

  test("each series is drawn in its panel's plot area, in its own colour, and not in the other panel", () => {
    const [top, bottom] = layout.panels as [(typeof layout.panels)[0], (typeof layout.panels)[0]];
    top.colours.forEach((c, i) => {
      assert.ok(count(top.plot, near(c)) > 100, `${top.series[i]?.name} in the loss panel`);
      assert.equal(count(bottom.plot, near(c)), 0, `${top.series[i]?.name} not in the validation panel`);
    });
    const miou = bottom.colours[0] as Rgb;
    assert.ok(count(bottom.plot, near(miou)) > 50, 'mIoU in the validation panel');
    assert.equal(count(top.plot, near(miou)), 0);
    assert.equal(new Set([...top.colours, ...bottom.colours].map(String)).size, 3, 'three distinct colours');
  });

  test('tick labels and axis labels are drawn beside the plot areas', () => {
    const dark = (px: readonly number[]) => px.every((v) => v < 100);
    for (const p of layout.panels) {
      assert.ok(count({ x: 0, y: p.plot.y, width: p.plot.x - 2, height: p.plot.height }, dark) > 100, 'y ticks and label');
      assert.ok(count({ x: p.plot.x, y: p.plot.y + p.plot.height + 3, width: p.plot.width, height: 40 }, dark) > 100, 'x ticks and label');
    }
  });

  test('leaves no temporary file', () => {
    assert.deepEqual(readdirSync(dir), ['curves.png']);
  });
});

test('a non-finite loss breaks the line instead of joining across it', () => {
  const points = iterations.map((x, i): [number, number] => [x, i === 50 ? Number.NaN : 1 / (1 + i)]);
  const { svg, layout } = curvesSvg({ losses: [{ name: 'loss', points }] });
  assert.equal(svg.match(/<polyline/g)?.length, 2);
  assert.equal(layout.panels.length, 1, 'no validation panel without validation series');
});

describe('niceAxis', () => {
  test('covers the range with 1-2-5 steps', () => {
    assert.deepEqual(niceAxis(0.3, 0.75), { lo: 0.3, hi: 0.8, ticks: [0.3, 0.4, 0.5, 0.6, 0.7, 0.8], decimals: 1 });
    assert.deepEqual(niceAxis(0, 5000, 8), { lo: 0, hi: 5000, ticks: [0, 1000, 2000, 3000, 4000, 5000], decimals: 0 });
    assert.deepEqual(niceAxis(0.00002, 0.00042).ticks, [0, 0.0001, 0.0002, 0.0003, 0.0004, 0.0005]);
  });

  test('widens a flat range around its value', () => {
    const a = niceAxis(5, 5);
    assert.ok(a.lo < 5 && a.hi > 5);
    assert.deepEqual([a.lo, a.hi], [4.4, 5.6]);
  });
});

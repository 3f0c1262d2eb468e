// The HTML report: the run information and table values as given (formatted and escaped), images in the
// report's folder linked by relative paths that resolve to the files, images elsewhere embedded byte for byte.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import { formatCell, writeReport } from '../../src/viz/report.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-viz-report-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function png(path: string, colour: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  await sharp({ create: { width: 4, height: 3, channels: 3, background: colour } })
    .png()
    .toFile(path);
}

describe('writeReport', async () => {
  const reportDir = join(dir, 'run');
  const report = join(reportDir, 'report.html');
  const curves = join(reportDir, 'curves.png');
  const overlay = join(reportDir, 'vis', 'case 1_composite.png');
  const outside = join(dir, 'elsewhere', 'other.png');
  await png(curves, '#ff0000');
  await png(overlay, '#00ff00');
  await png(outside, '#0000ff');
  await writeReport(report, {
    title: 'Teacher <test> run',
    run: {
      config: 'multimodel2s-pidinet-plip-d2t512-iter5k-b8',
      model: 'multimodel2s',
      started: new Date(Date.UTC(2025, 2, 1, 10, 0, 0)),
      parameters: { total: 835472, trainable: 460412 },
    },
    tables: [
      {
        caption: 'Per-class test metrics',
        columns: ['class', 'IoU', 'hd95'],
        rows: [
          ['Villus', 0.812345, 12.25],
          ['Fibrin Deposit', 0.5, Number.NaN],
          ['images', 3, 3],
        ],
        notes: ['IoU: per-image <mean>'],
      },
    ],
    curves: [{ path: curves, caption: 'Teacher curves' }],
    overlays: [
      { path: overlay, caption: 'case 1' },
      { path: outside, caption: 'from another folder' },
    ],
  });
  const html = readFileSync(report, 'utf8');
  const sources = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1] as string);

  test('holds the title, run information and table values, escaped and formatted', () => {
    assert.match(html, /<title>Teacher &#60;test&#62; run<\/title>/);
    for (const text of [
      'multimodel2s-pidinet-plip-d2t512-iter5k-b8',
      '2025-03-01 10:00:00 UTC',
      '835,472',
      '460,412',
      'Per-class test metrics',
    ]) {
      assert.ok(html.includes(text), text);
    }
    for (const cell of ['Villus', '0.8123', '12.2500', 'Fibrin Deposit', '0.5000', 'NaN', '>3<']) assert.ok(html.includes(cell), cell);
    assert.match(html, /<\/table><p class="note">IoU: per-image &#60;mean&#62;<\/p>/);
  });

  test('links images in its folder by relative paths that exist', () => {
    assert.equal(sources.length, 3);
    assert.deepEqual(sources.slice(0, 2), ['curves.png', 'vis/case%201_composite.png']);
    for (const src of sources.slice(0, 2)) assert.ok(existsSync(join(reportDir, decodeURIComponent(src))), src);
  });

  test('embeds an image from outside its folder as a data URI of the same bytes', () => {
    const src = sources[2] as string;
    assert.ok(src.startsWith('data:image/png;base64,'));
    assert.ok(Buffer.from(src.slice('data:image/png;base64,'.length), 'base64').equals(readFileSync(outside)));
  });

  test('leaves no temporary file', () => {
    assert.deepEqual(readdirSync(reportDir).sort(), ['curves.png', 'report.html', 'vis']);
  });
});

test('a missing image is an error and writes no report', async () => {
  const report = join(dir, 'missing', 'report.html');
  await assert.rejects(
    writeReport(report, { title: 't', run: {}, tables: [], curves: [{ path: join(dir, 'nope.png'), caption: 'x' }] }),
    /nope\.png does not exist/,
  );
  assert.ok(!existsSync(report));
});

test('formatCell', () => {
  assert.equal(formatCell(0.123456), '0.1235');
  assert.equal(formatCell(0.123456, 2), '0.12');
  assert.equal(formatCell(12), '12');
  assert.equal(formatCell(Number.POSITIVE_INFINITY), '∞');
  assert.equal(formatCell('x'), 'x');
});

// `mmfd train` runs unchanged on what `mmfd patches` writes: a synthetic slide's truth exported as GeoJSON (mmfd's
// writer, plus a Region) is cut by the CLI into 128-pixel patches at 1.0 um/px, the tiny configs' input, and the
// tiny teacher trains on them for a few iterations, validates and tests.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeGeoJson } from '../../src/slides/export/geojson.js';
import { openLabelTiff } from '../../src/slides/io/label_raster.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import { runCli, workspace } from '../train/tiny_run.js';

const ws = workspace({ qupath_patches: 'patches' }, 'mmfd-patches-train-');
after(() => rmSync(ws.dir, { recursive: true, force: true }));

test('mmfd patches -> mmfd train: the tiny teacher trains, validates and tests on imported patches', async () => {
  const r = await writeSyntheticSlide({ out: join(ws.dir, 'slide.tif'), width: 1536, height: 1536, seed: 4 });
  const geo = join(ws.dir, 'slide.geojson');
  await writeGeoJson(await openLabelTiff(r.labels), geo);
  const doc = JSON.parse(readFileSync(geo, 'utf8')) as { features: unknown[] };
  // A region 944 level-0 pixels wide: with --min-labelled 0.5 a 4 x 4 grid of 256-pixel patches covers it and
  // reaches past it, so the dataset has ignore pixels, and training, validation and testing run with them.
  const ring = [
    [256, 256],
    [1200, 256],
    [1200, 1200],
    [256, 1200],
    [256, 256],
  ];
  doc.features.push({
    type: 'Feature',
    geometry: { type: 'Polygon', coordinates: [ring] },
    properties: { classification: { name: 'Region' } },
  });
  writeFileSync(geo, JSON.stringify(doc));

  // Bad input at the command line: exit code 1, the file and feature named, nothing written.
  const bad = join(ws.dir, 'other-slide.geojson');
  writeFileSync(
    bad,
    JSON.stringify({
      type: 'FeatureCollection',
      features: [
        {
          ...(doc.features[0] as object),
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [0, 0],
                [3000, 0],
                [3000, 100],
                [0, 0],
              ],
            ],
          },
        },
      ],
    }),
  );
  const refused = await runCli(['patches', '--slides', r.slide, '--annotations', bad, '--out', 'refused'], ws.dir, ws.env);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`${bad}: feature 0 \\(class '[^']+'\\): reaches .* outside the slide`));
  assert.ok(!existsSync(join(ws.dir, 'refused')));

  const cut = await runCli(
    [
      'patches',
      '--slides',
      r.slide,
      '--out',
      join('data', 'patches'),
      '--mpp',
      '1',
      '--size',
      '128',
      '--seed',
      '3',
      '--min-labelled',
      '0.5',
    ],
    ws.dir,
    ws.env,
  );
  assert.equal(cut.code, 0, cut.stderr);
  assert.match(cut.stdout, /16 patch\(es\) \(train 11, val 5\)/);
  const meta = JSON.parse(readFileSync(join(ws.dir, 'data', 'patches', 'meta_info.json'), 'utf8'));
  assert.equal(meta.cls2clr.ignore, 128 * 65536 + 128 * 256 + 128);

  const cfg = ws.config('teacher.yaml', 'tiny-multimodel2s.yaml', {
    out_dir: 'out',
    model: 'patches',
    'train.dataset': 'qupath_patches',
    'val.dataset': 'qupath_patches',
    'test.dataset': 'qupath_patches',
    'train.batch_size': 2,
    'train.max_iterations': 3,
    'train.warmup_period': 1,
    save_iter: 3,
    eval_iter: 3,
    'test.is_savevis': false,
  });
  const trained = await runCli(['train', '--config', cfg], ws.dir, ws.env);
  assert.equal(trained.code, 0, trained.stderr);
  const run = join(ws.dir, 'out', 'multimodel2s', 'patches', 'fewshot_perc100');
  const log = readFileSync(join(run, 'train_log.jsonl'), 'utf8').trim().split('\n');
  assert.deepEqual(
    log.map((l) => JSON.parse(l) as { kind: string; iteration: number }).map((l) => `${l.kind}${l.iteration}`),
    ['train1', 'train2', 'train3', 'val3'],
  );
  // JSON writes NaN as null: every logged value is a finite number (or text) with ignore pixels present.
  const values = (v: unknown): unknown[] => (v !== null && typeof v === 'object' ? Object.values(v).flatMap(values) : [v]);
  for (const l of log)
    assert.ok(
      values(JSON.parse(l)).every((v) => typeof v === 'string' || Number.isFinite(v)),
      l,
    );
  const tested = await runCli(['train', '--config', cfg, '--test'], ws.dir, ws.env);
  assert.equal(tested.code, 0, tested.stderr);
  assert.ok(existsSync(join(run, 'eval_results.json')));
});

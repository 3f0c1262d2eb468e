// `mmfd segment` on a small cohort of synthetic slides, with a stand-in segmenter that hands back each
// slide's ground truth: every output and the manifest; a broken and a truncated slide fail with clear errors
// while the others finish; a rerun skips finished slides; a changed slide or setting runs again; an
// interrupted slide restarts cleanly; overall progress runs to 1.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { segmentCommand } from '../../src/cli/segment.js';
import type { Manifest, SegmentSettings } from '../../src/cohort/manifest.js';
import { type CohortEvent, partialDir, runCohort, type SlideSegmenter } from '../../src/cohort/run.js';
import { listSlides } from '../../src/cohort/slide_list.js';
import { parseCsv } from '../../src/data/csv.js';
import { measureSlide } from '../../src/slides/export/measure.js';
import { openLabelTiff } from '../../src/slides/io/label_raster.js';
import { OpenSlide } from '../../src/slides/io/openslide.js';
import { labelPaths, writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import { type CliResult, runCaptured } from '../helpers/cli.js';
import { deadPid } from '../helpers/pids.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-cohort-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MODEL_SHA = 'ab'.repeat(32);

/** A segmenter that copies the slide's ground truth, as if the model were perfect; records the slides it ran. */
function truthSegmenter(calls: string[], fail?: (slide: string) => Error | undefined): SlideSegmenter {
  return {
    id: 'truth',
    sha256: MODEL_SHA,
    async segment(request) {
      calls.push(basename(request.slide));
      const slide = OpenSlide.open(request.slide);
      try {
        const mpp = request.mpp ?? slide.mpp!.x;
        await copyFile(labelPaths(request.slide).labels, request.labels);
        const error = fail?.(request.slide);
        if (error !== undefined) throw error;
        request.onProgress?.(1, 1);
        return { slideMpp: mpp, labelMpp: mpp };
      } finally {
        slide.close();
      }
    },
  };
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Runs the command with its output captured (and kept off the test's own). */
function segment(args: string[], segmenter: SlideSegmenter): Promise<CliResult> {
  return runCaptured(segmentCommand(async () => segmenter).run, args);
}

describe('mmfd segment (cohorts)', async () => {
  const slides = join(dir, 'slides');
  mkdirSync(slides);
  const a = await writeSyntheticSlide({ out: join(slides, 'a.tif'), width: 700, height: 520, seed: 1, mpp: 1 });
  const b = await writeSyntheticSlide({ out: join(slides, 'b.tif'), width: 600, height: 600, seed: 2, mpp: 2 });
  writeFileSync(join(slides, 'broken.svs'), 'this is not a slide');
  writeFileSync(join(slides, 'truncated.tif'), readFileSync(a.slide).subarray(0, 40_000));
  const out = join(dir, 'out');
  const calls: string[] = [];

  test('a folder: good slides finish, broken ones fail with clear errors, exit code 1', async () => {
    const { code, stdout, stderr } = await segment([slides, '--out', out], truthSegmenter(calls));
    assert.equal(code, 1);
    assert.deepEqual(calls.sort(), ['a.tif', 'b.tif', 'broken.svs', 'truncated.tif']);
    assert.match(stdout, /2 done, 0 skipped, 2 failed/);
    assert.match(stdout, /failed: broken: .*broken\.svs: not a slide format OpenSlide can read/);
    assert.match(stdout, /failed: truncated: .*truncated\.tif/);
    assert.match(stderr, /\[1\/4\] a: started/);
    assert.match(stderr, /overall 100\.0%/);
    assert.match(stderr, /ETA \d/);
    assert.deepEqual(readdirSync(out).sort(), ['.broken.partial', '.truncated.partial', 'a', 'b', 'cohort.csv', 'report.html']);
  });

  test('each finished slide has its outputs and a manifest', async () => {
    for (const [name, synthetic, mpp] of [
      ['a', a, 1],
      ['b', b, 2],
    ] as const) {
      const folder = join(out, name);
      assert.deepEqual(readdirSync(folder).sort(), [
        `${name}.geojson`,
        'labels.tif',
        'manifest.json',
        'measurements.json',
        'overlay',
        'report.html',
      ]);
      const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as Manifest;
      assert.equal(manifest.status, 'complete');
      assert.equal(manifest.slide.sha256, sha256(synthetic.slide));
      assert.equal(manifest.slide.bytes, readFileSync(synthetic.slide).length);
      assert.deepEqual(manifest.model, { id: 'truth', sha256: MODEL_SHA });
      assert.deepEqual(manifest.mpp, { slide: mpp, labels: mpp });
      assert.equal(manifest.settings.min_object_um2, 20);
      assert.equal(manifest.mmfd_version, JSON.parse(readFileSync('package.json', 'utf8')).version);
      for (const stage of ['hash', 'segment', 'measure', 'geojson', 'overlay', 'report', 'total'])
        assert.ok(manifest.timings_s[stage]! >= 0, stage);
      for (const file of Object.values(manifest.outputs)) assert.ok(existsSync(join(folder, file)), file);
      // The ground truth as prediction: the measurements are the truth's.
      const truth = await measureSlide(await openLabelTiff(synthetic.labels), { mpp });
      assert.deepEqual(JSON.parse(readFileSync(join(folder, 'measurements.json'), 'utf8')), { slide: `${name}.tif`, ...truth });
      const geojson = JSON.parse(readFileSync(join(folder, `${name}.geojson`), 'utf8')) as { features: unknown[] };
      assert.ok(geojson.features.length > 10);
      assert.match(readFileSync(join(folder, 'report.html'), 'utf8'), /<img src="overlay\/thumbnail_overlay\.png"/);
    }
    const [header, ...rows] = parseCsv(readFileSync(join(out, 'cohort.csv'), 'utf8'), 'cohort.csv');
    assert.deepEqual(
      rows.map((r) => r[0]),
      ['a', 'b', 'broken', 'truncated'],
    );
    const villus = header!.indexOf('villus_area_mm2');
    const measured = JSON.parse(readFileSync(join(out, 'a', 'measurements.json'), 'utf8'));
    assert.equal(Number(rows[0]![villus]), measured.tissues.villus.area_mm2);
    assert.match(rows[2]!.at(-1)!, /not a slide format/);
    const cohortReport = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(cohortReport, /<img src="a\/overlay\/thumbnail_overlay\.png"/);
    assert.match(cohortReport, /failed: .*broken\.svs/);
  });

  test('a rerun skips finished slides and retries the broken ones', async () => {
    calls.length = 0;
    const { code, stdout } = await segment([slides, '--out', out], truthSegmenter(calls));
    assert.equal(code, 1);
    assert.deepEqual(calls.sort(), ['broken.svs', 'truncated.tif']);
    assert.match(stdout, /0 done, 2 skipped, 2 failed/);
    // The cohort table still lists the skipped slides' measurements.
    const rows = parseCsv(readFileSync(join(out, 'cohort.csv'), 'utf8'), 'cohort.csv');
    assert.notEqual(rows[1]![2], '');
  });

  test('a changed slide or a changed setting runs again', async () => {
    calls.length = 0;
    const list = join(dir, 'list.txt');
    writeFileSync(list, '# two slides\nslides/a.tif\n\nslides/b.tif\n');
    await writeSyntheticSlide({ out: b.slide, width: 600, height: 600, seed: 3, mpp: 2 });
    assert.equal((await segment([list, '--out', out], truthSegmenter(calls))).code, 0);
    assert.deepEqual(calls, ['b.tif']);
    calls.length = 0;
    assert.equal((await segment([list, '--out', out, '--min-object-um2', '50'], truthSegmenter(calls))).code, 0);
    assert.deepEqual(calls, ['a.tif', 'b.tif']);
    const manifest = JSON.parse(readFileSync(join(out, 'a', 'manifest.json'), 'utf8')) as Manifest;
    assert.equal(manifest.settings.min_object_um2, 50);
  });

  test('an interrupted slide leaves no output folder and restarts cleanly', async () => {
    const out2 = join(dir, 'out2');
    const one = join(dir, 'one');
    mkdirSync(one);
    copyFileSync(a.slide, join(one, 'c.tif'));
    copyFileSync(a.labels, join(one, 'c_labels.tif'));
    copyFileSync(a.table, join(one, 'c_labels.json'));
    calls.length = 0;
    // Killed mid-segmentation: the label map is there but the segmenter never returned.
    const killed = await segment(
      [one, '--out', out2],
      truthSegmenter(calls, () => new Error('killed')),
    );
    assert.equal(killed.code, 1);
    assert.ok(!existsSync(join(out2, 'c')));
    assert.ok(existsSync(join(partialDir(out2, 'c'), 'labels.tif')));
    // Segmentation done, then a later stage fails (no such pyramid level): the label map is kept.
    const late = await segment([one, '--out', out2, '--overlay-level', '9'], truthSegmenter(calls));
    assert.equal(late.code, 1);
    assert.match(late.stdout, /no pyramid level 9/);
    assert.ok(!existsSync(join(out2, 'c')));
    // What a run killed during the overlay stage left: gone from the finished output.
    const orphan = join(partialDir(out2, 'c'), `overlay.${deadPid()}.0badf00d.tmp`);
    mkdirSync(join(orphan, 'dzi_files', '0'), { recursive: true });
    calls.length = 0;
    const again = await segment([one, '--out', out2], truthSegmenter(calls));
    assert.equal(again.code, 0);
    assert.deepEqual(calls, [], 'the finished segmentation was reused');
    assert.deepEqual(readdirSync(out2).sort(), ['c', 'cohort.csv', 'report.html']);
    assert.ok(!existsSync(join(out2, 'c', 'segmentation.json')));
    assert.ok(readdirSync(join(out2, 'c')).every((n) => !n.endsWith('.tmp')));
  });

  test('overall progress rises to 1 and skipped slides do not count as work', async () => {
    const events: CohortEvent[] = [];
    const settings: SegmentSettings = {
      model: 'student',
      checkpoint: null,
      mpp: null,
      min_object_um2: 20,
      geojson_level: 1,
      overlay_level: 1,
      thumbnail_max: 256,
    };
    const out3 = join(dir, 'out3');
    const inputs = listSlides(join(dir, 'one'));
    await runCohort(inputs, { out: out3, segmenter: truthSegmenter([]), settings, onEvent: (e) => events.push(e) });
    const overall = events.map((e) => e.overall);
    assert.ok(
      overall.every((v, i) => i === 0 || v >= overall[i - 1]! - 1e-12),
      'never goes back',
    );
    assert.ok(Math.abs(overall.at(-1)! - 1) < 1e-9);
    assert.deepEqual(
      events.filter((e) => e.kind === 'slide').map((e) => (e.kind === 'slide' ? e.status : '')),
      ['running', 'done'],
    );
    // GeoJSON from level 1: level-0 coordinates, all even.
    const geojson = JSON.parse(readFileSync(join(out3, 'c', 'c.geojson'), 'utf8')) as {
      features: { geometry: { coordinates: number[][][] } }[];
    };
    assert.ok(geojson.features.every((f) => f.geometry.coordinates.flat(2).every((v) => v % 2 === 0 || v === 700 || v === 520)));
  });

  test('usage errors and missing inputs exit with 2 and say why', async () => {
    const cases: [string[], RegExp][] = [
      [[slides], /--out is required/],
      [['--out', out], /expected 1 positional argument/],
      [[slides, '--out', out, '--ot', 'x'], /unknown option --ot \(did you mean --out\?\)/],
      [[slides, '--out', out, '--mpp', 'fast'], /--mpp needs a number in 0\.05-20 \(got 'fast'\)/],
      [[slides, '--out', out, '--model', 'big'], /--model is one of student, teacher \(got 'big'\)/],
      [[join(dir, 'nothing'), '--out', out], /nothing: no such slide, folder or list/],
      [[slides, '--out', out, '--checkpoint', join(dir, 'none.pth')], /none\.pth: no such file/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await segment(args, truthSegmenter([]));
      assert.equal(code, 2, args.join(' '));
      assert.match(stderr, message);
    }
    const twins = join(dir, 'twins.txt');
    await writeFile(twins, `${a.slide}\n${join(dir, 'one', 'c.tif')}\n${a.slide}\n`);
    assert.match((await segment([twins, '--out', out], truthSegmenter([]))).stderr, /a\.tif is listed twice/);
  });

  test('slides named like the cohort files or like each other get folders of their own; a dangling link fails alone', async () => {
    const odd = join(dir, 'odd');
    mkdirSync(odd);
    for (const stem of ['report.html', 'cohort.csv', 'x y', 'x_y']) {
      copyFileSync(a.slide, join(odd, `${stem}.tif`));
      copyFileSync(a.labels, join(odd, `${stem}_labels.tif`));
      copyFileSync(a.table, join(odd, `${stem}_labels.json`));
    }
    symlinkSync(join(dir, 'nowhere', 'gone.tif'), join(odd, 'gone.tif'));
    const out4 = join(dir, 'out4');
    for (const round of [1, 2]) {
      const { code, stdout } = await segment([odd, '--out', out4], truthSegmenter([]));
      assert.equal(code, 1);
      assert.match(stdout, round === 1 ? /4 done, 0 skipped, 1 failed/ : /0 done, 4 skipped, 1 failed/);
      assert.match(stdout, /failed: gone: .*gone\.tif: a symbolic link to .*nowhere.gone\.tif, which does not exist/);
      assert.deepEqual(readdirSync(out4).sort(), ['cohort.csv', 'cohort.csv-2', 'report.html', 'report.html-2', 'x_y', 'x_y-2']);
      assert.equal(JSON.parse(readFileSync(join(out4, 'x_y', 'measurements.json'), 'utf8')).slide, 'x_y.tif');
      assert.equal(JSON.parse(readFileSync(join(out4, 'report.html-2', 'measurements.json'), 'utf8')).slide, 'report.html.tif');
      assert.deepEqual(
        parseCsv(readFileSync(join(out4, 'cohort.csv'), 'utf8'), 'cohort.csv')
          .slice(1)
          .map((r) => r[0]),
        ['cohort.csv-2', 'gone', 'report.html-2', 'x_y-2', 'x_y'],
      );
    }
  });

  test('Ctrl-C stops at the running slide, exits 130, and the rerun ends as an uninterrupted run', async () => {
    const list = join(dir, 'two.txt');
    writeFileSync(list, `${a.slide}\n${join(dir, 'one', 'c.tif')}\n`);
    const calls: string[] = [];
    // SIGINT arrives while the first slide is segmented; the stand-in stops as segmentSlide does on abort.
    const interrupted: SlideSegmenter = {
      ...truthSegmenter(calls),
      async segment(request) {
        calls.push(basename(request.slide));
        process.kill(process.pid, 'SIGINT');
        while (request.signal?.aborted !== true) await new Promise((r) => setTimeout(r, 5));
        throw new Error('interrupted after 0 of 4 tiles; run again to resume');
      },
    };
    const out6 = join(dir, 'out6');
    const stopped = await segment([list, '--out', out6], interrupted);
    assert.equal(stopped.code, 130);
    assert.deepEqual(calls, ['a.tif'], 'no slide starts after the signal');
    assert.match(stopped.stderr, /a\.tif: interrupted by SIGINT \(its partial run is kept\); 2 slide\(s\) not finished/);
    assert.ok(!existsSync(join(out6, 'cohort.csv')));
    assert.equal((await segment([list, '--out', out6], truthSegmenter([]))).code, 0);
    const out7 = join(dir, 'out7');
    assert.equal((await segment([list, '--out', out7], truthSegmenter([]))).code, 0);
    for (const f of ['cohort.csv', join('a', 'measurements.json'), join('c', 'measurements.json'), join('c', 'c.geojson')])
      assert.deepEqual(readFileSync(join(out6, f)), readFileSync(join(out7, f)), f);
  });

  test('a failure writing cohort.csv still reports every slide', async () => {
    const out5 = join(dir, 'out5');
    mkdirSync(join(out5, 'cohort.csv'), { recursive: true });
    await assert.rejects(segment([join(dir, 'one'), '--out', out5], truthSegmenter([])), (e: Error) => {
      assert.match(e.message, /cohort\.csv: cannot write: /);
      assert.match(e.message, /\n {2}c: done$/);
      return true;
    });
  });
});

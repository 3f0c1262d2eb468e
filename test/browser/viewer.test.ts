// The viewer and the reports in a real browser (Debian's Chromium, headless, through playwright-core), opened
// from file:// as a user opens them, on a small cohort of synthetic slides segmented by their ground truth.
// Every page: no console error, no failed request, every link and picture resolves. The viewer: a class's
// checkbox changes the screen where the truth has that class and nowhere else; zooming in reaches the scan's
// level 0 (its finest DeepZoom level, one scan pixel per screen pixel or more); the scale bar and the cursor
// read-out say what the geometry says. The cohort table sorts by a column. One browser for the whole file.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { CLASS_STYLES } from '../../src/data/classes.js';
import type { SlideMeasurements } from '../../src/slides/export/measure.js';
import { openLabelTiff } from '../../src/slides/io/label_raster.js';
import { launchChromium, type PageWatch, truthCohort, type ViewerWindow, viewerReady, watchPage } from '../helpers/browser.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-browser-'));
// 2400 x 1600 scan pixels: wider than the view, so the home view does not need the scan's finest level.
const SLIDES = [
  ['a', 2400, 1600, 3],
  ['b', 900, 700, 4],
] as const;
const MPP = 0.5;

// Chromium starts while the cohort is made; it is closed whatever happens, or the test process would not end.
const launching = launchChromium();
launching.catch(() => {}); // handled in before(), which fails with its message
let browser: Browser;
let cohort: Awaited<ReturnType<typeof truthCohort>>;
before(async () => {
  cohort = await truthCohort(dir, SLIDES);
  browser = await launching;
});
after(async () => {
  await (await launching.catch(() => undefined))?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a file in a fresh page (1200 x 800, one device pixel per CSS pixel), watching for errors. */
async function open(path: string): Promise<{ page: Page; watch: PageWatch }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 }, deviceScaleFactor: 1 });
  const watch = watchPage(page);
  await page.goto(pathToFileURL(path).href);
  return { page, watch };
}

/** Every link and picture on the page points to a file that exists. */
async function assertLinksResolve(page: Page): Promise<string[]> {
  const urls = await page.evaluate(() =>
    [...document.querySelectorAll('a[href]'), ...document.querySelectorAll('img[src]')].map((e) =>
      e instanceof HTMLAnchorElement ? e.href : (e as HTMLImageElement).src,
    ),
  );
  assert.ok(urls.length > 0);
  for (const url of urls) {
    if (url.startsWith('data:')) continue;
    assert.ok(url.startsWith('file:'), url);
    assert.ok(existsSync(fileURLToPath(url)), `${page.url()}: ${url} does not resolve`);
  }
  return urls;
}

interface Screen {
  width: number;
  height: number;
  data: Buffer;
}

/**
 * The viewer's area as RGB pixels, its chrome masked: the navigator (a small copy of the view, which follows
 * the layers) and the buttons (which fade out when the pointer rests).
 */
async function shot(page: Page): Promise<Screen> {
  const png = await page.locator('#view').screenshot({ mask: [page.locator('#view .navigator'), page.locator('#view img')] });
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

/** Whether pixel i is under the screenshot's mask (playwright's default mask colour, #FF00FF). */
const masked = (screen: Screen, i: number) => screen.data[i * 3] === 255 && screen.data[i * 3 + 1] === 0 && screen.data[i * 3 + 2] === 255;

describe('the viewer and the reports in Chromium', () => {
  test('viewer: classes toggle where the truth has them, zoom reaches level 0, scale bar and cursor read-out', async () => {
    const { page, watch } = await open(join(cohort.out, 'a', 'overlay', 'viewer.html'));
    await viewerReady(page);
    const [width, height] = [SLIDES[0][1], SLIDES[0][2]];
    const finest = Math.ceil(Math.log2(Math.max(width, height)));
    const finestTiles = () => watch.requests.filter((u) => u.includes(`/slide_files/${finest}/`));
    assert.deepEqual(finestTiles(), [], 'the home view shows a coarser level');

    // One scan pixel per screen pixel, centred.
    await page.evaluate(() => {
      const v = (window as ViewerWindow).mmfdViewer!;
      v.viewport.zoomTo(v.world.getItemAt(0).imageToViewportZoom(1), null, true);
    });
    await viewerReady(page);
    assert.ok(finestTiles().length > 0, "zooming in loads the scan's level 0");
    // Where the slide's corners are on the screen, in the screenshot's pixels.
    const corners = await page.evaluate(
      ({ w, h }) => {
        const v = (window as ViewerWindow).mmfdViewer!;
        const item = v.world.getItemAt(0);
        const at = (x: number, y: number) => v.viewport.pixelFromPoint(item.imageToViewportCoordinates(x, y), true);
        return { tl: at(0, 0), br: at(w, h) };
      },
      { w: width, h: height },
    );
    assert.ok(Math.abs(corners.br.x - corners.tl.x - width) < 0.01, 'one scan pixel per screen pixel');
    // 0.5 um per screen pixel: the longest 1-2-5 length within 150 pixels is 50 um, 100 pixels long.
    assert.equal(await page.textContent('#scalebar-text'), '50 µm');
    const barWidth = await page.evaluate(() => (document.querySelector('#scalebar .bar') as HTMLElement).getBoundingClientRect().width);
    assert.ok(Math.abs(barWidth - 100) < 0.2, `scale bar ${barWidth} px`);

    // The truth on the screen: the label byte under each screenshot pixel's centre (-1 off the slide).
    const truth = await openLabelTiff(cohort.synthetic.get('a')!.labels);
    const bits = await truth.readRows(0, height);
    const before = await shot(page);
    const labelAt = new Int16Array(before.width * before.height).map((_, i) => {
      const x = Math.floor((i % before.width) + 0.5 - corners.tl.x);
      const y = Math.floor(Math.floor(i / before.width) + 0.5 - corners.tl.y);
      return x >= 0 && y >= 0 && x < width && y < height ? bits[y * width + x]! : -1;
    });
    /** Whether the class's bit is set within `r` pixels of pixel i (any), or at all of them (all). */
    const near = (i: number, bit: number, r: number, every: boolean) => {
      const [x, y] = [i % before.width, Math.floor(i / before.width)];
      for (let dy = -r; dy <= r; dy++)
        for (let dx = -r; dx <= r; dx++) {
          const [u, v] = [x + dx, y + dy];
          const label = u >= 0 && v >= 0 && u < before.width && v < before.height ? labelAt[v * before.width + u]! : -1;
          const set = label >= 0 && (label & bit) !== 0;
          if (set !== every) return set;
        }
      return every;
    };

    for (const c of [0, 2]) {
      const { bit, name } = CLASS_STYLES[c]!;
      await page.click(`#class-${c}`);
      await viewerReady(page);
      const after = await shot(page);
      let inside = 0;
      let changedInside = 0;
      for (let i = 0; i < labelAt.length; i++) {
        const o = i * 3;
        const diff =
          Math.abs(after.data[o]! - before.data[o]!) +
          Math.abs(after.data[o + 1]! - before.data[o + 1]!) +
          Math.abs(after.data[o + 2]! - before.data[o + 2]!);
        const changed = diff > 3;
        // Anti-aliased class edges may reach one pixel out: two pixels of slack either side.
        if (changed)
          assert.ok(
            near(i, bit, 2, false),
            `${name} hidden: pixel ${i % before.width},${Math.floor(i / before.width)} changed away from ${name}`,
          );
        if (near(i, bit, 2, true) && !masked(before, i)) {
          inside++;
          if (changed) changedInside++;
        }
      }
      assert.ok(inside > 200, `${name}: the test slide shows ${inside} pixels well inside ${name}`);
      assert.ok(changedInside >= 0.99 * inside, `${name} hidden: ${changedInside} of ${inside} pixels inside it changed`);
      await page.click(`#class-${c}`);
      await viewerReady(page);
      assert.deepEqual(await shot(page), before, `${name} shown again: the screen is as before`);
    }

    // The cursor over a pixel of villus only (no other class), then over tissue with no class.
    const pick = (want: (label: number) => boolean) => {
      // Below the buttons and left of the navigator, where the pointer is over the image.
      for (let i = 100 * before.width; i < labelAt.length; i++) if (i % before.width < before.width / 2 && want(labelAt[i]!)) return i;
      return -1;
    };
    const box = await page.locator('#view').boundingBox();
    for (const [want, text] of [
      [(l: number) => l >= 0 && (l & 15) === 1, 'Villus'],
      [(l: number) => l === 16, 'tissue, no class'],
    ] as const) {
      const i = pick(want);
      assert.ok(i >= 0, text);
      const [x, y] = [i % before.width, Math.floor(i / before.width)];
      await page.mouse.move(box!.x + x + 0.5, box!.y + y + 0.5);
      assert.equal(await page.textContent('#cursor-classes'), text);
      const [ux, uy] = [(x + 0.5 - corners.tl.x) * MPP, (y + 0.5 - corners.tl.y) * MPP];
      const shown = (await page.textContent('#cursor-position'))!.match(/^x ([\d.]+) µm, y ([\d.]+) µm$/);
      assert.ok(shown !== null, 'position in µm');
      assert.ok(Math.abs(Number(shown[1]) - ux) <= 0.5 && Math.abs(Number(shown[2]) - uy) <= 0.5, `${shown[0]} vs ${ux}, ${uy}`);
    }

    // All the way in: past one scan pixel per screen pixel.
    const zoom = await page.evaluate(() => {
      const v = (window as ViewerWindow).mmfdViewer!;
      v.viewport.zoomTo(v.viewport.getMaxZoom(), null, true);
      return v.world.getItemAt(0).viewportToImageZoom(v.viewport.getZoom(true));
    });
    await viewerReady(page);
    assert.ok(zoom >= 1, `screen pixels per scan pixel at the deepest zoom: ${zoom}`);
    // The measurements beside the image.
    const measurements = JSON.parse(readFileSync(join(cohort.out, 'a', 'measurements.json'), 'utf8')) as SlideMeasurements;
    assert.match((await page.textContent('aside'))!, new RegExp(`Tissue area${measurements.tissue_area_mm2.toFixed(4)} mm²`));
    assert.deepEqual(watch.errors, []);
    await page.close();
  });

  test('slide report: links and pictures resolve, the legend has swatches, no errors', async () => {
    const { page, watch } = await open(join(cohort.out, 'a', 'report.html'));
    const urls = await assertLinksResolve(page);
    for (const file of [
      'overlay/viewer.html',
      'a.geojson',
      'labels.tif',
      'measurements.json',
      'manifest.json',
      'overlay/thumbnail_overlay.png',
    ])
      assert.ok(urls.includes(pathToFileURL(join(cohort.out, 'a', file)).href), file);
    const swatches = await page.$$eval('.legend .swatch', (s) => s.map((e) => getComputedStyle(e).backgroundColor));
    assert.deepEqual(
      swatches,
      CLASS_STYLES.map((s) => `rgb(${s.colour.join(', ')})`),
    );
    assert.ok(await page.evaluate(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0)));
    assert.deepEqual(watch.errors, []);
    await page.close();
  });

  test('cohort report: rows link to each slide report and viewer, columns sort, no errors', async () => {
    const { page, watch } = await open(join(cohort.out, 'report.html'));
    const urls = await assertLinksResolve(page);
    for (const [name] of SLIDES)
      for (const file of ['report.html', 'overlay/viewer.html'])
        assert.ok(urls.includes(pathToFileURL(join(cohort.out, name, file)).href), `${name}/${file}`);
    const tissue = (name: string) => cohort.outcomes.find((o) => o.name === name)!.measurements!.tissue_area_mm2;
    const names = () => page.$$eval('table.sortable tbody tr', (rows) => rows.map((r) => (r as HTMLTableRowElement).cells[0]!.textContent));
    const byTissue = SLIDES.map(([n]) => n).sort((x, y) => tissue(x) - tissue(y));
    assert.notEqual(tissue('a'), tissue('b'), 'the slides differ in tissue area');
    const header = page.locator('table.sortable th', { hasText: 'Tissue area (mm²)' });
    await header.click();
    assert.deepEqual(await names(), byTissue);
    await header.click();
    assert.deepEqual(await names(), [...byTissue].reverse());
    assert.deepEqual(watch.errors, []);
    await page.close();
  });
});

// `npm run docs:screenshots`: the README's pictures of the viewer and the cohort report, taken in headless
// Chromium (test/helpers/browser.ts) from a synthetic cohort segmented by its ground truth (no network needed):
// docs/images/viewer.png (the whole slide), viewer-zoom.png (the scan's own pixels, the cursor on a villus)
// and cohort-report.png.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { launchChromium, truthCohort, type ViewerWindow, viewerReady } from '../test/helpers/browser.js';

const images = new URL('../../docs/images/', import.meta.url).pathname;
/** A screenshot as a palette PNG (a third of the size, no visible change). */
const save = async (png: Buffer, name: string) => {
  await sharp(png).png({ palette: true, quality: 95 }).toFile(join(images, name));
};
const dir = mkdtempSync(join(tmpdir(), 'mmfd-screenshots-'));
const browser = await launchChromium();
try {
  const { out } = await truthCohort(dir, [
    ['placenta-1', 6000, 4000, 11],
    ['placenta-2', 3000, 2400, 12],
    ['placenta-3', 2400, 3000, 13],
  ]);
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 }, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(join(out, 'placenta-1', 'overlay', 'viewer.html')).href);
  await viewerReady(page);
  await save(await page.screenshot(), 'viewer.png');
  // The scan's own pixels (0.5 um each) around a point a third of the way in, the cursor over the middle.
  await page.evaluate(() => {
    const v = (window as ViewerWindow).mmfdViewer!;
    const item = v.world.getItemAt(0);
    v.viewport.zoomTo(item.imageToViewportZoom(1), null, true);
    (v.viewport as unknown as { panTo(p: unknown, now: boolean): void }).panTo(item.imageToViewportCoordinates(2000, 1500), true);
  });
  await viewerReady(page);
  const box = (await page.locator('#view').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await save(await page.screenshot(), 'viewer-zoom.png');
  await page.goto(pathToFileURL(join(out, 'report.html')).href);
  await page.locator('table.sortable th', { hasText: 'Villus (fraction of tissue)' }).click();
  await save(await page.screenshot(), 'cohort-report.png');
  console.log(`wrote ${['viewer.png', 'viewer-zoom.png', 'cohort-report.png'].map((f) => join(images, f)).join(', ')}`);
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}

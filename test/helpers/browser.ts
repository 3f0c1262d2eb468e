// Debian's Chromium driven headless by playwright-core (no browser download), for the viewer and report tests
// and the README's screenshots; and a small synthetic cohort segmented by the ground truth to look at.
// Missing Chromium is an error naming the package, never a silent skip: scripts/setup.sh installs it.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { runCohort, type SlideOutcome } from '../../src/cohort/run.js';
import { listSlides } from '../../src/cohort/slide_list.js';
import { type SynthSlideResult, writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import { testSettings } from './segment_settings.js';
import { truthSegmenter } from './truth_segmenter.js';

/** The system Chromium; MMFD_CHROMIUM names another. */
export const CHROMIUM = process.env.MMFD_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM}: no Chromium. The browser tests drive Debian's chromium package: run scripts/setup.sh or 'apt-get install -y chromium' (or set MMFD_CHROMIUM to a Chromium binary)`,
    );
  return chromium.launch({ executablePath: CHROMIUM });
}

/** What went wrong on a page: console errors, uncaught exceptions and failed requests; and every URL it asked for. */
export interface PageWatch {
  errors: string[];
  requests: string[];
}

export function watchPage(page: Page): PageWatch {
  const watch: PageWatch = { errors: [], requests: [] };
  page.on('console', (m) => m.type() === 'error' && watch.errors.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => watch.errors.push(`exception: ${e.message}`));
  page.on('requestfailed', (r) => watch.errors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('request', (r) => watch.requests.push(r.url()));
  return watch;
}

interface Point {
  x: number;
  y: number;
}

/** What the tests use of the page's OpenSeadragon viewer (window.mmfdViewer). */
export interface ViewerWindow {
  mmfdViewer?: {
    world: {
      getItemCount(): number;
      getItemAt(index: number): {
        imageToViewportZoom(zoom: number): number;
        viewportToImageZoom(zoom: number): number;
        imageToViewportCoordinates(x: number, y: number): Point;
      };
    };
    viewport: {
      zoomTo(zoom: number, at: null, immediately: boolean): void;
      getZoom(current: boolean): number;
      getMaxZoom(): number;
      pixelFromPoint(point: Point, current: boolean): Point;
    };
    navigator: { element: HTMLElement };
    getFullyLoaded(): boolean;
  };
}

/** Waits until the viewer has its five layers drawn at the current view and its label raster decoded. */
export async function viewerReady(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const viewer = (window as ViewerWindow).mmfdViewer;
    return viewer !== undefined && viewer.world.getItemCount() === 5 && viewer.getFullyLoaded() && document.body.dataset.labels === 'ready';
  });
  // Tiles loaded are drawn on the next animation frame.
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
}

export const VIEW_SETTINGS = testSettings(512);

/** Synthetic slides (name, width, height, seed) at 0.5 um/px, segmented by their ground truth into `out`. */
export async function truthCohort(
  dir: string,
  slides: readonly (readonly [string, number, number, number])[],
): Promise<{ out: string; synthetic: Map<string, SynthSlideResult>; outcomes: SlideOutcome[] }> {
  const synthetic = new Map<string, SynthSlideResult>();
  mkdirSync(join(dir, 'slides'), { recursive: true });
  for (const [name, width, height, seed] of slides)
    synthetic.set(name, await writeSyntheticSlide({ out: join(dir, 'slides', `${name}.tif`), width, height, seed, mpp: 0.5 }));
  const out = join(dir, 'out');
  const outcomes = await runCohort(
    listSlides(join(dir, 'slides')).filter((s) => synthetic.has(s.name)),
    { out, segmenter: truthSegmenter(), settings: VIEW_SETTINGS },
  );
  return { out, synthetic, outcomes };
}

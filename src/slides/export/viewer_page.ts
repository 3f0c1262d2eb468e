// The viewer page (deepzoom.ts writes its files): OpenSeadragon with the slide as the first layer and one
// layer per class above it, a checkbox per class and one opacity slider (layer opacities: nothing is
// re-rendered), a scale bar in um, the cursor's position in um and the classes under it (from labels.js),
// and the slide's measurements beside the image. It opens from disk with no server: the tile sources are
// written into the page (browsers refuse scripts' requests for file:// URLs; tiles load as plain images,
// which they allow) and the canvas drawer is asked for, since WebGL cannot use images from file:// pages.
import { CLASS_STYLES, TISSUE_BIT } from '../../data/classes.js';
import { escapeMarkup } from '../../viz/svg.js';

export interface ViewerConfig {
  title: string;
  /** Microns per slide-layer pixel. */
  mpp: number;
  slide: { width: number; height: number };
  /** The class layers' size and slide-layer pixels per label pixel. */
  labels: { width: number; height: number; scale: number };
  /** Microns per pixel of the cursor read-out's label raster. */
  readoutMpp: number;
  details: readonly (readonly [string, string])[];
  tileSize: number;
}

/** Starting opacity of the class layers: the project's overlay alpha. */
const OPACITY = 50;

/** JSON that is safe inside a <script> element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

const um = (v: number) => `${Number(v.toPrecision(4))} µm/px`;

// The page's behaviour; `M` is the configuration above, `window.MMFD_LABELS` comes from labels.js.
const VIEWER_SCRIPT = `
const source = (name, width, height, format) => ({
  Image: {
    xmlns: 'http://schemas.microsoft.com/deepzoom/2008',
    Url: name + '_files/',
    Format: format,
    Overlap: '0',
    TileSize: String(M.tileSize),
    Size: { Width: String(width), Height: String(height) },
  },
});
// World units: the slide is 1 wide; the label map may reach past it by less than one label pixel.
const labelWidth = (M.labels.width * M.labels.scale) / M.slide.width;
const viewer = OpenSeadragon({
  id: 'view',
  prefixUrl: 'openseadragon/images/',
  drawer: 'canvas',
  showNavigator: true,
  maxZoomPixelRatio: 4,
  tileSources: [source('slide', M.slide.width, M.slide.height, 'jpg')].concat(
    M.classes.map((c) => ({
      tileSource: source('class' + c.index, M.labels.width, M.labels.height, 'png'),
      x: 0,
      y: 0,
      width: labelWidth,
      opacity: M.opacity,
    })),
  ),
});
window.mmfdViewer = viewer;

const slider = document.getElementById('opacity');
const boxes = M.classes.map((c) => document.getElementById('class-' + c.index));
function applyOpacity() {
  document.getElementById('opacity-value').textContent = slider.value + '%';
  M.classes.forEach((c, i) => {
    const item = viewer.world.getItemAt(i + 1);
    if (item) item.setOpacity(boxes[i].checked ? slider.value / 100 : 0);
  });
}
slider.addEventListener('input', applyOpacity);
boxes.forEach((box) => box.addEventListener('change', applyOpacity));

// A scale bar of 1, 2 or 5 times a power of ten, about 150 screen pixels long at most.
const bar = document.querySelector('#scalebar .bar');
const barText = document.getElementById('scalebar-text');
function updateScale() {
  const slide = viewer.world.getItemAt(0);
  if (!slide) return;
  const umPerScreenPixel = M.mpp / slide.viewportToImageZoom(viewer.viewport.getZoom(true));
  const most = 150 * umPerScreenPixel;
  const power = Math.pow(10, Math.floor(Math.log10(most)));
  const length = Number(([5, 2, 1].find((k) => k * power <= most) * power).toPrecision(1));
  bar.style.width = (length / umPerScreenPixel).toFixed(1) + 'px';
  barText.textContent = length >= 1000 ? length / 1000 + ' mm' : length + ' µm';
}
['open', 'animation', 'resize', 'update-viewport'].forEach((e) => viewer.addHandler(e, updateScale));

// The classes under the cursor, from the label raster in labels.js (bit flags, gzip, base64).
let labelBits = null;
(async () => {
  const packed = Uint8Array.from(atob(window.MMFD_LABELS.gzip), (ch) => ch.charCodeAt(0));
  const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream('gzip'));
  labelBits = new Uint8Array(await new Response(stream).arrayBuffer());
  document.body.dataset.labels = 'ready';
})();
const position = document.getElementById('cursor-position');
const classesUnder = document.getElementById('cursor-classes');
const fmtUm = (v) => (v >= 1000 ? (v / 1000).toFixed(3) + ' mm' : v.toFixed(1) + ' µm');
viewer.element.addEventListener(
  'pointermove',
  (event) => {
    const slide = viewer.world.getItemAt(0);
    if (!slide) return;
    const box = viewer.element.getBoundingClientRect();
    const pixel = new OpenSeadragon.Point(event.clientX - box.left, event.clientY - box.top);
    const p = slide.viewportToImageCoordinates(viewer.viewport.pointFromPixel(pixel, true));
    if (p.x < 0 || p.y < 0 || p.x >= M.slide.width || p.y >= M.slide.height) {
      position.textContent = 'outside the slide';
      classesUnder.textContent = '';
      return;
    }
    position.textContent = 'x ' + fmtUm(p.x * M.mpp) + ', y ' + fmtUm(p.y * M.mpp);
    if (labelBits === null) {
      classesUnder.textContent = 'labels loading';
      return;
    }
    const L = window.MMFD_LABELS;
    const v = labelBits[Math.min(L.height - 1, Math.floor(p.y / L.scale)) * L.width + Math.min(L.width - 1, Math.floor(p.x / L.scale))];
    const names = M.classes.filter((c) => (v & c.bit) !== 0).map((c) => c.name);
    classesUnder.textContent = names.length > 0 ? names.join(', ') : (v & M.tissueBit) !== 0 ? 'tissue, no class' : 'glass';
  },
  true,
);
viewer.element.addEventListener('pointerleave', () => {
  position.textContent = '—';
  classesUnder.textContent = '';
});
`;

export function viewerHtml(config: ViewerConfig): string {
  const classes = CLASS_STYLES.map((s) => ({ index: s.index, bit: s.bit, name: s.name, colour: s.colour }));
  const keys = classes
    .map(
      (c) =>
        `<label class="key"><input type="checkbox" id="class-${c.index}" checked><span class="swatch" style="background:rgb(${c.colour.join(',')})"></span>${escapeMarkup(c.name)}</label>`,
    )
    .join('\n');
  const details = config.details.map(([k, v]) => `<tr><th>${escapeMarkup(k)}</th><td>${escapeMarkup(v)}</td></tr>`).join('\n');
  const page = { ...config, classes, tissueBit: TISSUE_BIT, opacity: OPACITY / 100 };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeMarkup(config.title)} - mmfd viewer</title>
<style>
html, body { margin: 0; height: 100%; font: 14px 'DejaVu Sans', system-ui, sans-serif; color: #222; }
header { height: 32px; box-sizing: border-box; padding: 6px 10px; background: #f4f4f4; border-bottom: 1px solid #ccc; white-space: nowrap; overflow: hidden; }
header .res { color: #555; margin-left: 12px; }
#view { position: absolute; top: 32px; bottom: 0; left: 0; right: 330px; background: #fff; }
aside { position: absolute; top: 32px; bottom: 0; right: 0; width: 330px; box-sizing: border-box; overflow: auto; padding: 4px 12px; border-left: 1px solid #ccc; background: #fafafa; }
aside h2 { font-size: 1em; margin: 12px 0 6px; }
.key { display: block; margin: 3px 0; cursor: pointer; }
.swatch { display: inline-block; width: 12px; height: 12px; margin: 0 6px 0 4px; vertical-align: -1px; border: 1px solid #444; }
#opacity { width: 160px; vertical-align: middle; }
#cursor-classes { font-weight: bold; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid #e2e2e2; padding: 3px 4px; text-align: left; vertical-align: top; }
td { text-align: right; font-variant-numeric: tabular-nums; }
#scalebar { position: absolute; left: 12px; bottom: 12px; z-index: 5; padding: 2px 6px 4px; background: rgba(255,255,255,0.85); pointer-events: none; }
#scalebar .bar { box-sizing: border-box; height: 8px; border: 2px solid #000; border-top: none; }
</style>
</head>
<body>
<header><strong>${escapeMarkup(config.title)}</strong><span class="res">slide ${um(config.mpp)}, labels ${um(config.mpp * config.labels.scale)}</span></header>
<div id="view"></div>
<div id="scalebar"><div class="bar"></div><span id="scalebar-text"></span></div>
<aside>
<h2>Classes</h2>
${keys}
<label>Opacity <input type="range" id="opacity" min="0" max="100" value="${OPACITY}"> <span id="opacity-value">${OPACITY}%</span></label>
<h2>Cursor</h2>
<div id="cursor-position">—</div>
<div id="cursor-classes"></div>
<div class="res">classes read at ${um(config.readoutMpp)}</div>
<h2>Measurements</h2>
<table><tbody>
${details}
</tbody></table>
</aside>
<script src="openseadragon/openseadragon.min.js"></script>
<script src="labels.js"></script>
<script>
const M = ${scriptJson(page)};
${VIEWER_SCRIPT}
</script>
</body>
</html>
`;
}

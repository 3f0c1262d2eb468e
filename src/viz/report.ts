// The HTML run report: title, run information, metrics tables, the training curves and the overlays.
// Images in the report's folder are linked by relative paths and others are embedded, so the folder can be
// moved or zipped as a whole and still open offline; nothing is fetched from the network (inline style sheet).
// Files the report points to are links relative to it (`linkTo`); a table may be sortable by clicking its
// headers (a small inline script: numbers by value, text alphabetically, missing values last).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../torch/io/files.js';
import type { LegendEntry } from './legend.js';
import { cssColour, escapeMarkup } from './svg.js';

/** A link in a cell or a run line: `href` relative to the report (see linkTo). */
export interface Link {
  text: string;
  href: string;
}

export type Cell = string | number | Link;

export interface MetricsTable {
  caption?: string;
  columns: readonly string[];
  rows: readonly (readonly Cell[])[];
  /** Decimals for non-integer numbers; default 4. */
  decimals?: number;
  /** What the columns mean, printed under the table (e.g. how a score is aggregated). */
  notes?: readonly string[];
  /** Clicking a header sorts the rows by that column. */
  sortable?: boolean;
}

export interface ReportImage {
  path: string;
  caption: string;
}

export interface RunInfo {
  config?: string;
  model?: string;
  started?: Date | string;
  finished?: Date | string;
  /** Parameter counts by kind, e.g. { total: 9676024, trainable: 460412 }. */
  parameters?: Readonly<Record<string, number>>;
  /** Anything else worth a line: [label, value]. */
  extra?: readonly (readonly [string, string | Link])[];
}

export interface ReportInput {
  title: string;
  run: RunInfo;
  tables: readonly MetricsTable[];
  /** The training-curves PNGs (one per trained model). */
  curves?: readonly ReportImage[];
  overlays?: readonly ReportImage[];
  /** The overlays' colours: a swatch and a name each, above the overlays. */
  legend?: readonly LegendEntry[];
}

/** A link from the report at `reportPath` to `target` (a file path), relative so the folder travels whole. */
export function linkTo(reportPath: string, target: string, text?: string): Link {
  const rel = relative(dirname(resolve(reportPath)), resolve(target));
  return { text: text ?? rel, href: rel.split(sep).map(encodeURIComponent).join('/') };
}

const cellHtml = (v: Cell, decimals?: number) =>
  typeof v === 'object' ? `<a href="${escapeMarkup(v.href)}">${escapeMarkup(v.text)}</a>` : escapeMarkup(formatCell(v, decimals));

/** A table cell's text: integers as they are, other numbers to `decimals` places, NaN and infinities spelled out. */
export function formatCell(value: Cell, decimals = 4): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return value.text;
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  return Number.isInteger(value) ? String(value) : value.toFixed(decimals);
}

function formatDate(value: Date | string): string {
  return typeof value === 'string' ? value : `${value.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function runInfoRows(run: RunInfo): [string, string | Link][] {
  const rows: [string, string | Link][] = [];
  if (run.config !== undefined) rows.push(['Configuration', run.config]);
  if (run.model !== undefined) rows.push(['Model', run.model]);
  if (run.started !== undefined) rows.push(['Started', formatDate(run.started)]);
  if (run.finished !== undefined) rows.push(['Finished', formatDate(run.finished)]);
  for (const [kind, count] of Object.entries(run.parameters ?? {})) rows.push([`Parameters (${kind})`, count.toLocaleString('en-US')]);
  for (const [label, value] of run.extra ?? []) rows.push([label, value]);
  return rows;
}

function tableHtml(t: MetricsTable): string {
  const head = t.columns.map((c) => `<th${t.sortable ? ' title="sort"' : ''}>${escapeMarkup(c)}</th>`).join('');
  // Sortable numbers carry their full value, so the order never depends on the rounding shown.
  const td = (v: Cell) =>
    typeof v === 'number'
      ? `<td class="num"${t.sortable && Number.isFinite(v) ? ` data-sort="${v}"` : ''}>${cellHtml(v, t.decimals)}</td>`
      : `<td>${cellHtml(v, t.decimals)}</td>`;
  const body = t.rows.map((row) => `<tr>${row.map(td).join('')}</tr>`).join('\n');
  const caption = t.caption === undefined ? '' : `<caption>${escapeMarkup(t.caption)}</caption>`;
  const notes = (t.notes ?? []).map((n) => `<p class="note">${escapeMarkup(n)}</p>`).join('\n');
  return `<table${t.sortable ? ' class="sortable"' : ''}>${caption}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>${notes}`;
}

/** Sorts a sortable table by the clicked column, ascending then descending; rows without a value go last. */
const SORT_SCRIPT = `<script>
document.querySelectorAll('table.sortable').forEach((table) => {
  table.querySelectorAll('th').forEach((th, col) => th.addEventListener('click', () => {
    const dir = th.dataset.dir === 'asc' ? 'desc' : 'asc';
    table.querySelectorAll('th').forEach((h) => delete h.dataset.dir);
    th.dataset.dir = dir;
    const sign = dir === 'asc' ? 1 : -1;
    const key = (row) => row.cells[col].dataset.sort;
    const text = (row) => row.cells[col].textContent;
    const body = table.tBodies[0];
    const rows = Array.from(body.rows).sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      if (x !== undefined && y !== undefined) return sign * (Number(x) - Number(y));
      if (x !== undefined || y !== undefined) return x === undefined ? 1 : -1;
      return sign * text(a).localeCompare(text(b));
    });
    body.append(...rows);
  }));
});
</script>`;

function legendHtml(entries: readonly LegendEntry[]): string {
  const keys = entries.map(
    (e) => `<span class="key"><span class="swatch" style="background:${cssColour(e.colour)}"></span>${escapeMarkup(e.name)}</span>`,
  );
  return `<p class="legend">${keys.join('')}</p>`;
}

const IMAGE_TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
};

/**
 * The image's URL: relative to the report when it lies in the report's folder or below (the folder then
 * travels as a whole), otherwise the image itself as a data URI, so the report never points outside its folder.
 */
function imageSrc(reportPath: string, imagePath: string): string {
  const absolute = resolve(imagePath);
  if (!existsSync(absolute)) throw new Error(`report: image ${imagePath} does not exist`);
  const rel = relative(dirname(resolve(reportPath)), absolute);
  if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) return rel.split(sep).map(encodeURIComponent).join('/');
  const type = IMAGE_TYPES[extname(absolute).toLowerCase()];
  if (type === undefined) throw new Error(`report: cannot embed ${imagePath} (png, jpg or svg only)`);
  return `data:${type};base64,${readFileSync(absolute).toString('base64')}`;
}

function figureHtml(reportPath: string, image: ReportImage): string {
  const caption = escapeMarkup(image.caption);
  return `<figure><img src="${escapeMarkup(imageSrc(reportPath, image.path))}" alt="${caption}"><figcaption>${caption}</figcaption></figure>`;
}

const STYLE = `
body { font-family: 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif; margin: 2em auto; max-width: 1700px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8em 0 1.2em; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.3em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.7em; } th { background: #f2f2f2; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; } img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { color: #555; font-size: 0.9em; margin-top: 0.3em; }
p.note { color: #555; font-size: 0.9em; margin: -0.8em 0 1.2em; }
table.sortable th { cursor: pointer; } th[data-dir=asc]::after { content: ' ▲'; } th[data-dir=desc]::after { content: ' ▼'; }
.key { margin-right: 1.2em; white-space: nowrap; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.35em; vertical-align: -0.1em; border: 1px solid #444; }`;

/** The report as an HTML string; image paths are resolved against reportPath's folder. */
export function reportHtml(reportPath: string, input: ReportInput): string {
  const info = runInfoRows(input.run);
  const parts = [
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeMarkup(input.title)}</title><style>${STYLE}\n</style></head><body>`,
    `<h1>${escapeMarkup(input.title)}</h1>`,
  ];
  if (info.length > 0) {
    const rows = info.map(([k, v]) => `<tr><th>${escapeMarkup(k)}</th><td>${cellHtml(v)}</td></tr>`).join('\n');
    parts.push(`<h2>Run</h2><table><tbody>\n${rows}\n</tbody></table>`);
  }
  if (input.tables.length > 0) parts.push('<h2>Metrics</h2>', ...input.tables.map(tableHtml));
  if (input.curves !== undefined && input.curves.length > 0) {
    parts.push('<h2>Training curves</h2>', ...input.curves.map((c) => figureHtml(reportPath, c)));
  }
  if (input.overlays !== undefined && input.overlays.length > 0) {
    parts.push('<h2>Overlays</h2>');
    if (input.legend !== undefined) parts.push(legendHtml(input.legend));
    parts.push(...input.overlays.map((o) => figureHtml(reportPath, o)));
  }
  if (input.tables.some((t) => t.sortable)) parts.push(SORT_SCRIPT);
  parts.push('</body></html>\n');
  return parts.join('\n');
}

/** Writes the report atomically; the images must already exist. */
export async function writeReport(path: string, input: ReportInput): Promise<void> {
  await writeFileAtomic(path, reportHtml(path, input));
}

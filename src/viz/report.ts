// The HTML run report: title, run information, metrics tables, the training curves and the overlays.
// Images in the report's folder are linked by relative paths and others are embedded, so the folder can be
// moved or zipped as a whole and still open offline; nothing is fetched from the network (inline style sheet).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../torch/io/files.js';
import { escapeMarkup } from './svg.js';

export type Cell = string | number;

export interface MetricsTable {
  caption?: string;
  columns: readonly string[];
  rows: readonly (readonly Cell[])[];
  /** Decimals for non-integer numbers; default 4. */
  decimals?: number;
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
  extra?: readonly (readonly [string, string])[];
}

export interface ReportInput {
  title: string;
  run: RunInfo;
  tables: readonly MetricsTable[];
  /** The training-curves PNGs (one per trained model). */
  curves?: readonly ReportImage[];
  overlays?: readonly ReportImage[];
}

/** A table cell's text: integers as they are, other numbers to `decimals` places, NaN and infinities spelled out. */
export function formatCell(value: Cell, decimals = 4): string {
  if (typeof value === 'string') return value;
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  return Number.isInteger(value) ? String(value) : value.toFixed(decimals);
}

function formatDate(value: Date | string): string {
  return typeof value === 'string' ? value : `${value.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function runInfoRows(run: RunInfo): [string, string][] {
  const rows: [string, string][] = [];
  if (run.config !== undefined) rows.push(['Configuration', run.config]);
  if (run.model !== undefined) rows.push(['Model', run.model]);
  if (run.started !== undefined) rows.push(['Started', formatDate(run.started)]);
  if (run.finished !== undefined) rows.push(['Finished', formatDate(run.finished)]);
  for (const [kind, count] of Object.entries(run.parameters ?? {})) rows.push([`Parameters (${kind})`, count.toLocaleString('en-US')]);
  for (const [label, value] of run.extra ?? []) rows.push([label, value]);
  return rows;
}

function tableHtml(t: MetricsTable): string {
  const head = t.columns.map((c) => `<th>${escapeMarkup(c)}</th>`).join('');
  const body = t.rows
    .map(
      (row) =>
        `<tr>${row.map((v) => `<td${typeof v === 'number' ? ' class="num"' : ''}>${escapeMarkup(formatCell(v, t.decimals))}</td>`).join('')}</tr>`,
    )
    .join('\n');
  const caption = t.caption === undefined ? '' : `<caption>${escapeMarkup(t.caption)}</caption>`;
  return `<table>${caption}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
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
figcaption { color: #555; font-size: 0.9em; margin-top: 0.3em; }`;

/** The report as an HTML string; image paths are resolved against reportPath's folder. */
export function reportHtml(reportPath: string, input: ReportInput): string {
  const info = runInfoRows(input.run);
  const parts = [
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeMarkup(input.title)}</title><style>${STYLE}\n</style></head><body>`,
    `<h1>${escapeMarkup(input.title)}</h1>`,
  ];
  if (info.length > 0) {
    const rows = info.map(([k, v]) => `<tr><th>${escapeMarkup(k)}</th><td>${escapeMarkup(v)}</td></tr>`).join('\n');
    parts.push(`<h2>Run</h2><table><tbody>\n${rows}\n</tbody></table>`);
  }
  if (input.tables.length > 0) parts.push('<h2>Metrics</h2>', ...input.tables.map(tableHtml));
  if (input.curves !== undefined && input.curves.length > 0) {
    parts.push('<h2>Training curves</h2>', ...input.curves.map((c) => figureHtml(reportPath, c)));
  }
  if (input.overlays !== undefined && input.overlays.length > 0) {
    parts.push('<h2>Overlays</h2>', ...input.overlays.map((o) => figureHtml(reportPath, o)));
  }
  parts.push('</body></html>\n');
  return parts.join('\n');
}

/** Writes the report atomically; the images must already exist. */
export async function writeReport(path: string, input: ReportInput): Promise<void> {
  await writeFileAtomic(path, reportHtml(path, input));
}

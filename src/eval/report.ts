// Evaluation results on disk: eval_results.json in the reference's save_results format (with mmfd's
// keys), and the per-class table as Markdown and CSV. Every file is written atomically.
import { join } from 'node:path';
import { FINAL_CLASSES } from '../data/classes.js';
import { makeDir } from '../make_dir.js';
import { writeAtomic } from '../torch/io/files.js';
import { PER_IMAGE_NOTE, POOLED_NOTE, type Summary } from './evaluator.js';
import { pythonJson } from './python_json.js';

export const RESULTS_JSON = 'eval_results.json';
export const TABLE_MARKDOWN = 'eval_table.md';
export const TABLE_CSV = 'eval_table.csv';

/** A table column: its title, how to read a class's value and the class mean from a summary, and its kind. */
interface Column {
  title: string;
  kind: 'score' | 'distance';
  value(summary: Summary, c: number): number;
  mean(summary: Summary): number;
}

export interface ResultTable {
  columns: Column[];
  /** One row per class, then 'mean'; NaN where a value is undefined (e.g. microns without an mpp). */
  rows: { name: string; values: number[] }[];
  /** What the marked columns mean; shown under the table wherever it is printed. */
  notes: string[];
}

/** Marks of the per-image columns (the reference's) and the pooled ones, explained by `notes`. */
const PER_IMAGE = '(per-image mean)';
const POOLED = '(pooled)';
/** The notes under every table of these scores. */
export const SCORE_NOTES: readonly string[] = [`${PER_IMAGE_NOTE}.`, `${POOLED_NOTE}.`];

const numberOr = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

/** A column over a per-class list `key` and its `${key}_mean`. */
function listColumn(title: string, key: string, kind: Column['kind']): Column {
  return {
    title,
    kind,
    value: (summary, c) => numberOr((summary[key] as number[] | undefined)?.[c]),
    mean: (summary) => numberOr(summary[`${key}_mean`]),
  };
}

/** The last refinement level in a summary (the one the other scores are computed on). */
function lastLevel(summary: Summary): number {
  const levels = Object.keys(summary).flatMap((k) => /^MIoU_mean_L(\d+)$/.exec(k)?.[1] ?? []);
  if (levels.length === 0) throw new Error('the summary has no MIoU_mean_L{level} key');
  return Math.max(...levels.map(Number));
}

function columns(summary: Summary): Column[] {
  const level = lastLevel(summary);
  return [
    {
      title: `IoU ${PER_IMAGE}`,
      kind: 'score',
      value: (s, c) => numberOr(s[`MIoU_${c}_L${level}`]),
      mean: (s) => numberOr(s[`MIoU_mean_L${level}`]),
    },
    listColumn(`Dice ${PER_IMAGE}`, 'dice', 'score'),
    listColumn(`IoU ${POOLED}`, 'pooled_iou', 'score'),
    listColumn(`Dice ${POOLED}`, 'pooled_dice', 'score'),
    listColumn('precision', 'precision', 'score'),
    listColumn('recall', 'recall', 'score'),
    listColumn('F-score', 'fscore', 'score'),
    listColumn('Hausdorff max (px)', 'hausdorff_max', 'distance'),
    listColumn('HD95 (px)', 'hd95_true_px', 'distance'),
    listColumn('HD95 (um)', 'hd95_true_um', 'distance'),
  ];
}

/** The table of a summary: rows villus .. trophoblast aggregation (or `classNames`), then the mean. */
export function resultTable(summary: Summary, classNames: readonly string[] = FINAL_CLASSES.map((c) => c.display)): ResultTable {
  const cols = columns(summary);
  const rows = classNames.map((name, c) => ({ name, values: cols.map((col) => col.value(summary, c)) }));
  rows.push({ name: 'mean', values: cols.map((col) => col.mean(summary)) });
  return { columns: cols, rows, notes: [...SCORE_NOTES] };
}

/** Markdown table: scores with 4 decimals, distances with 2; 'n/a' where a value is undefined; the notes below. */
export function markdownTable(summary: Summary, classNames?: readonly string[]): string {
  const { columns: cols, rows, notes } = resultTable(summary, classNames);
  const cell = (v: number, col: Column) => (Number.isFinite(v) ? v.toFixed(col.kind === 'score' ? 4 : 2) : 'n/a');
  const lines = [
    `| class | ${cols.map((c) => c.title).join(' | ')} |`,
    `|---|${cols.map(() => '---:').join('|')}|`,
    ...rows.map((r) => `| ${r.name} | ${r.values.map((v, i) => cell(v, cols[i]!)).join(' | ')} |`),
    '',
    ...notes.map((n) => `- ${n}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** CSV table: full precision; an empty cell where a value is undefined. */
export function csvTable(summary: Summary, classNames?: readonly string[]): string {
  const { columns: cols, rows } = resultTable(summary, classNames);
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const lines = [
    ['class', ...cols.map((c) => c.title)].map(quote).join(','),
    ...rows.map((r) => [quote(r.name), ...r.values.map((v) => (Number.isFinite(v) ? String(v) : ''))].join(',')),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Writes eval_results.json, eval_table.md and eval_table.csv into `dir` (created if missing) and
 * returns their paths. Each file appears complete or not at all (temporary file + rename).
 */
export function writeReport(dir: string, summary: Summary, classNames?: readonly string[]): string[] {
  makeDir(dir);
  const files: [string, string][] = [
    [RESULTS_JSON, pythonJson(summary, new Set(['num_imgs']))],
    [TABLE_MARKDOWN, markdownTable(summary, classNames)],
    [TABLE_CSV, csvTable(summary, classNames)],
  ];
  return files.map(([name, text]) => {
    const path = join(dir, name);
    writeAtomic(path, (sink) => sink.write(new TextEncoder().encode(text)));
    return path;
  });
}

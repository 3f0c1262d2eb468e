// The small CSV dialect of the dataset files (pandas' to_csv): a header row, comma separated,
// double quotes around fields holding commas, quotes or line breaks.
import { DataError } from './errors.js';

/** Rows of fields; a final line break does not make an empty row. */
export function parseCsv(text: string, file: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // byte-order mark
  for (; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') field += text[i++];
      else quoted = false;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (quoted) throw new DataError(`${file}: unterminated quoted field`);
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

const quote = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** CSV text of a header and columns of unequal length; short columns are padded with empty fields (NaN to pandas). */
export function formatColumns(columns: Record<string, readonly string[]>): string {
  const names = Object.keys(columns);
  const length = Math.max(0, ...names.map((n) => (columns[n] as readonly string[]).length));
  const lines = [names.map(quote).join(',')];
  for (let r = 0; r < length; r++) lines.push(names.map((n) => quote((columns[n] as readonly string[])[r] ?? '')).join(','));
  return `${lines.join('\n')}\n`;
}

/** The values of column `name` (by header), skipping empty and NaN padding; an error if the column is missing. */
export function readColumn(rows: string[][], name: string, file: string): { value: string; row: number }[] {
  const header = rows[0];
  const col = header?.indexOf(name) ?? -1;
  if (header === undefined || col < 0) throw new DataError(`${file}: no column '${name}' (header: ${JSON.stringify(header ?? [])})`);
  const out: { value: string; row: number }[] = [];
  for (let r = 1; r < rows.length; r++) {
    const value = (rows[r] as string[])[col] ?? '';
    if (value !== '' && value.toLowerCase() !== 'nan') out.push({ value, row: r + 1 });
  }
  return out;
}

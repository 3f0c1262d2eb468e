// `mmfd check-fixture <folder>`: rebuild a reference fixture and compare every output.
import { checkFixture } from '../parity/check.js';
import '../parity/kinds.js';

export async function run(args: string[]): Promise<number> {
  const dir = args[0];
  if (dir === undefined) {
    console.error('usage: mmfd check-fixture <fixture-folder>');
    return 2;
  }
  const { kind, lines, ok } = await checkFixture(dir);
  console.log(`fixture ${dir} (${kind})`);
  const width = Math.max(...lines.map((l) => l.name.length), 4);
  for (const l of lines) {
    const diff = Number.isNaN(l.diff) ? '-' : l.diff.toExponential(3);
    console.log(
      `${l.ok ? 'ok  ' : 'FAIL'} ${l.name.padEnd(width)}  diff ${diff.padStart(10)}  tol ${l.tolerance}${l.note ? `  (${l.note})` : ''}`,
    );
  }
  console.log(`${ok ? 'PASS' : 'FAIL'}: ${lines.filter((l) => l.ok).length}/${lines.length} within tolerance`);
  return ok ? 0 : 1;
}

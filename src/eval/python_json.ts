// The text Python's json.dumps(obj, sort_keys=True, indent=4, separators=(',', ':')) writes for a
// flat dict of floats, float lists and ints: the reference's save_results format, so that mmfd's
// eval_results.json can be diffed against a reference run line by line.

/** Python's repr of a float: shortest round-trip digits (as JS), '1.0' not '1', '1e-05' not '0.00001'. */
export function pythonFloat(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [digits, exponent] = x.toExponential().split('e') as [string, string];
  const e = Number(exponent);
  // repr switches to exponent notation outside 1e-4 <= |x| < 1e16 (JS: outside 1e-7 <= |x| < 1e21).
  if (e < -4 || e >= 16) return `${digits}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  const fixed = String(x);
  return Number.isInteger(x) ? `${fixed}.0` : fixed;
}

/**
 * One value as json.dumps writes it, except that NaN and ±Infinity become null: Python would write
 * the bare tokens NaN/Infinity, which are not JSON and which JSON.parse rejects.
 */
function scalar(x: number, isInt: boolean): string {
  if (!Number.isFinite(x)) return 'null';
  return isInt ? String(x) : pythonFloat(x);
}

/** `values` as the reference writes its summary; keys in `ints` hold Python ints (e.g. num_imgs). */
export function pythonJson(values: Readonly<Record<string, number | readonly number[]>>, ints: ReadonlySet<string>): string {
  const pad = ' '.repeat(4);
  const keys = Object.keys(values).sort();
  if (keys.length === 0) return '{}';
  const entries = keys.map((key) => {
    const value = values[key]!;
    const isInt = ints.has(key);
    if (typeof value === 'number') return `${pad}${JSON.stringify(key)}:${scalar(value, isInt)}`;
    if (value.length === 0) return `${pad}${JSON.stringify(key)}:[]`;
    const items = value.map((v) => `${pad}${pad}${scalar(v, isInt)}`).join(',\n');
    return `${pad}${JSON.stringify(key)}:[\n${items}\n${pad}]`;
  });
  return `{\n${entries.join(',\n')}\n}`;
}

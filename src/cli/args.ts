// Number arguments of the CLI commands: parsed strictly, and an error that names the option, what it
// got and the command's usage line.

/** An integer option (`--name 12`); anything else, or a missing value, is an error. */
export function integerArg(name: string, text: string | undefined, usage: string): number {
  const v = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isInteger(v))
    throw new Error(`--${name} needs an integer (got ${text ?? 'nothing'})\n${usage}`);
  return v;
}

/** A number option that must be above 0 (`--mpp 0.5`). */
export function positiveArg(name: string, text: string, usage: string): number {
  const v = Number(text);
  if (text.trim() === '' || !(v > 0)) throw new Error(`--${name} needs a positive number (got ${text})\n${usage}`);
  return v;
}

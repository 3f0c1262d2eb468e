// Runs a subcommand's run() in-process with console.log, console.error and stderr captured (kept off the test's own output).
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCaptured(run: (args: string[]) => Promise<number>, args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error, write] = [console.log, console.error, process.stderr.write.bind(process.stderr)];
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  console.error = (...a: unknown[]) => err.push(`${a.join(' ')}\n`);
  process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const code = await run(args);
    return { code, stdout: out.join('\n'), stderr: err.join('') };
  } finally {
    [console.log, console.error, process.stderr.write] = [log, error, write];
  }
}

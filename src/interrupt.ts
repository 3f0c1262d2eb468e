// Ctrl-C (SIGINT) and SIGTERM during a long job: the first signal asks the job to stop at its next safe
// point, after saving what a rerun resumes from (training: the `last` checkpoint; segmentation: the slide's
// partial run); the job then ends with InterruptedError and the command exits 128 + the signal number
// (130, 143). A second signal exits at once.

const CODES: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

/** A job stopped by a signal, its state saved; `exitCode` is the shell's code for that signal. */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
  constructor(
    message: string,
    readonly signal: string,
  ) {
    super(message);
  }
  get exitCode(): number {
    return CODES[this.signal] ?? 1;
  }
}

/** Aborted, with the signal's name as its reason, while interruptible() runs and a signal arrives. */
let current: AbortController | undefined;

/** The signal of the job now running under interruptible(); never aborted outside one. */
export function interruption(): AbortSignal {
  return (current ?? new AbortController()).signal;
}

/**
 * Runs job with SIGINT and SIGTERM turned into interruption() aborting; returns its result, or the exit
 * code of the signal when it ended with InterruptedError (its message printed on stderr).
 */
export async function interruptible<T>(job: () => Promise<T>): Promise<T | number> {
  const controller = new AbortController();
  current = controller;
  const handler = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(CODES[signal] ?? 1);
    process.stderr.write(`\n${signal}: stopping after saving what a rerun resumes from (again to stop at once)\n`);
    controller.abort(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    return await job();
  } catch (err) {
    if (!(err instanceof InterruptedError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return err.exitCode;
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    current = undefined;
  }
}

/** Throws InterruptedError (with `saved`: where the rerun resumes from) when the job has been asked to stop. */
export function stopIfInterrupted(what: string, saved: string): void {
  const signal = interruption();
  if (signal.aborted) throw new InterruptedError(`${what}: interrupted by ${String(signal.reason)}; ${saved}`, String(signal.reason));
}

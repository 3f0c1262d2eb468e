// The demo's few-shot curve in a process of its own, beside the workflow's 100 % stages. The tiny networks train on
// one intra-op thread (workflow_parts.ts), so on two cores the curve runs on the core the 100 % stages leave idle and
// the demo gains the curve for little wall time. A process and not a worker thread: libtorch's default generator and
// thread count are per process, and each part seeds its own stages. The child's output is forwarded line by line
// under a prefix; it exits when the parent goes (its IPC channel closes), and a rerun resumes both parts as ever.
import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as torch from '../torch/index.js';
import { type FewshotOptions, type FewshotResult, runFewshot } from './fewshot_workflow.js';
import { workflowThreads } from './workflow_parts.js';

const PREFIX = 'few-shot | ';

/** Whether the curve can run beside the 100 % stages: a CPU run with a spare core for each part's threads. */
export function canRunBeside(): boolean {
  return !torch.cuda.is_available() && 2 * workflowThreads() <= availableParallelism();
}

/** A curve running in a child process: its result, and a way to stop it. */
export interface BesideRun {
  result: Promise<FewshotResult>;
  stop(): void;
}

/** Forwards the child's lines to `to`, each under the prefix (on a terminal, clearing a live progress line first). */
function forward(from: NodeJS.ReadableStream, to: NodeJS.WriteStream, tail: string[]): void {
  const clear = to.isTTY ? '\r\x1b[K' : '';
  createInterface({ input: from }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    to.write(`${clear}${PREFIX}${line}\n`);
  });
}

/** Starts runFewshot(out, f) in a child process. */
export function runFewshotBeside(out: string, f: FewshotOptions): BesideRun {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Structured clone keeps the summaries' NaN (a class absent from the test set) that JSON would turn into null.
    serialization: 'advanced',
  });
  const tail: string[] = [];
  forward(child.stdout as NodeJS.ReadableStream, process.stdout, tail);
  forward(child.stderr as NodeJS.ReadableStream, process.stderr, tail);
  const result = new Promise<FewshotResult>((resolve, reject) => {
    child.on('message', (m: { result?: FewshotResult; error?: string }) =>
      m.result ? resolve(m.result) : reject(new Error(`few-shot curve: ${m.error}`)),
    );
    child.on('error', reject);
    // After an answer this changes nothing; without one, the process died (killed, out of memory, the parent's stop()).
    child.on('exit', (code, signal) =>
      reject(new Error(`few-shot curve: its process ended (${signal ?? `exit code ${code}`}); last lines:\n${tail.join('\n')}`)),
    );
  });
  child.send({ out, f });
  return { result, stop: () => child.kill() };
}

/** The child's side: one request, one answer. */
async function serve(): Promise<void> {
  const { out, f } = await new Promise<{ out: string; f: FewshotOptions }>((resolve) => process.once('message', resolve));
  // The parent is gone (ended, killed or interrupted): so is its curve. Checkpoints are renamed into place, so a
  // rerun resumes from the last one.
  process.on('disconnect', () => process.exit(1));
  try {
    const result = await runFewshot(out, f);
    process.send?.({ result }, () => process.exit(0));
  } catch (err) {
    process.send?.({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }, () => process.exit(1));
  }
}

if (process.send !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) await serve();

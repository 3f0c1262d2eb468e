// What the demo workflow runs in a second process, beside its teacher and distillation at 100 %: the student alone
// at 100 % (it needs no teacher) and then the few-shot curve. The tiny networks train on one intra-op thread
// (workflow_parts.ts), so on two cores these run on the core the other stages leave idle, and the demo gains the
// curve for a fraction of its time (the cores still share hardware: in one-off runs on the 2-vCPU machine, a
// training loop ran 18-21% slower beside another than alone). A process and not a worker thread: libtorch's
// default generator and thread count are per process, and each stage seeds itself, so the scores are those of a
// run in one process. The child's output is forwarded line by line under a prefix; it exits when the parent goes
// (its IPC channel closes), and a rerun resumes both sides as ever.
import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as torch from '../torch/index.js';
import { trainStudentAlone } from './baseline.js';
import { type FewshotOptions, type FewshotResult, runFewshot } from './fewshot_workflow.js';
import { onWorkflowThreads, timedStage, type WorkflowStage, workflowThreads } from './workflow_parts.js';

/** The child's lines in the console: the demo's second core. */
const PREFIX = 'core 2 | ';

/** Whether the second process can run: a CPU run with a spare core for each side's threads. */
export function canRunBeside(): boolean {
  return !torch.cuda.is_available() && 2 * workflowThreads() <= availableParallelism();
}

/** What the second process is asked to run: the student alone's config, then the curve in `out` with `f`. */
export interface BesideJob {
  studentConfig: string;
  out: string;
  f: FewshotOptions;
}

/** The second process's results, each as it arrives, and a way to stop it. */
export interface BesideRun {
  studentAlone: Promise<WorkflowStage>;
  fewshot: Promise<FewshotResult>;
  stop(): void;
}

type Message = { studentAlone: WorkflowStage } | { fewshot: FewshotResult } | { error: string };

/** Forwards the child's lines to `to`, each under the prefix (on a terminal, clearing a live progress line first). */
function forward(from: NodeJS.ReadableStream, to: NodeJS.WriteStream, tail: string[]): void {
  const clear = to.isTTY ? '\r\x1b[K' : '';
  createInterface({ input: from }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    to.write(`${clear}${PREFIX}${line}\n`);
  });
}

/** A promise with its settle functions; awaited later (the parent's own stages come first), so a rejection
 * meanwhile must not count as unhandled. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (err: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Starts the job in a child process. */
export function runBeside(job: BesideJob): BesideRun {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Structured clone keeps the summaries' NaN (a class absent from the test set) that JSON would turn into null.
    serialization: 'advanced',
  });
  const tail: string[] = [];
  forward(child.stdout as NodeJS.ReadableStream, process.stdout, tail);
  forward(child.stderr as NodeJS.ReadableStream, process.stderr, tail);
  const alone = deferred<WorkflowStage>();
  const curve = deferred<FewshotResult>();
  // Settling a settled promise does nothing: a failure after an answer leaves that answer as it was.
  const failAll = (err: Error) => {
    alone.reject(err);
    curve.reject(err);
  };
  child.on('message', (m: Message) => {
    if ('studentAlone' in m) alone.resolve(m.studentAlone);
    else if ('fewshot' in m) curve.resolve(m.fewshot);
    else failAll(new Error(`beside: ${m.error}`));
  });
  child.on('error', failAll);
  // After both answers this changes nothing; before, the process died (killed, out of memory, the parent's stop()).
  child.on('exit', (code, signal) =>
    failAll(new Error(`beside: its process ended (${signal ?? `exit code ${code}`}); last lines:\n${tail.join('\n')}`)),
  );
  child.send(job);
  return { studentAlone: alone.promise, fewshot: curve.promise, stop: () => child.kill() };
}

/** The child's side: one job, its two answers in order. */
async function serve(): Promise<void> {
  const job = await new Promise<BesideJob>((resolve) => process.once('message', resolve));
  // The parent is gone (ended, killed or interrupted): so is this job. Checkpoints are renamed into place, so a
  // rerun resumes from the last one.
  process.on('disconnect', () => process.exit(1));
  const send = (m: Message) => new Promise<void>((resolve) => process.send?.(m, () => resolve()));
  try {
    await send({ studentAlone: await onWorkflowThreads(() => timedStage(trainStudentAlone, job.studentConfig)) });
    await send({ fewshot: await runFewshot(job.out, job.f) });
    process.exit(0);
  } catch (err) {
    await send({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  }
}

if (process.send !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) await serve();

// Every `mmfd` subcommand: its one-line summary and its module (loaded on demand: most import libtorch).
import type { CommandSpec } from './args.js';

export interface Command {
  summary: string;
  /** Environment defaults the command sets (when unset) before its module, and so libtorch, loads. */
  env?: Record<string, string>;
  load: () => Promise<{ spec: CommandSpec<string>; run(args: string[]): Promise<number> }>;
}

export const COMMANDS: Record<string, Command> = {
  'check-fixture': { summary: 'rebuild a reference fixture folder and compare every output', load: () => import('./check-fixture.js') },
  demo: {
    summary: 'run the built-in demo (no downloads, CPU)',
    // One intra-op thread from the start (workflowThreads' default), not 2 dropped to 1 later: float sums split
    // across threads round differently, and a later `mmfd train --test` on one thread then reproduces the demo's numbers.
    env: { MMFD_NUM_THREADS: '1' },
    load: () => import('./demo.js'),
  },
  export: {
    summary: 'write a trained network as ONNX (student), PyTorch .pth or .safetensors (--checkpoint --format --out)',
    load: () => import('./export.js'),
  },
  synth: { summary: 'write a synthetic placenta dataset (PMFT layout: images, label layers, splits)', load: () => import('./synth.js') },
  segment: {
    summary: 'segment slides: label map, GeoJSON, overlay viewer, measurements, reports (resumable cohorts)',
    load: () => import('./segment.js'),
  },
  worker: {
    summary: 'run queued slides from Redis (--queue <url> --root <dir>); see segment --queue',
    load: () => import('./worker.js'),
  },
  cohort: { summary: 'a queued or sharded cohort: status --queue <url>, report <out>', load: () => import('./cohort.js') },
  patches: {
    summary: 'annotated slides (QuPath GeoJSON, label images) to a PMFT training set (--slides --out)',
    load: () => import('./patches.js'),
  },
  'synth-slide': { summary: 'write a synthetic whole slide (pyramidal TIFF) and its label image', load: () => import('./synth-slide.js') },
  params: { summary: 'parameter counts of the model a config builds (--config <yaml> [--json])', load: () => import('./params.js') },
  train: { summary: 'stage I: train the fused teacher (--config <teacher.yaml> [--test])', load: () => import('./train.js') },
  distill: {
    summary: 'stage II: distil the student from the teacher (--config <distill.yaml> [--test])',
    load: () => import('./distill.js'),
  },
  visualize: { summary: 'segment one image with a student checkpoint and write its overlay', load: () => import('./visualize.js') },
  version: { summary: 'print versions: mmfd, libtorch, threads, CUDA', load: () => import('./version.js') },
};

#!/usr/bin/env node
// The `mmfd` command: one file per subcommand under src/cli/, loaded on demand.

interface Command {
  summary: string;
  load: () => Promise<{ run(args: string[]): Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  'check-fixture': { summary: 'rebuild a reference fixture folder and compare every output', load: () => import('./check-fixture.js') },
  export: {
    summary: 'write a trained network as ONNX (student), PyTorch .pth or .safetensors (--checkpoint --format --out)',
    load: () => import('./export.js'),
  },
  demo: { summary: 'run the built-in demo (no downloads, CPU)', load: () => import('./demo.js') },
  synth: { summary: 'write a synthetic placenta dataset (PMFT layout: images, label layers, splits)', load: () => import('./synth.js') },
  segment: {
    summary: 'segment slides: label map, GeoJSON, overlay viewer, measurements, reports (resumable cohorts)',
    load: () => import('./segment.js'),
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

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(14)}${c.summary}`);
  return `usage: mmfd <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`mmfd: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return (await command.load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`mmfd: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);

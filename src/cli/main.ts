#!/usr/bin/env node
// The `mmfd` command: one file per subcommand under src/cli/ (listed in commands.ts), loaded on demand.
import { nearest } from '../config/index.js';
import { COMMANDS } from './commands.js';

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
    const hint = nearest(name, Object.keys(COMMANDS));
    process.stderr.write(`mmfd: unknown command '${name}'${hint === undefined ? '' : ` (did you mean '${hint}'?)`}\n\n${usage()}`);
    return 2;
  }
  for (const [key, value] of Object.entries(command.env ?? {})) process.env[key] ??= value;
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

/**
 * Command-line parsing: global options anywhere on the line, then the
 * command's own options (node:util parseArgs, strict), and --help text built
 * from the same specs so help and parser never disagree.
 */
import { parseArgs } from 'node:util';
import { usageError } from '../errors.js';
import type { CommandSpec, OptionSpec, Values } from './command.js';
import { EXIT_STATUS_HELP } from './exit.js';

export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  store: {
    type: 'string',
    arg: 'DIR',
    help: 'Store directory. Default: $PYCSTORE_HOME, else the user cache dir (~/.cache/pycstore on Linux).',
  },
  json: { type: 'boolean', help: 'Print exactly one JSON object on stdout (messages still go to stderr).' },
  quiet: { type: 'boolean', short: 'q', help: 'Print only the result, warnings and errors (no notes, no progress line).' },
  verbose: { type: 'boolean', short: 'v', help: 'Also print details (each environment found, and how).' },
  help: { type: 'boolean', short: 'h', help: 'Show help (for a command: pycstore COMMAND --help).' },
  version: { type: 'boolean', short: 'V', help: 'Print the version.' },
};

/** Split argv into the command name and the rest, skipping global options and their values. */
export function findCommand(argv: readonly string[]): { command: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (command === undefined && a === '--store') {
      rest.push(a);
      if (i + 1 < argv.length) rest.push(argv[++i]!);
      continue;
    }
    if (command === undefined && a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (command === undefined && !a.startsWith('-')) {
      command = a;
      continue;
    }
    rest.push(a);
  }
  return { command, rest };
}

export function parseCommandArgs(
  spec: CommandSpec | undefined,
  rest: readonly string[],
): { values: Values; positionals: string[] } {
  const options: Record<string, { type: 'boolean' | 'string'; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries({ ...GLOBAL_OPTIONS, ...(spec?.options ?? {}) })) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], options, strict: true, allowPositionals: true });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw usageError(msg.replace(/\. To specify a positional argument.*$/s, ''), spec ? `see: pycstore ${spec.name} --help` : 'see: pycstore --help');
  }
  if (spec && spec.positionals === 'none' && parsed.positionals.length > 0 && !parsed.values['help']) {
    throw usageError(`${spec.name} takes no arguments (got ${parsed.positionals.join(' ')})`, `see: pycstore ${spec.name} --help`);
  }
  return { values: parsed.values as Values, positionals: parsed.positionals };
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.arg ? ` ${o.arg}` : ''}`;
    const def = o.default !== undefined ? ` (default: ${o.default})` : '';
    return [flag, `${o.help}${def}`] as const;
  });
  const width = Math.min(30, Math.max(...rows.map(([f]) => f.length)) + 2);
  return rows.map(([f, h]) => `  ${f.padEnd(width)}${h}`);
}

export function commandHelp(spec: CommandSpec): string {
  return [
    `Usage: ${spec.usage}`,
    '',
    spec.description,
    '',
    'Options:',
    ...optionLines(spec.options),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    ...(spec.examples.length ? ['', 'Examples:', ...spec.examples.map((e) => `  ${e}`)] : []),
    '',
    ...EXIT_STATUS_HELP,
    ...(spec.exitNotes ?? []).map((n) => `  ${n}`),
    '',
  ].join('\n');
}

export function mainHelp(commands: readonly { name: string; summary: string }[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'Usage: pycstore [--store DIR] [--json] COMMAND [options]',
    '',
    'Keeps one copy of each Python bytecode file (.pyc) in a content-addressed store and',
    'replaces the copies in your virtual environments with hard links or reflinks.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Start with:  pycstore envs   (what is there)   then   pycstore dedup   (share it)',
    'More:        pycstore help COMMAND',
    '',
    ...EXIT_STATUS_HELP,
    '',
  ].join('\n');
}

/** --quiet / --verbose from the raw arguments (before `--`), for the output made before parsing. */
export function verbosityOf(argv: readonly string[]): { quiet: boolean; verbose: boolean } {
  const end = argv.indexOf('--');
  const args = end < 0 ? argv : argv.slice(0, end);
  return { quiet: args.includes('--quiet') || args.includes('-q'), verbose: args.includes('--verbose') || args.includes('-v') };
}

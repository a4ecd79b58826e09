#!/usr/bin/env node
/**
 * The entry file: a table of commands, global options, output and the exit
 * code. Only this file calls process.exit (and only for a second SIGINT/SIGTERM:
 * otherwise it sets process.exitCode and lets the process end). The exit-code
 * contract is in src/cli/exit.ts; interrupts in src/cli/interrupt.ts.
 */
import { readFileSync } from 'node:fs';
import { commandHelp, findCommand, mainHelp, parseCommandArgs, verbosityOf } from './cli/args.js';
import type { CommandModule, Context } from './cli/command.js';
import { describeError, errorJson, errorLines, EXIT, isClosedPipe, signalExit } from './cli/exit.js';
import { watchInterrupts } from './cli/interrupt.js';
import { makeOutput } from './util/output.js';
import { usageError } from './errors.js';
import { defaultStoreDir } from './store/location.js';
import { settle } from './util/turn.js';

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  dedup: { summary: 'Share the pycs of all your environments (or of the given ones) through the store.', load: () => import('./commands/dedup.js') },
  envs: { summary: 'List the environments found, with their pycs and what sharing saves.', load: () => import('./commands/envs.js') },
  status: { summary: 'What the store holds and what it saves.', load: () => import('./commands/status.js') },
  gc: { summary: 'Delete the store objects that no linked file uses any more.', load: () => import('./commands/gc.js') },
  unshare: { summary: 'Give linked pycs their own private copy again.', load: () => import('./commands/unshare.js') },
  audit: { summary: 'Check on disk what is linked, what it saves, and what is wrong.', load: () => import('./commands/audit.js') },
  verify: { summary: 'Re-hash store objects; --repair quarantines corrupt ones and restores read-only modes.', load: () => import('./commands/verify.js') },
  schedule: { summary: 'Run gc (and optionally dedup) periodically via systemd, cron, launchd or Task Scheduler.', load: () => import('./commands/schedule.js') },
  path: { summary: "Print the store's location.", load: () => import('./commands/path.js') },
};

/** `pycstore help [COMMAND]`: the same text as --help. */
async function help(rest: readonly string[]): Promise<string> {
  const name = rest.find((a) => !a.startsWith('-'));
  if (name === undefined) return mainHelp([...Object.entries(COMMANDS).map(([n, c]) => ({ name: n, summary: c.summary })), HELP_ENTRY]);
  const entry = COMMANDS[name];
  if (!entry) throw usageError(`unknown command "${name}"`, `commands: ${Object.keys(COMMANDS).join(', ')}`);
  return commandHelp((await entry.load()).spec);
}

const HELP_ENTRY = { name: 'help', summary: 'Show the help of pycstore or of a command: pycstore help COMMAND.' };

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** A reader that went away (`| head`) is not an error: stop writing to it, quietly. */
function tolerateClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err) => {
      if (!isClosedPipe(err)) throw err;
    });
  }
}

async function main(argv: string[]): Promise<number> {
  const { command, rest } = findCommand(argv);
  const wantsJson = argv.includes('--json');
  const out = makeOutput(verbosityOf(argv));
  let storeDir: string | undefined;
  try {
    if (command === undefined) {
      const { values } = parseCommandArgs(undefined, rest);
      if (values['version']) {
        process.stdout.write(wantsJson ? `${JSON.stringify({ version: version() })}\n` : `pycstore ${version()}\n`);
        return EXIT.ok;
      }
      if (values['help']) {
        process.stdout.write(await help([]));
        return EXIT.ok;
      }
      throw usageError('no command given', 'try: pycstore --help');
    }
    if (command === 'help') {
      process.stdout.write(await help(rest));
      return EXIT.ok;
    }
    const entry = COMMANDS[command];
    if (!entry) throw usageError(`unknown command "${command}"`, `commands: ${Object.keys(COMMANDS).join(', ')}`);
    const mod = await entry.load();
    const { values, positionals } = parseCommandArgs(mod.spec, rest);
    if (values['help']) {
      process.stdout.write(commandHelp(mod.spec));
      return EXIT.ok;
    }
    if (values['version']) {
      process.stdout.write(`pycstore ${version()}\n`);
      return EXIT.ok;
    }
    storeDir = defaultStoreDir(values['store'] as string | undefined, process.env);
    const interrupts = watchInterrupts({
      handling: mod.readOnly?.(values, positionals) ? 'dies' : (mod.interrupt ?? 'finishes'),
      command,
      note: (m) => out.note(m),
      exitNow: (code) => process.exit(code),
    });
    const ctx: Context = { storeDir, json: Boolean(values['json']), out, env: process.env, signal: interrupts.signal };
    try {
      const result = await mod.run(values, positionals, ctx);
      // A command that never yields to the event loop (only promise callbacks) keeps signal handlers from
      // running: let a signal that arrived meanwhile be handled before deciding the exit code.
      await settle();
      out.done();
      if (ctx.json) process.stdout.write(`${JSON.stringify(result.json)}\n`);
      else if (result.human.length) process.stdout.write(`${result.human.join('\n')}\n`);
      const sig = interrupts.received();
      return sig ? signalExit(sig) : result.exitCode;
    } catch (err) {
      await settle();
      const sig = interrupts.received();
      if (sig) {
        out.done();
        reportError(err, wantsJson, storeDir);
        return signalExit(sig);
      }
      throw err;
    } finally {
      interrupts.dispose();
    }
  } catch (err) {
    out.done();
    return reportError(err, wantsJson, storeDir);
  }
}

/** One line (two with the hint), the --json error object; the stack only with PYCSTORE_DEBUG=1. Returns the exit code. */
function reportError(err: unknown, json: boolean, storeDir: string | undefined): number {
  const r = describeError(err, storeDir);
  const stack = process.env['PYCSTORE_DEBUG'] === '1' && err instanceof Error ? err.stack : undefined;
  process.stderr.write(`${errorLines(r, stack).join('\n')}\n`);
  if (json) process.stdout.write(`${JSON.stringify(errorJson(r))}\n`);
  return r.exit;
}

/** Anything thrown outside the command's promise (an event handler's bug): one line, exit 3. */
function catchStrays(): void {
  const fatal = (err: unknown): void => {
    if (isClosedPipe(err)) return;
    reportError(err instanceof Error ? err : new Error(String(err)), false, undefined);
    process.exit(EXIT.internal);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}

tolerateClosedPipes();
catchStrays();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportError(err, false, undefined);
  },
);

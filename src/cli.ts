#!/usr/bin/env node
/**
 * The entry file: a table of commands, global options, output and the exit
 * code. Only this file calls process.exit. Exit codes: 0 success, 1 some files
 * failed (each reported), 2 usage error (and any refusal before work began).
 */
import { readFileSync } from 'node:fs';
import { commandHelp, findCommand, mainHelp, parseCommandArgs, verbosityOf } from './cli/args.js';
import type { CommandModule, Context } from './cli/command.js';
import { makeOutput } from './util/output.js';
import { PycstoreError, usageError } from './errors.js';
import { defaultStoreDir } from './store/location.js';

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

async function main(argv: string[]): Promise<number> {
  const { command, rest } = findCommand(argv);
  const wantsJson = argv.includes('--json');
  const out = makeOutput(verbosityOf(argv));
  try {
    if (command === undefined) {
      const { values } = parseCommandArgs(undefined, rest);
      if (values['version']) {
        process.stdout.write(wantsJson ? `${JSON.stringify({ version: version() })}\n` : `pycstore ${version()}\n`);
        return 0;
      }
      if (values['help']) {
        process.stdout.write(await help([]));
        return 0;
      }
      throw usageError('no command given', 'try: pycstore --help');
    }
    if (command === 'help') {
      process.stdout.write(await help(rest));
      return 0;
    }
    const entry = COMMANDS[command];
    if (!entry) throw usageError(`unknown command "${command}"`, `commands: ${Object.keys(COMMANDS).join(', ')}`);
    const mod = await entry.load();
    const { values, positionals } = parseCommandArgs(mod.spec, rest);
    if (values['help']) {
      process.stdout.write(commandHelp(mod.spec));
      return 0;
    }
    if (values['version']) {
      process.stdout.write(`pycstore ${version()}\n`);
      return 0;
    }
    const ctx: Context = {
      storeDir: defaultStoreDir(values['store'] as string | undefined, process.env),
      json: Boolean(values['json']),
      out,
      env: process.env,
    };
    const result = await mod.run(values, positionals, ctx);
    out.done();
    if (ctx.json) process.stdout.write(`${JSON.stringify(result.json)}\n`);
    else if (result.human.length) process.stdout.write(`${result.human.join('\n')}\n`);
    return result.exitCode;
  } catch (err) {
    out.done();
    return reportError(err, wantsJson);
  }
}

function reportError(err: unknown, json: boolean): number {
  const known = err instanceof PycstoreError;
  const code = known ? err.code : 'EINTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  const hint = known ? err.hint : undefined;
  process.stderr.write(`pycstore: error: ${message}\n`);
  if (hint) process.stderr.write(`pycstore: ${hint}\n`);
  if (!known && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message, ...(hint ? { hint } : {}) } })}\n`);
  // Usage errors and refusals before any work (store permissions, newer format, lock) exit 2.
  return code === 'EINTERNAL' ? 1 : 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportError(err, false);
  },
);

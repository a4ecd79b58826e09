/** `pycstore path`: where the store is (--store, else $PYCSTORE_HOME, else the user cache dir). */
import { existsSync } from 'node:fs';
import type { CommandResult, CommandSpec, Context, Values } from '../cli/command.js';

export const spec: CommandSpec = {
  name: 'path',
  summary: "Print the store's location.",
  usage: 'pycstore path',
  description: [
    "Prints the store's directory: --store DIR, else $PYCSTORE_HOME, else the user cache dir",
    '(~/.cache/pycstore on Linux, ~/Library/Caches/pycstore on macOS, %LOCALAPPDATA%\\pycstore\\Cache',
    'on Windows). It need not exist yet (dedup creates it). --json: { store, exists }.',
  ].join('\n'),
  options: {},
  examples: ['pycstore path                 # e.g. /home/me/.cache/pycstore', 'du -sh "$(pycstore path)"     # its size on disk'],
  positionals: 'none',
};

export async function run(_values: Values, _positionals: string[], ctx: Context): Promise<CommandResult> {
  return { exitCode: 0, json: { store: ctx.storeDir, exists: existsSync(ctx.storeDir) }, human: [ctx.storeDir] };
}

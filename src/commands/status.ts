/** `pycstore status`: what the store holds and what it saves, from the ledger. */
import type { CommandModule, CommandResult, CommandSpec, Context, Values } from '../cli/command.js';
import { status } from '../api/status.js';
import { formatBytes, formatCount } from '../util/format.js';

export const spec: CommandSpec = {
  name: 'status',
  summary: 'What the store holds and what it saves.',
  usage: 'pycstore status [--json]',
  description: [
    'Reads the ledger only (fast; nothing on disk is checked): objects in the store, the files',
    'linked to them, the roots scanned, and the bytes saved in allocated blocks. For figures',
    're-checked on disk, and for anomalies, use pycstore audit.',
  ].join('\n'),
  options: {},
  examples: ['pycstore status', 'pycstore status --json | jq .bytesSaved'],
  positionals: 'none',
};

export const interrupt: CommandModule['interrupt'] = 'dies';

export async function run(_values: Values, _positionals: string[], ctx: Context): Promise<CommandResult> {
  const s = await status({ store: ctx.storeDir });
  const human = s.exists
    ? [
        `Store ${s.store}`,
        `  objects   ${formatCount(s.objects)} (${formatBytes(s.objectBytes)}; ${formatBytes(s.objectAllocatedBytes)} allocated)`,
        `  links     ${formatCount(s.links)} files in ${formatCount(s.roots)} roots`,
        `  saves     ${formatBytes(Math.max(0, s.bytesSaved))}`,
        ...(s.storeRoots.length > 1 ? [`  roots on other filesystems: ${s.storeRoots.slice(1).join(', ')}`] : []),
        ...(s.lastRun ? [`  last run  ${s.lastRun.command} at ${s.lastRun.startedAt} (exit ${s.lastRun.exitCode ?? 'unfinished'})`] : []),
      ]
    : [`No store at ${s.store} yet. Start with: pycstore dedup --dry-run ~/.venvs`];
  return { exitCode: 0, json: s as unknown as Record<string, unknown>, human };
}

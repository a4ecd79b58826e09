/** `pycstore gc`: delete the store objects no live link uses. */
import type { CommandModule, CommandResult, CommandSpec, Context, Values } from '../cli/command.js';
import { gc, type GcReport } from '../api/gc.js';
import { DEFAULT_GRACE_MS } from '../gc/run.js';
import { formatBytes, formatCount, formatDuration, plural } from '../util/format.js';

export const spec: CommandSpec = {
  name: 'gc',
  summary: 'Delete the store objects that no linked file uses any more.',
  usage: 'pycstore gc [--grace DURATION] [--dry-run] [--json]',
  description: [
    'Deletes the objects in the store that no venv file uses any more: those of deleted venvs,',
    'of packages uninstalled or upgraded, and of pycs CPython recompiled after a source edit. Each',
    'file the ledger says is linked is checked on disk: a hard link must still be its object\'s',
    'inode; a reflink must still have the fingerprint it had when linked, or else the object\'s',
    'content byte for byte. Link counts are never trusted. Ledger rows of files, venvs and objects',
    'that are gone are dropped; store files the ledger never recorded (left by a crashed run) and',
    'temp files are deleted too. Venv files themselves are never touched.',
    '',
    'Safe to run at any time, also while dedup runs: gc takes the store\'s exclusive lock and',
    'waits for running dedups to finish (and they wait for it), saying so on stderr. Objects used',
    'within the grace period stay even when nothing links to them, so a dedup that has just',
    'written an object, or one that crashed before recording its links, can\'t lose it; every',
    'link refreshes the object\'s age. A gc killed midway leaves nothing the next gc can\'t finish.',
  ].join('\n'),
  options: {
    grace: {
      type: 'string',
      arg: 'DURATION',
      help: 'Keep unused objects used less than this long ago: 90s, 30m, 1h, 2d, 1w; 0 deletes every unused object now.',
      default: '1h',
    },
    'dry-run': { type: 'boolean', short: 'n', help: 'Print what would be deleted; change nothing (the ledger included).' },
  },
  examples: [
    'pycstore gc --dry-run               # what would be deleted, and how much it frees',
    'pycstore gc                         # delete objects unused for an hour or more',
    'rm -rf ~/.venvs/old && pycstore gc  # frees what only that venv used',
    'pycstore unshare --all && pycstore gc --grace 0   # stop using pycstore: an empty store',
    'pycstore schedule install           # run gc daily',
  ],
  positionals: 'none',
};

/** gc stops after looking and before deleting when SIGINT/SIGTERM arrived by then; once deleting, it finishes. */
export const interrupt: CommandModule['interrupt'] = 'honours';
export const readOnly: CommandModule['readOnly'] = (values) => Boolean(values['dry-run']);

export async function run(values: Values, _positionals: string[], ctx: Context): Promise<CommandResult> {
  const report = await gc({ store: ctx.storeDir, grace: values['grace'] as string | undefined, dryRun: Boolean(values['dry-run']), output: ctx.out, signal: ctx.signal });
  for (const f of report.failures) ctx.out.warn(`${f.path}: ${f.reason}: ${f.detail}`);
  return { exitCode: report.failures.length > 0 ? 1 : 0, json: report as unknown as Record<string, unknown>, human: human(report) };
}

function graceText(ms: number): string {
  const units: [number, string][] = [
    [604_800_000, 'w'],
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  const whole = units.find(([u]) => ms % u === 0);
  return `grace period (${whole ? `${ms / whole[0]} ${whole[1]}` : formatDuration(ms)})`;
}

function kept(r: GcReport): string {
  const inUse = `${plural(r.objectsLive, 'object')} in use`;
  return r.graceMs === 0 ? inUse : `${inUse} and ${plural(r.objectsInGrace, 'unused object')} within the ${graceText(r.graceMs)}`;
}

function human(r: GcReport): string[] {
  if (!r.exists) return [`No store at ${r.store}: nothing to collect. Start with: pycstore dedup --dry-run ~/.venvs`];
  const lines: string[] = [];
  const reasons = Object.entries(r.linksDroppedByReason)
    .map(([k, v]) => `${k} ${formatCount(v)}`)
    .join(', ');
  if (r.dryRun && r.plan) {
    const p = r.plan;
    lines.push('Dry run: nothing was changed.');
    lines.push(
      `Would delete ${plural(p.objectsDeleted, 'object')} (${formatBytes(p.bytesFreed)} freed), ` +
        `drop ${plural(p.linksDropped, 'link')}${reasons ? ` (${reasons})` : ''} and ${plural(p.rootsDropped, 'root')} whose folder is gone.`,
    );
    if (p.unknownFilesDeleted + p.tempFilesDeleted > 0) {
      lines.push(`Would delete ${plural(p.unknownFilesDeleted, 'unrecorded object file')} and ${plural(p.tempFilesDeleted, 'temp file')}.`);
    }
    for (const o of p.objects.slice(0, 10)) lines.push(`  delete ${o.object}  (${formatBytes(o.allocated)}, last used ${o.lastUsed})`);
    for (const l of p.links.slice(0, 10)) lines.push(`  drop   ${l.path}  (${l.reason})`);
    for (const root of p.roots.slice(0, 10)) lines.push(`  drop   root ${root}  (gone)`);
    if (p.objects.length > 10 || p.links.length > 10 || p.roots.length > 10) lines.push('  … (--json lists all of them)');
    lines.push(`Keeps ${kept(r)}.`);
    lines.push(p.objectsDeleted + p.linksDropped + p.rootsDropped > 0 ? 'To do it: pycstore gc' + (r.graceMs !== DEFAULT_GRACE_MS ? ` --grace ${r.graceMs / 1000}s` : '') : 'Nothing to collect.');
    return lines;
  }
  if (r.interrupted) return ['interrupted before deleting anything; run pycstore gc again to collect.'];
  lines.push(
    `Deleted ${plural(r.objectsDeleted, 'object')}, freeing ${formatBytes(r.bytesFreed)}; ` +
      `dropped ${plural(r.linksDropped, 'link')}${reasons ? ` (${reasons})` : ''} and ${plural(r.rootsDropped, 'root')} whose folder is gone.`,
  );
  if (r.unknownFilesDeleted + r.tempFilesDeleted + r.missingObjectRows > 0) {
    lines.push(
      `Cleaned up after interrupted runs: ${plural(r.unknownFilesDeleted, 'unrecorded object file')}, ${plural(r.tempFilesDeleted, 'temp file')}, ` +
        `${plural(r.missingObjectRows, 'row')} of objects already deleted.`,
    );
  }
  lines.push(`Kept ${kept(r)}; ${formatDuration(r.durationMs)}.`);
  if (r.objectsInGrace > 0 && r.graceMs > 0) lines.push('They go on a later run; to free them now: pycstore gc --grace 0');
  if (r.failures.length) lines.push(`${plural(r.failures.length, 'file')} could not be deleted (listed above); run pycstore gc again.`);
  return lines;
}

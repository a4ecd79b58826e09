/** `pycstore unshare PATH... | --all`: give linked pycs their own private copy again. */
import type { CommandModule, CommandResult, CommandSpec, Context, Values } from '../cli/command.js';
import { unshare, type UnshareReport } from '../api/unshare.js';
import { formatBytes, formatCount, formatDuration, plural } from '../util/format.js';

export const spec: CommandSpec = {
  name: 'unshare',
  summary: 'Give linked pycs their own private copy again (before moving a venv, or to stop using pycstore).',
  usage: 'pycstore unshare [--dry-run] PATH... | --all',
  description: [
    'Every pyc the ledger records as linked under PATH (a venv, a folder of venvs, or one file),',
    'or everywhere with --all, gets its own copy again: same content, a separate file (st_nlink 1),',
    'the mode CPython would give it ((source mode | 0o200) & 0o666) and its owner. Each file is',
    'replaced atomically: the copy is written next to it and renamed over it, so the path never',
    'goes missing; a file that changed meanwhile is left alone and reported. The links are dropped',
    'from the ledger, and so are the registered roots at or under PATH, so a later `pycstore dedup`',
    'without PATH does not link them again.',
    '',
    'Do this before moving a venv to another filesystem (hard links can\'t follow it), or to stop',
    'using pycstore. The store objects stay until gc deletes the ones nothing uses any more.',
  ].join('\n'),
  options: {
    all: { type: 'boolean', help: 'Every linked file the ledger knows, and forget every registered root.' },
    'dry-run': { type: 'boolean', short: 'n', help: 'Print what would be copied; change nothing (the ledger included).' },
  },
  examples: [
    'pycstore unshare ~/.venvs/proj          # before: mv ~/.venvs/proj /mnt/other-disk/',
    'pycstore unshare ~/.venvs/proj/lib/python3.12/site-packages/pip/__pycache__/__init__.cpython-312.pyc',
    'pycstore unshare --all && pycstore gc --grace 0   # stop using pycstore: every pyc private, an empty store',
  ],
  positionals: 'any',
};

export const interrupt: CommandModule['interrupt'] = 'honours';
export const readOnly: CommandModule['readOnly'] = (values) => Boolean(values['dry-run']);

export async function run(values: Values, positionals: string[], ctx: Context): Promise<CommandResult> {
  const report = await unshare({ store: ctx.storeDir, paths: positionals, all: Boolean(values['all']), dryRun: Boolean(values['dry-run']), output: ctx.out, signal: ctx.signal });
  for (const f of report.failures) ctx.out.warn(`${f.path}: ${f.reason}: ${f.detail}`);
  return { exitCode: report.failures.length > 0 ? 1 : 0, json: report as unknown as Record<string, unknown>, human: human(report) };
}

function human(r: UnshareReport): string[] {
  const lines: string[] = [];
  if (r.dryRun && r.plan) {
    const p = r.plan;
    lines.push('Dry run: nothing was changed.');
    lines.push(
      `Would give ${plural(p.unshared, 'linked pyc')} a private copy and drop ${plural(p.linksDropped, 'ledger link')} ` +
        `(${formatCount(p.alreadyPrivate)} already private, ${formatCount(p.gone)} gone)` +
        (p.rootsDropped ? `; would forget ${plural(p.rootsDropped, 'registered root')}` : '') +
        '.',
    );
    for (const f of p.copy.slice(0, 10)) lines.push(`  copy  ${f}`);
    if (p.copy.length > 10) lines.push('  … (--json lists every file)');
    if (p.linksDropped > 0) lines.push(`To do it: pycstore unshare ${r.all ? '--all' : r.paths.join(' ')}`);
    return lines;
  }
  if (r.leftoversRemoved) lines.push(`Removed ${plural(r.leftoversRemoved, 'temp file')} left in __pycache__ folders by an interrupted earlier run.`);
  if (r.interrupted) {
    lines.push(`interrupted: ${plural(r.unshared, 'pyc')} given a private copy so far; run the same unshare again to finish.`);
    return lines;
  }
  if (r.linksDropped === 0 && r.failures.length === 0) {
    lines.push(r.all ? 'Nothing is linked: every pyc is private already.' : 'Nothing under those paths is linked to the store.');
    return lines;
  }
  lines.push(
    `Gave ${plural(r.unshared, 'pyc')} a private copy (${formatBytes(r.bytesAdded)}); dropped ${plural(r.linksDropped, 'ledger link')} ` +
      `(${formatCount(r.alreadyPrivate)} already private, ${formatCount(r.gone)} gone)` +
      (r.rootsDropped ? `; forgot ${plural(r.rootsDropped, 'registered root')}` : '') +
      `; ${formatDuration(r.durationMs)}.`,
  );
  if (r.failures.length) lines.push(`${plural(r.failures.length, 'file')} left as they were (listed above); run the same unshare again.`);
  lines.push(
    r.all
      ? 'To delete the store objects now: pycstore gc --grace 0'
      : 'The store objects only these files used go at the next gc (pycstore gc; --grace 0 frees them now).',
  );
  return lines;
}

/** `pycstore dedup [PATH...]`: share the pycs of the given trees through the store. */
import type { CommandModule, CommandResult, CommandSpec, Context, Values } from '../cli/command.js';
import { usageError } from '../errors.js';
import { dedup, type DedupReport } from '../api/dedup.js';
import type { InvalidationPolicy } from '../canonical/types.js';
import type { LinkMode } from '../fs/link.js';
import { formatBytes, formatCount, formatDuration } from '../util/format.js';

export const spec: CommandSpec = {
  name: 'dedup',
  summary: 'Share the pycs of the given trees through the store.',
  usage: 'pycstore dedup [options] [PATH...]',
  description: [
    'Finds the Python bytecode files (__pycache__/*.pyc) under each PATH, keeps one copy of each',
    'in the store, and replaces every copy with a hard link or a reflink to it. Each file is',
    'replaced atomically, only when it is fresh for its source and unchanged since it was read,',
    'and only by identical content. With no PATH, the roots of earlier runs are scanned again;',
    'files unchanged since then are not read again.',
  ].join('\n'),
  options: {
    'dry-run': { type: 'boolean', short: 'n', help: 'Print the plan; change nothing on disk (the ledger included).' },
    'link-mode': {
      type: 'string',
      arg: 'MODE',
      help: 'auto: reflink where the filesystem can, else hard link; reflink; hardlink. Never symlinks.',
      default: 'auto',
    },
    jobs: { type: 'string', short: 'j', arg: 'N', help: 'Files read at once.', default: '8' },
    invalidation: {
      type: 'string',
      arg: 'MODE',
      help:
        'Header of stored pycs. auto: timestamp where all copies agree on the source mtime and size (uv), ' +
        'checked-hash where they differ (pip, poetry); timestamp; checked-hash (+~5% import time, shares across all venvs); ' +
        'unchecked-hash (no import cost, but an edited source is NOT noticed: opt-in only).',
      default: 'auto',
    },
    fill: {
      type: 'boolean',
      help:
        'Also give every source in the venvs\' site-packages that has no fresh pyc one (uv installs none by default): ' +
        'from the store when it holds that source\'s pyc, else compiled once with the venv\'s own Python.',
    },
    'byte-identical': {
      type: 'boolean',
      help: 'Store pycs as they are, not in canonical form: only byte-identical pycs (copied venvs) are shared.',
    },
    'pycache-prefix': {
      type: 'string',
      arg: 'DIR',
      help: 'Also scan the PYTHONPYCACHEPREFIX mirror tree of each PATH under DIR.',
    },
    'store-root': {
      type: 'string',
      multiple: true,
      arg: 'DIR',
      help: 'A store root on another filesystem, for the files there (remembered; repeatable).',
    },
  },
  examples: [
    'pycstore dedup --dry-run ~/.venvs      # what would be shared, and how much it saves',
    'pycstore dedup ~/.venvs ~/work/*/.venv  # share them',
    'pycstore dedup                          # again, over the same roots (only new files are read)',
    'pycstore dedup --fill ~/.venvs          # and give uv venvs the pycs uv did not compile',
    'pycstore dedup --store-root /data/.pycstore /data/venvs   # venvs on another filesystem',
  ],
  positionals: 'any',
};

export const readOnly: CommandModule['readOnly'] = (values) => Boolean(values['dry-run']);

export async function run(values: Values, positionals: string[], ctx: Context): Promise<CommandResult> {
  const jobsText = (values['jobs'] as string | undefined) ?? '8';
  if (!/^\d+$/.test(jobsText)) throw usageError(`--jobs must be a whole number from 1 to 256 (got "${jobsText}")`);
  const report = await dedup({
    store: ctx.storeDir,
    paths: positionals,
    dryRun: Boolean(values['dry-run']),
    linkMode: ((values['link-mode'] as string | undefined) ?? 'auto') as LinkMode,
    jobs: Number(jobsText),
    invalidation: ((values['invalidation'] as string | undefined) ?? 'auto') as InvalidationPolicy,
    fill: Boolean(values['fill']),
    byteIdentical: Boolean(values['byte-identical']),
    ...(values['pycache-prefix'] !== undefined ? { pycachePrefix: values['pycache-prefix'] as string } : {}),
    storeRoot: (values['store-root'] as string[] | undefined) ?? [],
    output: ctx.out,
  });
  for (const f of report.failures) ctx.out.warn(`${f.path}: ${f.reason}: ${f.detail}`);
  for (const o of report.otherFilesystems) {
    ctx.out.warn(
      `${formatCount(o.files)} pycs (${formatBytes(o.bytes)}) on ${o.mount} were skipped: not on the store's filesystem. ` +
        `To share them, give a store root there: pycstore dedup --store-root ${o.mount === '/' ? '' : o.mount}/.pycstore-objects …`,
    );
  }
  const unreadable = report.skipped['unreadable'] ?? 0;
  if (unreadable > 0) ctx.out.warn(`${formatCount(unreadable)} pycs could not be read (permission denied?): left as they are`);
  return { exitCode: report.failures.length > 0 || unreadable > 0 ? 1 : 0, json: report as unknown as Record<string, unknown>, human: human(report) };
}

function human(r: DedupReport): string[] {
  const lines: string[] = [];
  const skipped = Object.entries(r.skipped)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${formatCount(v)}`)
    .join(', ');
  if (r.dryRun && r.plan) {
    lines.push(`Dry run: nothing was changed.`);
    lines.push(
      `Would link ${formatCount(r.plan.toLink)} of ${formatCount(r.files)} pycs to ${formatCount(r.plan.objects.length)} store objects ` +
        `(${formatCount(r.plan.newObjects)} new), saving about ${formatBytes(Math.max(0, r.plan.projectedBytesSaved))}.`,
    );
    if (r.shared) lines.push(`Already shared: ${formatCount(r.shared)}.`);
    const shown = r.plan.objects.filter((o) => o.files.length > 1).slice(0, 10);
    for (const o of shown) {
      lines.push(`  ${o.new ? 'new ' : 'have'} ${o.object}  ← ${o.files.length} files, e.g. ${o.files[0]}`);
    }
    if (r.plan.objects.length > shown.length) lines.push(`  … (--json lists every object and file)`);
  } else {
    lines.push(
      `${formatCount(r.files)} pycs: ${formatCount(r.linked)} linked, ${formatCount(r.shared)} already shared` +
        (skipped ? `, skipped: ${skipped}` : '') +
        '.',
    );
    lines.push(
      `Saved ${formatBytes(Math.max(0, r.bytesSaved))}${r.bytesSaved < 0 ? ` (this run stored ${formatBytes(-r.bytesSaved)} more than it freed)` : ''}; ` +
        `read ${formatBytes(r.bytesRead)}; ${formatCount(r.objectsCreated)} new store objects; ${formatDuration(r.durationMs)}.`,
    );
    if (r.fill) {
      lines.push(
        `Filled ${formatCount(r.fill.filled)} missing pycs in ${formatCount(r.fill.venvs)} venvs ` +
          `(${formatCount(r.fill.fromStore)} taken from the store, ${formatCount(r.fill.compiled)} compiled)` +
          (Object.keys(r.fill.skipped).length ? `; not filled: ${Object.entries(r.fill.skipped).map(([k, v]) => `${k} ${v}`).join(', ')}` : '') +
          '.',
      );
    }
    const kinds = Object.entries(r.linkKinds);
    if (kinds.length) lines.push(`Link kind: ${kinds.map(([root, k]) => `${k} (${root})`).join(', ')}.`);
    if (r.failures.length) lines.push(`${formatCount(r.failures.length)} files failed (listed above).`);
  }
  return lines;
}

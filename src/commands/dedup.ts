/** `pycstore dedup [PATH...]`: share the pycs of every environment found (or of the given trees) through the store. */
import os from 'node:os';
import type { CommandModule, CommandResult, CommandSpec, Context, Values } from '../cli/command.js';
import { usageError } from '../errors.js';
import { dedup, type DedupReport } from '../api/dedup.js';
import type { InvalidationPolicy } from '../canonical/types.js';
import type { LinkMode } from '../fs/link.js';
import { formatBytes, formatCount, formatDuration, plural } from '../util/format.js';
import { nothingFound } from '../api/targets.js';

export const spec: CommandSpec = {
  name: 'dedup',
  summary: 'Share the pycs of all your environments (or of the given ones) through the store.',
  usage: 'pycstore dedup [options] [PATH...]',
  description: [
    'Finds the Python bytecode files (__pycache__/*.pyc) of your environments, keeps one copy of',
    'each in the store, and replaces every copy with a hard link or a reflink to it. Each file is',
    'replaced atomically, only when it is fresh for its source and unchanged since it was read,',
    'and only by identical content.',
    '',
    'With no PATH: every environment pycstore finds — the places uv, poetry, pipx, pipenv,',
    'virtualenvwrapper, pyenv, conda/mamba, pixi, hatch, pdm, rye keep them (their variables and',
    'config files included), the project environments (.venv, .tox/*, .nox/*, .pixi/envs/*)',
    'under your workspace folders (default: ~, 6 levels deep; see `pycstore envs`) — plus the',
    'roots of earlier runs. It says what it found before the work. A PATH that is an environment',
    '(or inside one) is scanned as it is; any other PATH, for the environments under it only.',
    'node_modules, .git and the like are never entered. Files unchanged since an earlier run are',
    'not read again; pycs that are hard links with names outside the run (a conda package cache)',
    'are left alone (skipped: linked-elsewhere); so are pycs CPython could not load (corrupt),',
    "whose code is not their source's (code-differs) or above 64 MiB (too-large). --invalidation",
    'also moves the pycs already shared under another header; unshare gives each file back the',
    'header it had. Ctrl-C stops between two files: what is linked is recorded (exit 130).',
    '',
    'Config file: workspaces, exclude, max-depth, discover (README, "Finding environments").',
  ].join('\n'),
  options: {
    'dry-run': { type: 'boolean', short: 'n', help: 'Print the plan; change nothing on disk (the ledger included).' },
    'no-discover': {
      type: 'boolean',
      help: 'Find no environments: scan each PATH as the tree it is; with no PATH, only the roots of earlier runs.',
    },
    workspace: {
      type: 'string',
      multiple: true,
      arg: 'DIR',
      help: 'Search DIR for project environments instead of the configured workspaces (default ~; repeatable).',
    },
    exclude: {
      type: 'string',
      multiple: true,
      arg: 'GLOB',
      help: 'Neither search nor scan folders matching GLOB (absolute-path glob, ~/ expanded; a bare name matches at any depth; repeatable).',
    },
    'link-mode': {
      type: 'string',
      arg: 'MODE',
      help: 'auto: reflink where the filesystem can, else hard link; reflink; hardlink. Never symlinks. Default: $PYCSTORE_LINK_MODE, else auto.',
    },
    jobs: { type: 'string', short: 'j', arg: 'N', help: 'Worker threads reading and analysing pycs (default: the number of CPU cores).' },
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
    'pycstore dedup                          # every environment found (and the roots of earlier runs)',
    'pycstore dedup --dry-run                # what would be shared, and how much it saves',
    'pycstore dedup ~/work                   # only the environments under ~/work',
    'pycstore dedup --exclude "~/archive/**" --workspace ~/src   # skip a folder, search projects in ~/src',
    'pycstore dedup --no-discover /srv/tree  # a plain tree, as it is (scripts)',
    'pycstore dedup --fill ~/.venvs          # and give uv venvs the pycs uv did not compile',
    'pycstore dedup --store-root /data/.pycstore /data/venvs   # venvs on another filesystem',
  ],
  positionals: 'any',
};

export const readOnly: CommandModule['readOnly'] = (values) => Boolean(values['dry-run']);

/** SIGINT/SIGTERM stop the run at its next safe point: swaps under way finish, every link made is recorded. */
export const interrupt: CommandModule['interrupt'] = 'honours';

export async function run(values: Values, positionals: string[], ctx: Context): Promise<CommandResult> {
  const jobsText = values['jobs'] as string | undefined;
  if (jobsText !== undefined && !/^\d+$/.test(jobsText)) throw usageError(`--jobs must be a whole number from 1 to 256 (got "${jobsText}")`);
  const report = await dedup({
    store: ctx.storeDir,
    paths: positionals,
    noDiscover: Boolean(values['no-discover']),
    workspace: (values['workspace'] as string[] | undefined) ?? [],
    exclude: (values['exclude'] as string[] | undefined) ?? [],
    dryRun: Boolean(values['dry-run']),
    ...(values['link-mode'] !== undefined ? { linkMode: values['link-mode'] as LinkMode } : {}),
    ...(jobsText !== undefined ? { jobs: Number(jobsText) } : {}),
    invalidation: ((values['invalidation'] as string | undefined) ?? 'auto') as InvalidationPolicy,
    fill: Boolean(values['fill']),
    byteIdentical: Boolean(values['byte-identical']),
    ...(values['pycache-prefix'] !== undefined ? { pycachePrefix: values['pycache-prefix'] as string } : {}),
    storeRoot: (values['store-root'] as string[] | undefined) ?? [],
    output: ctx.out,
    signal: ctx.signal,
  });
  for (const f of report.failures) ctx.out.warn(`${f.path}: ${f.reason}: ${f.detail}`);
  for (const o of report.otherFilesystems) {
    ctx.out.warn(
      `${formatCount(o.files)} pycs (${formatBytes(o.bytes)}) on ${o.mount} were skipped: not on the store's filesystem. ` +
        `To share them, give a store root there: pycstore dedup --store-root ${o.mount === '/' ? '' : o.mount}/.pycstore-objects …`,
    );
  }
  const bare = report.withoutPycs ?? [];
  if (bare.length > 0) {
    const more = bare.length > 1 ? ` (and ${formatCount(bare.length - 1)} more)` : '';
    ctx.out.note(`${bare[0]!.path}${more}: Python sources and no pycs (uv installs none by default); pycstore dedup --fill gives them pycs, from the store where it has them`);
  }
  const unreadable = report.skipped['unreadable'] ?? 0;
  if (unreadable > 0) ctx.out.warn(`${formatCount(unreadable)} pycs could not be read (permission denied?): left as they are`);
  if (report.stopped) ctx.out.note(report.stopped.message);
  // Interrupted: the entry file exits 130/143 (ctx.signal says which).
  const failed = report.failures.length > 0 || unreadable > 0 || report.stopped?.reason === 'no-space';
  return { exitCode: failed ? 1 : 0, json: report as unknown as Record<string, unknown>, human: human(report) };
}

function human(r: DedupReport): string[] {
  return r.dryRun && r.plan ? dryRunLines(r, r.plan) : runLines(r);
}

function dryRunLines(r: DedupReport, plan: NonNullable<DedupReport['plan']>): string[] {
  const lines = ['Dry run: nothing was changed.'];
  const pycs = plan.toLink - plan.toFill;
  lines.push(
    `Would link ${formatCount(pycs)} of ${formatCount(r.files)} pycs` +
      (r.fill ? ` and fill ${formatCount(plan.toFill)} missing pycs (of ${formatCount(r.fill.sources)} sources without one)` : '') +
      ` to ${formatCount(plan.objects.length)} store objects (${formatCount(plan.newObjects)} new), ` +
      (plan.projectedBytesSaved >= 0 ? `saving about ${formatBytes(plan.projectedBytesSaved)}.` : `storing about ${formatBytes(-plan.projectedBytesSaved)} more.`),
  );
  if (r.shared) lines.push(`Already shared: ${formatCount(r.shared)}.`);
  const shown = plan.objects.filter((o) => o.files.length > 1).slice(0, 10);
  for (const o of shown) lines.push(`  ${o.new ? 'new ' : 'have'} ${o.object}  ← ${o.files.length} files, e.g. ${o.files[0]}`);
  if (plan.objects.length > shown.length) lines.push(`  … (--json lists every object and file)`);
  return lines;
}

function runLines(r: DedupReport): string[] {
  const lines: string[] = [];
  if (r.discovery && r.roots.length === 0 && r.files === 0) return [nothingFound(r.discovery, os.homedir())];
  const skipped = Object.entries(r.skipped)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${formatCount(v)}`)
    .join(', ');
  if (r.files > 0 || !r.fill) {
    lines.push(`${formatCount(r.files)} pycs: ${formatCount(r.linked)} linked, ${formatCount(r.shared)} already shared` + (skipped ? `, skipped: ${skipped}` : '') + '.');
  }
  const tail = `read ${formatBytes(r.bytesRead)}; ${formatCount(r.objectsCreated)} new store objects; ${formatDuration(r.durationMs)}.`;
  if (r.fill) {
    const f = r.fill;
    const avoided = Math.max(0, f.filled - f.compiled);
    lines.push(
      `Filled ${plural(f.filled, 'missing pyc')} in ${plural(f.venvs, 'venv')}: ${plural(f.fromStore, 'body', 'bodies')} from the store, ` +
        `${formatCount(f.compiled)} compiled — ${plural(avoided, 'compile')} avoided` +
        (Object.keys(f.skipped).length ? `; not filled: ${Object.entries(f.skipped).map(([k, v]) => `${k} ${v}`).join(', ')}` : '') +
        '.',
    );
    lines.push(r.bytesSaved >= 0 ? `Saved ${formatBytes(r.bytesSaved)}; ${tail}` : `The new pycs take ${formatBytes(-r.bytesSaved)} of store (shared by every venv that gets them); ${tail}`);
  } else {
    lines.push(`Saved ${formatBytes(Math.max(0, r.bytesSaved))}${r.bytesSaved < 0 ? ` (this run stored ${formatBytes(-r.bytesSaved)} more than it freed)` : ''}; ${tail}`);
  }
  if (!r.dryRun) {
    if (r.headerMoved) lines.push(`Moved ${formatCount(r.headerMoved)} shared pycs to ${r.invalidation === 'auto' ? 'checked-hash' : r.invalidation} headers (their old objects go at the next gc; unshare gives each file back the header it had).`);
  }
  const kinds = Object.entries(r.linkKinds);
  if (kinds.length) lines.push(`Link kind: ${kinds.map(([root, k]) => `${k} (${root})`).join(', ')}.`);
  if (r.failures.length) lines.push(`${formatCount(r.failures.length)} files failed (listed above).`);
  return lines;
}

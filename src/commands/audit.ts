/** `pycstore audit [PATH...] [--json]`: figures re-checked on disk, and the anomalies, per root. */
import type { CommandModule, CommandResult, CommandSpec, Context, Values } from '../cli/command.js';
import { ANOMALIES, hasProblem, type Anomaly } from '../audit/anomalies.js';
import { audit, type AuditReport, type FileAudit } from '../api/audit.js';
import type { Figures, RootFigures } from '../audit/figures.js';
import { formatBytes, formatCount, table } from '../util/format.js';

export const spec: CommandSpec = {
  name: 'audit',
  summary: 'Check on disk what is linked, what it saves, and what is wrong.',
  usage: 'pycstore audit [--full] [PATH...]   |   pycstore audit FILE...',
  description: [
    'Walks each PATH (default: the roots registered by dedup) with dedup\'s scanner, stats every',
    'pyc and reports, per root and in total, as a table:',
    '  pycs       PEP 3147 pycs whose source exists (what dedup counts as files)',
    '  linked     those that are a store object now: a hard link with the object\'s inode, or a',
    '             reflink whose (dev, ino, size, mtime, ctime) are those recorded when it was made',
    '  apparent   Σ st_size of the pycs',
    '  allocated  Σ st_blocks × 512 of the pycs',
    '  saved      each linked pyc saves allocated × (k−1)/k, k = the names sharing its object:',
    '             st_nlink − 1 for a hard link (all but the store\'s own name), the live ledger',
    '             links of its object for a reflink; summed per root, rounded down. Totals sum',
    '             the roots.',
    '  linked-elsewhere  pycs that are no store object and whose inode has names outside the',
    '             audited roots (a conda package cache, the source of a cp -al copy): dedup',
    '             leaves them alone, as replacing one name would free nothing.',
    'Then the anomalies, grouped by kind, each with its paths and the command that fixes it:',
    '  corrupt-object, quarantined-inode, writable-object, missing-object, replaced,',
    '  foreign-inode, missing-file.',
    'Store objects are checked cheaply: only those whose inode, mtime or ctime moved since they',
    'were recorded are re-hashed (--full: all). With no PATH every object in the ledger is',
    'checked; with PATHs, those the trees link to. Exit status 1 when the store has a problem:',
    'corrupt-object, quarantined-inode, writable-object or missing-object; the other kinds are the',
    'venvs moving on since dedup ran (recompiles, deleted venvs, copies) and leave it 0.',
    '',
    'With FILE arguments (pyc files): which other paths share each file\'s object, from the',
    'ledger (no disk-wide search). Read-only: takes no lock and writes nothing, not even the ledger.',
    '',
    '--json: { roots: [{ path, pycs, linked, linkedElsewhere, apparentBytes, allocatedBytes, bytesSaved }], totals: { the',
    'same but path }, anomalies: [{ kind, count, paths, fix }], objects: { checked, rehashed, bytesHashed } };',
    'with FILEs: { files: [{ path, state, object, objectPath, kind, nlink, sharedWith, unrecordedNames }] }.',
  ].join('\n'),
  options: {
    full: { type: 'boolean', help: 'Re-hash every store object checked, not only those whose times moved.' },
  },
  examples: [
    'pycstore audit                       # every root dedup knows',
    'pycstore audit ~/.venvs/web          # one tree',
    'pycstore audit --json | jq .totals',
    'pycstore audit ~/.venvs/web/lib/python3.12/site-packages/pip/__pycache__/__init__.cpython-312.pyc',
  ],
  positionals: 'any',
  exitNotes: ['audit: 1 = corrupt-object, quarantined-inode, writable-object or missing-object found'],
};

const SHOWN_PATHS = 5;

export const interrupt: CommandModule['interrupt'] = 'dies';

export async function run(values: Values, positionals: string[], ctx: Context): Promise<CommandResult> {
  const report = await audit({ store: ctx.storeDir, paths: positionals, full: Boolean(values['full']), output: ctx.out });
  if ('files' in report) return { exitCode: 0, json: { files: report.files }, human: report.files.flatMap(fileHuman) };
  return { exitCode: hasProblem(report.anomalies) ? 1 : 0, json: report as unknown as Record<string, unknown>, human: human(report) };
}

function row(label: string, f: Figures): string[] {
  return [
    label,
    formatCount(f.pycs),
    formatCount(f.linked),
    formatBytes(f.apparentBytes),
    formatBytes(f.allocatedBytes),
    formatBytes(f.bytesSaved),
  ];
}

function human(r: AuditReport): string[] {
  const lines: string[] = [];
  if (!r.exists) lines.push(`No store at ${r.store} yet: nothing is linked. Start with: pycstore dedup --dry-run PATH`);
  const rows: string[][] = [['root', 'pycs', 'linked', 'apparent', 'allocated', 'saved']];
  for (const root of r.roots as RootFigures[]) rows.push(row(root.path, root));
  if (r.roots.length > 1) rows.push(row('total', r.totals));
  lines.push(...table(rows));
  const elsewhere = r.totals.linkedElsewhere;
  if (elsewhere > 0) {
    lines.push(`${formatCount(elsewhere)} pycs are hard links with names outside these roots (linked-elsewhere: a package cache, a cp -al source); dedup leaves them alone.`);
  }
  lines.push('');
  const obj = r.objects;
  if (r.exists) {
    lines.push(
      r.full
        ? `Store objects: ${formatCount(obj.checked)} checked, all re-hashed (${formatBytes(obj.bytesHashed)}).`
        : `Store objects: ${formatCount(obj.checked)} checked, ${formatCount(obj.rehashed)} re-hashed (${formatBytes(obj.bytesHashed)}): ` +
            'those whose times moved since they were verified (--full re-hashes all).',
    );
  }
  if (r.anomalies.length === 0) {
    lines.push('No anomalies.');
    return lines;
  }
  lines.push('Anomalies:');
  for (const a of r.anomalies) lines.push(...anomalyLines(a));
  return lines;
}

function anomalyLines(a: Anomaly): string[] {
  const lines = [`  ${a.kind} (${formatCount(a.count)}): ${ANOMALIES[a.kind].what}`, `    fix: ${a.fix}`];
  for (const p of a.paths.slice(0, SHOWN_PATHS)) lines.push(`    ${p}`);
  if (a.count > SHOWN_PATHS) lines.push(`    … and ${formatCount(a.count - SHOWN_PATHS)} more; --json lists all`);
  return lines;
}

function fileHuman(f: FileAudit): string[] {
  const lines = [f.path];
  if (f.state === 'not-linked') {
    lines.push('  not a store object, and the ledger has no link for it' + (f.nlink > 1 ? ` (it has ${f.nlink} names: hard links made outside pycstore)` : '') + '.');
    return lines;
  }
  if (f.state === 'replaced') {
    lines.push(`  was linked to ${f.object}, but has been replaced since (a recompile?): it shares nothing now. Fix: pycstore dedup`);
  } else {
    lines.push(`  is store object ${f.object} (${f.kind === 'hardlink' ? 'hard link' : 'reflink'})`, `  object file: ${f.objectPath ?? '(store root unreachable)'}`);
  }
  const live = f.sharedWith.filter((s) => s.linked);
  const stale = f.sharedWith.length - live.length;
  if (f.state === 'linked') {
    lines.push(live.length === 0 ? '  shared with no other path in the ledger' : `  shared with ${formatCount(live.length)} other path${live.length === 1 ? '' : 's'}:`);
    for (const s of live) lines.push(`    ${s.path}${s.kind !== f.kind ? ` (${s.kind})` : ''}`);
  } else if (live.length) {
    lines.push(`  that object is still shared by ${formatCount(live.length)} path${live.length === 1 ? '' : 's'}, e.g. ${live[0]!.path}`);
  }
  if (stale) lines.push(`  ${formatCount(stale)} more linked once and replaced or gone since (--json lists them)`);
  if (f.unrecordedNames) lines.push(`  and ${formatCount(f.unrecordedNames)} more names of this inode the ledger doesn't know (cp -al copies?)`);
  return lines;
}

/** `pycstore verify [--full] [--repair] [--json]`: re-hash store objects; quarantine the corrupt ones. */
import type { CommandModule, CommandResult, CommandSpec, Context, Values } from '../cli/command.js';
import { verify, verifyFoundProblems, type VerifyReport } from '../api/verify.js';
import { formatBytes, formatCount, formatDuration } from '../util/format.js';

export const spec: CommandSpec = {
  name: 'verify',
  summary: 'Re-hash store objects; --repair quarantines corrupt ones and restores read-only modes.',
  usage: 'pycstore verify [--full] [--repair]',
  description: [
    'Checks that every store object still holds the content of its address (xxh64 and size).',
    'By default only objects whose inode, mtime or ctime moved since they were last recorded are',
    're-hashed: any write through the filesystem moves them (so does adding or removing a link;',
    'dedup records the ctime its own links cause). Damage below the filesystem (bit rot, a bad',
    'disk) moves neither: --full re-hashes every object. An object found intact has its current',
    'times recorded, so the next verify skips it. Also reports objects that lost their read-only',
    'mode (0444) and objects whose file is gone (pycstore gc drops their rows).',
    '',
    'With --repair (takes the store\'s exclusive lock, like gc):',
    '  - each corrupt object: every venv path the ledger links to it that still is that link is',
    '    removed (CPython writes the pyc again on the next import), except reflinks whose own',
    '    content is still intact; the object file moves to quarantine-v1/ in its store root and',
    '    the ledger forgets it. The corruption never spreads, and the next pycstore dedup shares',
    '    the fresh pycs again;',
    '  - lost read-only modes are restored;',
    '  - ledger links whose file is gone are forgotten.',
    'Exit status 1 when an object is corrupt (repaired or not), gone from the store, or writable',
    '(with --repair: one whose mode could not be restored), or something could not be checked or',
    'repaired (each is reported): a cron job notices. SIGINT/SIGTERM stop it between two objects.',
  ].join('\n'),
  options: {
    full: { type: 'boolean', help: 'Re-hash every object, not only those whose times moved.' },
    repair: { type: 'boolean', help: 'Quarantine corrupt objects and remove their links; restore read-only modes.' },
  },
  examples: [
    'pycstore verify                 # quick: objects whose times moved',
    'pycstore verify --full          # every object',
    'pycstore verify --full --repair # and fix what is wrong',
  ],
  positionals: 'none',
  exitNotes: ['verify: 1 = an object is corrupt, missing or writable (not restored), or could not be checked'],
};

export const interrupt: CommandModule['interrupt'] = 'honours';

export async function run(values: Values, _positionals: string[], ctx: Context): Promise<CommandResult> {
  const report = await verify({ store: ctx.storeDir, full: Boolean(values['full']), repair: Boolean(values['repair']), output: ctx.out, signal: ctx.signal });
  for (const e of report.errors) ctx.out.warn(`${e.path}: ${e.reason}`);
  return { exitCode: verifyFoundProblems(report) ? 1 : 0, json: report as unknown as Record<string, unknown>, human: human(report) };
}

function human(r: VerifyReport): string[] {
  if (!r.exists) return [`No store at ${r.store} yet: nothing to verify.`];
  const lines = [
    `Re-hashed ${formatCount(r.checked)} of ${formatCount(r.objects)} objects (${formatBytes(r.bytesHashed)})` +
      (r.full ? '' : `; ${formatCount(r.unchanged)} unchanged since they were last verified (--full re-hashes all)`) +
      `; ${formatDuration(r.durationMs)}.`,
  ];
  if (r.interrupted) lines.push('interrupted before every object was looked at; run again to finish.');
  else if (r.corrupt.length === 0 && r.writable.length === 0 && r.missing.length === 0) lines.push('All good.');
  for (const c of r.corrupt) {
    lines.push(`CORRUPT  ${c.path}: ${c.found ? `content hashes to ${c.found}` : 'not a regular file'}; ${formatCount(c.links)} linked paths.`);
    if (r.repair) {
      lines.push(
        `         removed ${formatCount(c.removed?.length ?? 0)} linked paths (Python recompiles them), kept ${formatCount(c.kept?.length ?? 0)} (replaced since, or intact)` +
          (c.quarantined ? `; moved to ${c.quarantined}` : ''),
      );
    }
  }
  if (r.writable.length) {
    const restored = r.writable.filter((w) => w.restored).length;
    lines.push(
      `${formatCount(r.writable.length)} objects had lost their read-only mode` +
        (r.repair ? `; restored ${formatCount(restored)}.` : '; fix: pycstore verify --repair') +
        ` e.g. ${r.writable[0]!.path}`,
    );
  }
  if (r.missing.length) lines.push(`${formatCount(r.missing.length)} objects are gone from the store, e.g. ${r.missing[0]}; fix: pycstore gc`);
  if (r.finished.length) lines.push(`Finished the quarantine of ${formatCount(r.finished.length)} objects an interrupted repair had moved, e.g. ${r.finished[0]}.`);
  if (r.repair && r.forgotten) lines.push(`Forgot ${formatCount(r.forgotten)} ledger links whose file is gone.`);
  if (r.corrupt.length && !r.repair) lines.push('Fix: pycstore verify --repair (removes the files linked to corrupt objects; Python recompiles them).');
  if (r.corrupt.length && r.repair) lines.push('Next: run your venvs (or pycstore dedup --fill), then pycstore dedup to share the fresh pycs again.');
  return lines;
}

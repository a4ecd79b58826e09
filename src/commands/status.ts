/** `pycstore status`: what the store holds and what it saves, from the ledger. */
import type { CommandModule, CommandResult, CommandSpec, Context, Values } from '../cli/command.js';
import { openStoreReadOnly } from '../store/open.js';
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

export interface StatusReport {
  store: string;
  exists: boolean;
  objects: number;
  objectBytes: number;
  objectAllocatedBytes: number;
  links: number;
  roots: number;
  rootPaths: string[];
  storeRoots: string[];
  bytesSaved: number;
  lastRun: { command: string; startedAt: string; exitCode: number | null } | null;
}

export function storeStatus(storeDir: string): StatusReport {
  const store = openStoreReadOnly(storeDir);
  const empty: StatusReport = {
    store: storeDir,
    exists: false,
    objects: 0,
    objectBytes: 0,
    objectAllocatedBytes: 0,
    links: 0,
    roots: 0,
    rootPaths: [],
    storeRoots: [],
    bytesSaved: 0,
    lastRun: null,
  };
  if (!store) return empty;
  try {
    const db = store.ledger.db;
    const o = db.prepare('SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes, coalesce(sum(allocated), 0) AS alloc FROM objects').get() as {
      n: number;
      bytes: number;
      alloc: number;
    };
    const links = (db.prepare('SELECT count(*) AS n FROM links').get() as { n: number }).n;
    const saved = (
      db
        .prepare(
          `SELECT coalesce(sum((coalesce(l.n, 0) - 1) * o.allocated), 0) AS saved
           FROM objects o LEFT JOIN (SELECT object_id, count(*) AS n FROM links GROUP BY object_id) l ON l.object_id = o.id`,
        )
        .get() as { saved: number }
    ).saved;
    const roots = store.ledger.roots();
    const run = db.prepare('SELECT command, started_at, exit_code FROM runs ORDER BY id DESC LIMIT 1').get() as
      | { command: string; started_at: number; exit_code: number | null }
      | undefined;
    return {
      store: storeDir,
      exists: true,
      objects: o.n,
      objectBytes: o.bytes,
      objectAllocatedBytes: o.alloc,
      links,
      roots: roots.length,
      rootPaths: roots.map((r) => r.path),
      storeRoots: store.ledger.storeRoots().map((r) => r.path),
      bytesSaved: saved,
      lastRun: run ? { command: run.command, startedAt: new Date(run.started_at).toISOString(), exitCode: run.exit_code } : null,
    };
  } finally {
    store.close();
  }
}

export const interrupt: CommandModule['interrupt'] = 'dies';

export async function run(_values: Values, _positionals: string[], ctx: Context): Promise<CommandResult> {
  const s = storeStatus(ctx.storeDir);
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

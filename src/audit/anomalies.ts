/**
 * The anomalies audit reports: stable kind strings (scripts match on them),
 * what each means, and the command that fixes it. Pure.
 */

export const ANOMALY_KINDS = [
  'corrupt-object',
  'quarantined-inode',
  'writable-object',
  'missing-object',
  'replaced',
  'foreign-inode',
  'missing-file',
] as const;

export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface AnomalyInfo {
  /** What it is, one line. */
  readonly what: string;
  /**
   * Something is wrong with the store (audit exits 1), as opposed to the venvs having moved on since
   * dedup ran (a pyc recompiled, a venv deleted, a cp -al copy): normal life, which the fix catches up with.
   */
  readonly problem: boolean;
  /** The command (or action) that fixes it. */
  readonly fix: string;
}

export const ANOMALIES: Readonly<Record<AnomalyKind, AnomalyInfo>> = {
  'corrupt-object': {
    problem: true,
    what: 'store objects whose content no longer matches their address (paths: the object files)',
    fix: 'pycstore verify --repair',
  },
  'quarantined-inode': {
    problem: true,
    what: 'pycs that share their inode with a corrupt object verify --repair quarantined (copies the ledger did not know)',
    fix: 'delete these files; Python compiles them again on the next import',
  },
  'writable-object': {
    problem: true,
    what: 'store objects that lost their read-only mode (0444)',
    fix: 'pycstore verify --repair',
  },
  'missing-object': {
    problem: true,
    what: 'ledger objects whose file is gone from the store',
    fix: 'pycstore gc',
  },
  replaced: {
    problem: false,
    what: 'links Python has since replaced (a recompile broke the link; not an error)',
    fix: 'pycstore dedup',
  },
  'foreign-inode': {
    problem: false,
    what: 'pycs sharing their inode with a file outside the store (hard links made without pycstore)',
    fix: 'pycstore dedup',
  },
  'missing-file': {
    problem: false,
    what: 'ledger links whose file is gone',
    fix: 'pycstore verify --repair',
  },
};

/** Does this list hold a problem with the store (what audit's exit status 1 means)? */
export function hasProblem(anomalies: readonly { kind: AnomalyKind }[]): boolean {
  return anomalies.some((a) => ANOMALIES[a.kind].problem);
}

export interface Anomaly {
  kind: AnomalyKind;
  count: number;
  paths: string[];
  fix: string;
}

/** Group found paths by kind, in the fixed kind order; paths sorted and unique; empty kinds left out. */
export function groupAnomalies(found: Iterable<{ kind: AnomalyKind; path: string }>): Anomaly[] {
  const by = new Map<AnomalyKind, Set<string>>();
  for (const f of found) {
    let s = by.get(f.kind);
    if (!s) by.set(f.kind, (s = new Set()));
    s.add(f.path);
  }
  const out: Anomaly[] = [];
  for (const kind of ANOMALY_KINDS) {
    const s = by.get(kind);
    if (!s || s.size === 0) continue;
    const paths = [...s].sort();
    out.push({ kind, count: paths.length, paths, fix: ANOMALIES[kind].fix });
  }
  return out;
}

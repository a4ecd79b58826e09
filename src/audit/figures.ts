/**
 * audit's figures, pure: from one record per pyc (its lstat and whether it is a
 * store object) to the per-root and total figures. The definitions, which
 * `pycstore audit --help` repeats and test/audit recomputes from lstat alone:
 *
 * - pycs: PEP 3147 pycs whose source exists, found under the root by dedup's
 *   own scanner (src/python/scan.ts). A root nested in another is its own: its
 *   pycs count there, not in the outer one, so totals never count a file twice.
 * - linked: those that currently are a store object: a hard link whose inode
 *   is an object's, or a reflink whose fingerprint (dev, ino, size, mtime,
 *   ctime) is the one the ledger recorded (the same rule dedup uses to call a
 *   file "already shared").
 * - apparentBytes: Σ st_size of the pycs.
 * - allocatedBytes: Σ st_blocks × 512 of the pycs.
 * - bytesSaved: what sharing through the store saves. Each linked pyc saved
 *   the blocks its replacement freed (the ledger's `freed`: the allocated
 *   bytes of the file it replaced; its own allocation when not known) and is
 *   charged an even share of its object's blocks among the k names sharing
 *   them: freed − allocated / k, with k = st_nlink − 1 for a hard link (every
 *   name of the inode but the store's own), k = the live ledger links of its
 *   object for a reflink. Unlinked pycs save 0. Per root the charges are summed
 *   exactly and rounded up. When every link of every object lies in the audited
 *   roots, the total is status's Σ links freed − Σ objects allocated, less < 1
 *   byte of rounding per root; and that is what dedup reported and du sees
 *   (less the store's own ledger and folders).
 * - linkedElsewhere: pycs that are no store object and whose inode has names
 *   outside the audited roots (a conda package cache, the source of a `cp -al`
 *   copy): dedup leaves them alone (fs/linked-elsewhere.ts).
 * - totals: the sums of the roots' figures.
 */
import type { LinkKind } from '../fs/link.js';

export interface PycRecord {
  readonly rootIndex: number;
  readonly size: number;
  /** st_blocks × 512. */
  readonly allocated: number;
  readonly nlink: number;
  /** How it is a store object, or null when it isn't one. */
  readonly linked: LinkKind | null;
  /** Linked pycs: the blocks replacing the original file freed (default: `allocated`). */
  readonly freed?: number;
  /** Reflinks: live ledger links of its object (k). Unused for hard links (k comes from nlink). */
  readonly reflinkSharers?: number;
  /** Not a store object, and its inode has names outside the audited roots. */
  readonly linkedElsewhere?: boolean;
}

export interface Figures {
  pycs: number;
  linked: number;
  linkedElsewhere: number;
  apparentBytes: number;
  allocatedBytes: number;
  bytesSaved: number;
}

export interface RootFigures extends Figures {
  path: string;
}

/** k: how many names share the blocks of this pyc's object (1 = not shared). */
export function sharers(r: PycRecord): number {
  if (r.linked === 'hardlink') return Math.max(1, r.nlink - 1);
  if (r.linked === 'reflink') return Math.max(1, r.reflinkSharers ?? 1);
  return 1;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** ⌈Σ_k S_k / k⌉ exactly, for S_k = Σ allocated of the linked pycs with k sharers: their share of the objects' blocks. */
export function shareFromGroups(groups: ReadonlyMap<number, number>): number {
  let lcm = 1n;
  for (const k of groups.keys()) lcm = (lcm * BigInt(k)) / gcd(lcm, BigInt(k));
  let num = 0n;
  for (const [k, s] of groups) num += BigInt(s) * (lcm / BigInt(k));
  return Number((num + lcm - 1n) / lcm);
}

function emptyFigures(): Figures {
  return { pycs: 0, linked: 0, linkedElsewhere: 0, apparentBytes: 0, allocatedBytes: 0, bytesSaved: 0 };
}

/** Figures per root (in the order of `roots`) and their totals. */
export function computeFigures(roots: readonly string[], records: Iterable<PycRecord>): { roots: RootFigures[]; totals: Figures } {
  const figs = roots.map((p) => ({ path: p, ...emptyFigures() }));
  const groups = roots.map(() => new Map<number, number>());
  const freed = roots.map(() => 0);
  for (const r of records) {
    const f = figs[r.rootIndex];
    if (!f) continue;
    f.pycs++;
    f.apparentBytes += r.size;
    f.allocatedBytes += r.allocated;
    if (r.linkedElsewhere && !r.linked) f.linkedElsewhere++;
    if (r.linked) {
      f.linked++;
      const k = sharers(r);
      const g = groups[r.rootIndex]!;
      g.set(k, (g.get(k) ?? 0) + r.allocated);
      freed[r.rootIndex]! += r.freed ?? r.allocated;
    }
  }
  figs.forEach((f, i) => (f.bytesSaved = freed[i]! - shareFromGroups(groups[i]!)));
  const totals = emptyFigures();
  for (const f of figs) {
    totals.pycs += f.pycs;
    totals.linked += f.linked;
    totals.linkedElsewhere += f.linkedElsewhere;
    totals.apparentBytes += f.apparentBytes;
    totals.allocatedBytes += f.allocatedBytes;
    totals.bytesSaved += f.bytesSaved;
  }
  return { roots: figs, totals };
}

/**
 * The files a run will read, kept compactly: a few integers per file in typed
 * columns (folders as a tree, names and relative names interned), so a run over
 * 300,000 pycs holds megabytes, not the 5 KB per file a stat object costs.
 * Rows come out as Subjects, and grouped by (cache tag, relative name): every
 * copy of one piece of code has the same relative name, so a group holds every
 * copy of each code in it.
 */
import path from 'node:path';
import { parseCacheName } from '../pyc/names.js';
import { childPath } from '../util/child-path.js';
import { Column, Interner } from '../util/compact.js';
import { FolderTree } from './folders.js';
import type { KnownCacheName } from '../python/scan.js';
import type { Subject } from './types.js';

/** What a row is: a pyc found by the scan, or a --fill target (a source without a fresh pyc). */
export type RowKind = 'pyc' | 'fill-new' | 'fill-stale';
const KINDS: readonly RowKind[] = ['pyc', 'fill-new', 'fill-stale'];

export interface NewRow {
  readonly path: string;
  readonly source: string;
  readonly rootIndex: number;
  readonly relName: string;
  readonly name: KnownCacheName;
  readonly kind?: RowKind;
}

/** The members of each group, as ranges of one array of row ids. */
export interface Groups {
  readonly count: number;
  members(g: number): Int32Array;
}

export class FileTable {
  private readonly dirs = new FolderTree();
  private readonly names = new Interner();
  private readonly rels = new Interner();
  private readonly dir = new Column();
  private readonly sourceDir = new Column();
  private readonly name = new Column();
  private readonly rel = new Column();
  private readonly meta = new Column(); // rootIndex << 8 | kind
  private n = 0;

  get size(): number {
    return this.n;
  }

  add(row: NewRow): number {
    const i = this.n++;
    this.dir.set(i, this.dirs.id(path.dirname(row.path)));
    this.sourceDir.set(i, this.dirs.id(path.dirname(row.source)));
    this.name.set(i, this.names.id(path.basename(row.path)));
    this.rel.set(i, this.rels.id(row.relName));
    this.meta.set(i, (row.rootIndex << 8) | KINDS.indexOf(row.kind ?? 'pyc'));
    return i;
  }

  kind(i: number): RowKind {
    return KINDS[this.meta.get(i) & 0xff]!;
  }

  subject(i: number): Subject {
    const fileName = this.names.values[this.name.get(i)]!;
    const name = parseCacheName(fileName) as KnownCacheName;
    return {
      id: i,
      path: childPath(this.dirs.path(this.dir.get(i)), fileName),
      source: childPath(this.dirs.path(this.sourceDir.get(i)), `${name.module}.py`),
      name,
      rootIndex: this.meta.get(i) >>> 8,
      relName: this.rels.values[this.rel.get(i)]!,
    };
  }

  /**
   * Rows `from`… grouped by (cache tag, relative name), groups in the order of their first row:
   * a counting sort, O(rows).
   */
  groups(from = 0): Groups {
    const groupOf = new Int32Array(this.n - from);
    const keys = new Map<string, number>();
    const sizes: number[] = [];
    for (let i = from; i < this.n; i++) {
      const tag = parseCacheName(this.names.values[this.name.get(i)]!)!.cacheTag;
      const key = `${tag}\0${this.rel.get(i)}`;
      let g = keys.get(key);
      if (g === undefined) {
        g = sizes.length;
        keys.set(key, g);
        sizes.push(0);
      }
      groupOf[i - from] = g;
      sizes[g]!++;
    }
    const starts = new Int32Array(sizes.length + 1);
    for (let g = 0; g < sizes.length; g++) starts[g + 1] = starts[g]! + sizes[g]!;
    const fill = starts.slice(0, sizes.length);
    const ids = new Int32Array(this.n - from);
    for (let i = from; i < this.n; i++) ids[fill[groupOf[i - from]!]!++] = i;
    return { count: sizes.length, members: (g) => ids.subarray(starts[g]!, starts[g + 1]!) };
  }
}

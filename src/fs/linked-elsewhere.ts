/**
 * Files hard-linked by other tools (conda links package files from its
 * package cache into every env; `cp -al` copies a tree as links). Replacing
 * one name of such an inode frees nothing and adds a store object, so the
 * rule is: a pyc whose inode has names this run does not see — outside the
 * scanned trees and the store — is left alone (`linked-elsewhere`); when every
 * name is in the run (two `cp -al` copies scanned together), all of them are
 * shared as usual. Pure: dedup's classify step and audit both ask it.
 */

export interface InodeNames {
  /** st_nlink of the file. */
  readonly nlink: number;
  /** Names of this inode among the pycs of this run (≥ 1: the file itself). */
  readonly namesInRun: number;
  /** The inode is a store object (its other names are the store's and pycstore's links). */
  readonly isStoreObject: boolean;
}

export function linkedElsewhere(f: InodeNames): boolean {
  return !f.isStoreObject && f.nlink > Math.max(1, f.namesInRun);
}

/** How many of `items` are names of each inode ("dev:ino"), counting only inodes with more than one link. */
export function countNames(items: Iterable<{ readonly inode?: string | undefined; readonly nlink?: number | undefined }>): Map<string, number> {
  const names = new Map<string, number>();
  for (const i of items) {
    if (i.inode === undefined || (i.nlink ?? 1) <= 1) continue;
    names.set(i.inode, (names.get(i.inode) ?? 0) + 1);
  }
  return names;
}

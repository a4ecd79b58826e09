/**
 * `pycstore audit FILE`: which other paths share this file's object. From the
 * ledger only (no disk-wide search): the ledger's links to the same address
 * (every replica, every store root), each checked on disk to say whether it
 * still shares it. For a hard link, names of the inode the ledger doesn't know
 * (a `cp -al` copy) are counted from st_nlink. Read-only, like audit.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';
import { fingerprintOf, sameInode } from '../fs/fingerprint.js';
import type { LinkKind } from '../fs/link.js';
import { tryLstat } from '../fs/stat.js';
import { keyString } from '../hash/key.js';
import { objectPath } from '../store/location.js';
import { openStoreReadOnly } from '../session/open.js';
import { linkState, stillLinked } from './link-state.js';

export interface SharedPath {
  path: string;
  kind: LinkKind;
  /** Does it still share the object (false: replaced or gone since it was linked)? */
  linked: boolean;
}

export interface FileAudit {
  path: string;
  /** linked: it is a store object; replaced: it was linked, and is another file now; not-linked: the ledger has no link for it. */
  state: 'linked' | 'replaced' | 'not-linked';
  /** The address of the object it is (or was, when replaced). */
  object: string | null;
  objectPath: string | null;
  kind: LinkKind | null;
  nlink: number;
  /** Other paths the ledger links to the same address, live ones first. */
  sharedWith: SharedPath[];
  /** Hard links: names of this inode that are neither the store's nor in the ledger. */
  unrecordedNames: number;
}

/** The FILE arguments, if every positional is a regular file (else undefined: directories). */
export function fileArguments(positionals: readonly string[]): string[] | undefined {
  if (positionals.length === 0) return undefined;
  const kinds = positionals.map((p) => {
    try {
      return statSync(p).isDirectory() ? 'dir' : 'file';
    } catch {
      throw usageError(`${p}: no such file or directory`, 'give directories to audit, or pyc files to look up');
    }
  });
  if (kinds.every((k) => k === 'dir')) return undefined;
  if (kinds.every((k) => k === 'file')) return positionals.map((p) => path.resolve(p));
  throw usageError('give either directories (figures and anomalies) or files (what shares them), not both');
}

export function auditFiles(storeDir: string, files: readonly string[]): FileAudit[] {
  const store = openStoreReadOnly(storeDir);
  try {
    const ledger = store?.ledger;
    const rootPaths = new Map((ledger?.storeRoots() ?? []).map((r) => [r.id, r.path]));
    return files.map((file) => {
      const st = tryLstat(file);
      if (!st || !st.isFile()) throw usageError(`${file}: not a regular file`);
      const fp = fingerprintOf(st);
      const nlink = Number(st.nlink);
      const s = linkState(file, fp, ledger);
      const base: FileAudit = { path: file, state: 'not-linked', object: null, objectPath: null, kind: null, nlink, sharedWith: [], unrecordedNames: 0 };
      if (!ledger) return base;
      const object = s.linked ? s.object : s.link ? ledger.objectById(s.link.object_id) : undefined;
      if (!object) return base;
      const rootPath = rootPaths.get(object.root_id);
      const res: FileAudit = {
        ...base,
        state: s.linked ? 'linked' : 'replaced',
        object: keyString(object),
        objectPath: rootPath === undefined ? null : objectPath(rootPath, object, object.replica),
        kind: s.linked ? s.kind : null,
      };
      let namesInLedger = 0;
      for (const l of ledger.linksOfAddress(object.hash, object.size)) {
        const p = ledger.filePath(l.dir_id, l.name);
        if (p === file) continue;
        const other = tryLstat(p);
        const ofp = other?.isFile() ? fingerprintOf(other) : undefined;
        const linked = ofp !== undefined && stillLinked(l, ledger.objectById(l.object_id), ofp);
        res.sharedWith.push({ path: p, kind: l.kind, linked });
        if (ofp && s.linked && s.kind === 'hardlink' && sameInode(ofp, fp)) namesInLedger++;
      }
      res.sharedWith.sort((a, b) => Number(b.linked) - Number(a.linked) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      if (s.linked && s.kind === 'hardlink') res.unrecordedNames = Math.max(0, nlink - 1 - 1 - namesInLedger);
      return res;
    });
  } finally {
    store?.close();
  }
}

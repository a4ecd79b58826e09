/**
 * The folders of a run's table as a tree: each folder is its parent folder and
 * its name, names stored once. Ten copies of a venv hold one string per
 * distinct folder name, not ten full paths per folder.
 */
import path from 'node:path';
import { Column, Interner } from '../util/compact.js';

/** The parent of a filesystem root. */
const NONE = 0xffffffff;
/** Paths remembered for lookups, at most. */
const RECENT = 256;

export class FolderTree {
  private readonly names = new Interner();
  private readonly parent = new Column();
  private readonly name = new Column();
  /** Folder by `${parent}/${name id}`. */
  private readonly index = new Map<string, number>();
  private n = 0;
  /** Folders looked up lately, by path (the scan hands over a folder's files one after another, and its pycs' sources are in its parent). */
  private recent = new Map<string, number>();

  /** The id of an absolute, normalised folder path (added with its parents if new). */
  id(dir: string): number {
    const known = this.recent.get(dir);
    if (known !== undefined) return known;
    const up = path.dirname(dir);
    const root = up === dir;
    const parent = root ? NONE : this.id(up);
    const id = this.child(parent, root ? dir : path.basename(dir));
    if (this.recent.size >= RECENT) this.recent = new Map();
    this.recent.set(dir, id);
    return id;
  }

  private child(parent: number, name: string): number {
    const nameId = this.names.id(name);
    const key = `${parent}/${nameId}`;
    let id = this.index.get(key);
    if (id === undefined) {
      id = this.n++;
      this.parent.set(id, parent);
      this.name.set(id, nameId);
      this.index.set(key, id);
    }
    return id;
  }

  /** The folder's path, as it was given to `id`. */
  path(id: number): string {
    const names: string[] = [];
    for (let cur = id; cur !== NONE; cur = this.parent.get(cur)) names.push(this.names.values[this.name.get(cur)]!);
    const root = names.pop()!;
    if (names.length === 0) return root;
    names.reverse();
    return (root.endsWith(path.sep) ? root : root + path.sep) + names.join(path.sep);
  }
}

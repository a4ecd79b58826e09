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
  /** Folder ids by (parent, name): open addressing over a typed array (a Map with a key string per folder cost 70 bytes each on the heap). */
  private slots = new Int32Array(1024).fill(-1);
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
    const mask = this.slots.length - 1;
    let at = slotOf(parent, nameId) & mask;
    for (let id = this.slots[at]!; id >= 0; id = this.slots[at]!) {
      if (this.parent.get(id) === parent && this.name.get(id) === nameId) return id;
      at = (at + 1) & mask;
    }
    const id = this.n++;
    this.parent.set(id, parent);
    this.name.set(id, nameId);
    this.slots[at] = id;
    if (this.n * 2 > this.slots.length) this.rehash();
    return id;
  }

  /** Twice the slots, every folder placed again (the index stays at most half full). */
  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = this.slots.length - 1;
    for (let id = 0; id < this.n; id++) {
      let at = slotOf(this.parent.get(id), this.name.get(id)) & mask;
      while (this.slots[at]! >= 0) at = (at + 1) & mask;
      this.slots[at] = id;
    }
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

/** A hash of (parent, name id) for the index's slots. */
function slotOf(parent: number, name: number): number {
  let h = Math.imul(parent ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(name + 0x7f4a7c15, 0xc2b2ae35);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) >>> 0;
}

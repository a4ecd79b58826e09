/**
 * Apply, part A: a planned object made to exist in its store root, checked,
 * and durable before anything links to it.
 *
 * An object this run already made or checked is taken as it is (the same
 * bytes: one instance per group, or compared with the file on disk when another
 * group plans it too). One recorded before is read once and compared byte for
 * byte with the planned bytes — unless those bytes are what this run read from
 * it (a --fill body from the store, read and hash-checked by a worker). A missing one is written from the planned bytes
 * — no read back — without an fsync: new objects wait in a batch, made durable
 * together by one barrier (store/durable.ts: one syncfs per batch), and only
 * then recorded and linked to.
 */
import { readFileSync, type BigIntStats } from 'node:fs';
import { errnoCode, PycstoreError } from '../errors.js';
import { allocatedBytes, fingerprintOf, type Fingerprint } from '../fs/fingerprint.js';
import { isNoSpaceCode } from '../fs/free-space.js';
import { keyString } from '../hash/key.js';
import type { ObjectRow } from '../ledger/rows.js';
import { Durability } from '../store/durable.js';
import { objectPath } from '../store/location.js';
import { putObject, sameBytes } from '../store/objects.js';
import type { RunContext } from './context.js';
import { readHere, type PlannedObject, type StoreRootInfo } from './plan.js';

/** An object of this run that exists: its row, the replica new links go to, and the links made to it so far. */
export interface ObjectState {
  readonly key: PlannedObject['key'];
  readonly root: StoreRootInfo;
  readonly magic: number;
  readonly variant: PlannedObject['variant'];
  row: ObjectRow;
  /** The current replica was made in this run for this very reason: EMLINK again means something else is wrong. */
  freshReplica: boolean;
  /** Links to it are made one after another (EMLINK moves them to a replica): the last one's promise. */
  queue: Promise<void>;
  touched: boolean;
}

/** Why a planned object can't be linked to. */
export type NotReady = { readonly reason: 'collision' | 'error' | 'no-space'; readonly detail: string };

/** How many new objects wait at most for one durability barrier… */
export const DURABLE_BATCH = 256;
/** …and how many files at most wait with them. */
export const DURABLE_FILES = 1024;

/** A new object waiting for its barrier (what recording it needs; not its bytes or its files). */
interface Waiting {
  readonly obj: Pick<PlannedObject, 'key' | 'root' | 'magic' | 'variant'>;
  /** Its files (they wait with it). */
  readonly files: number;
  readonly path: string;
  readonly stat: BigIntStats;
  readonly done: (s: ObjectState | NotReady) => void;
}

export class ObjectStore {
  private readonly states = new Map<string, Promise<ObjectState | NotReady>>();
  private waiting: Waiting[] = [];
  /** Files of the objects in `waiting`. */
  waitingFiles = 0;
  /** The barrier under way. */
  private busy: Promise<void> | undefined;
  private again = false;
  private readonly durability = new Durability();
  /** Objects being written (they join `waiting` when written). */
  private writing = 0;
  /** A flush was asked for while objects were being written: flush when they are. */
  private wanted = false;
  readonly madeDirs = new Set<string>();
  created = 0;
  bytesTaken = 0;
  /** Size of the first object the filesystem had no room for. */
  noRoomFor = 0;

  constructor(private readonly run: RunContext) {}

  /** New objects waiting for their barrier. */
  get pending(): number {
    return this.waiting.length;
  }

  /** The object, existing, checked and durable (or why not). */
  ready(obj: PlannedObject): Promise<ObjectState | NotReady> {
    const id = `${obj.root.id}:${keyString(obj.key)}`;
    const known = this.states.get(id);
    if (known) return known.then((s) => ('reason' in s ? s : this.sameAsOnDisk(s, obj)));
    const p = this.make(obj);
    this.states.set(id, p);
    return p;
  }

  /** Another group planned an object this run made or checked: its bytes must be the file's. */
  private sameAsOnDisk(s: ObjectState, obj: PlannedObject): ObjectState | NotReady {
    const path0 = objectPath(obj.root.path, obj.key, 0);
    try {
      return sameBytes(readFileSync(path0), obj.bytes) ? s : collision(path0, obj);
    } catch (err) {
      return { reason: 'error', detail: `${path0}: ${errnoCode(err) ?? String(err)}` };
    }
  }

  private async make(obj: PlannedObject): Promise<ObjectState | NotReady> {
    // Bytes this run read from that very file (a --fill body from the store) are its bytes, and its row came with them: no second read.
    if (readHere(obj.readFrom, obj.key, obj.root.id)) return this.state(obj, obj.readFrom);
    const row = this.run.ledger?.object(obj.key, obj.root.id, 0);
    const path0 = objectPath(obj.root.path, obj.key, 0);
    if (row) {
      let onDisk: Buffer | undefined;
      try {
        onDisk = readFileSync(path0);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') return { reason: 'error', detail: `${path0}: ${errnoCode(err) ?? String(err)}` };
      }
      if (onDisk) return sameBytes(onDisk, obj.bytes) ? this.state(obj, row) : collision(path0, obj);
    }
    return this.write(obj);
  }

  /** Write a missing object (no fsync) and wait for its batch's barrier. */
  private async write(obj: PlannedObject): Promise<ObjectState | NotReady> {
    let put;
    this.writing++;
    try {
      put = await putObject(obj.root.path, obj.key, obj.bytes, 0, { sync: false, madeDirs: this.madeDirs });
    } catch (err) {
      this.written();
      const code = errnoCode(err);
      if (isNoSpaceCode(code)) {
        this.noRoomFor ||= obj.key.size;
        return { reason: 'no-space', detail: code ?? 'ENOSPC' };
      }
      if (err instanceof PycstoreError && err.code === 'EINTEGRITY') return { reason: 'collision', detail: err.message };
      return { reason: 'error', detail: err instanceof Error ? err.message : String(err) };
    }
    if (!put.created) {
      this.written();
      return this.state(obj, this.record(obj, 0, put.stat));
    }
    this.created++;
    this.bytesTaken += allocatedBytes(put.stat);
    const path = put.path;
    const stat = put.stat;
    const slim = { key: obj.key, root: obj.root, magic: obj.magic, variant: obj.variant };
    const files = obj.links.length;
    return new Promise((done) => {
      this.waiting.push({ obj: slim, files, path, stat, done });
      this.waitingFiles += files;
      this.written();
    });
  }

  /** One write finished: flush a full batch (by objects, or by the files waiting with them), or the last of a batch a flush was asked for. */
  private written(): void {
    this.writing--;
    if (this.waiting.length >= DURABLE_BATCH || this.waitingFiles >= DURABLE_FILES || (this.wanted && this.writing === 0)) void this.flush();
  }

  /** Make the objects waiting durable now — and those still being written, as soon as they are. */
  kick(): void {
    if (this.writing > 0) this.wanted = true;
    void this.flush();
  }

  /** Make the waiting objects durable (one barrier at a time), record them, and hand them out. */
  flush(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return this.busy;
    }
    const batch = this.waiting;
    this.waiting = [];
    this.waitingFiles = 0;
    if (this.writing === 0) this.wanted = false;
    if (batch.length === 0) return Promise.resolve();
    this.busy = this.barrier(batch).finally(() => {
      this.busy = undefined;
      const more = this.again || this.waiting.length >= DURABLE_BATCH || this.waitingFiles >= DURABLE_FILES;
      this.again = false;
      if (more && this.waiting.length > 0) void this.flush();
    });
    return this.busy;
  }

  /** Flush until nothing waits (the end of a run). */
  async drain(): Promise<void> {
    for (;;) {
      if (this.busy) await this.busy;
      else if (this.waiting.length > 0) await this.flush();
      else break;
    }
    this.durability.close();
  }

  private async barrier(batch: readonly Waiting[]): Promise<void> {
    const byRoot = new Map<string, string[]>();
    for (const w of batch) {
      const list = byRoot.get(w.obj.root.path);
      if (list) list.push(w.path);
      else byRoot.set(w.obj.root.path, [w.path]);
    }
    try {
      await this.durability.makeDurable(byRoot);
      const rows = this.recordAll(batch);
      batch.forEach((w, i) => w.done(this.state(w.obj, rows[i]!)));
    } catch (err) {
      // Not durable, or not recorded: nothing may link to them. (They stay as files; gc or the next run deal with them.)
      const code = errnoCode(err);
      const full = isNoSpaceCode(code) || /SQLITE_FULL/.test(String(err));
      const why: NotReady = full ? { reason: 'no-space', detail: code ?? 'SQLITE_FULL' } : { reason: 'error', detail: String(err) };
      for (const w of batch) w.done(why);
    }
  }

  private recordAll(batch: readonly Waiting[]): ObjectRow[] {
    const now = this.run.now();
    const writer = this.run.writer!;
    return writer.now((w) => batch.map((b) => w.recordObject(newObject(b.obj, 0, b.stat), now)));
  }

  /** Record an object file of a planned object now (an existing file with no row, or a replica). */
  record(obj: Pick<PlannedObject, 'key' | 'root' | 'magic' | 'variant'>, replica: number, st: BigIntStats): ObjectRow {
    const now = this.run.now();
    return this.run.writer!.now((w) => w.recordObject(newObject(obj, replica, st), now));
  }

  private state(obj: Pick<PlannedObject, 'key' | 'root' | 'magic' | 'variant'>, row: ObjectRow): ObjectState {
    return { key: obj.key, root: obj.root, magic: obj.magic, variant: obj.variant, row, freshReplica: false, queue: Promise.resolve(), touched: false };
  }
}

function newObject(obj: Pick<PlannedObject, 'key' | 'root' | 'magic' | 'variant'>, replica: number, st: BigIntStats) {
  return {
    key: obj.key,
    replica,
    rootId: obj.root.id,
    fp: fingerprintOf(st),
    allocated: allocatedBytes(st),
    magic: obj.magic,
    invalidation: obj.variant.invalidation,
    bodyHash: obj.variant.bodyHash,
  };
}

function collision(path0: string, obj: PlannedObject): NotReady {
  return { reason: 'collision', detail: `store object ${path0} does not hold the bytes of its address ${keyString(obj.key)}; run: pycstore verify --repair` };
}

/** The fingerprint the ledger records for a link to this object (its inode, as last recorded). */
export function objectFingerprint(row: ObjectRow): Fingerprint {
  return { dev: row.dev, ino: row.ino, size: row.size, mtimeNs: row.mtime_ns, ctimeNs: row.ctime_ns };
}

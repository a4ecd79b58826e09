/**
 * Where the store lives, and the one function for each on-disk address in it.
 * Everything that touches the store (dedup, gc, verify, tests) calls these;
 * no other module builds a store path.
 *
 *   <store>/                      0700, owned by the user running pycstore (or root: a system store)
 *     ledger-v1.sqlite            the ledger (+ -wal, -shm)
 *     lock-v1.sqlite              the store lock (shared: dedup; exclusive: gc)
 *     objects-v1/ab/<hash>-<size>[.rN]   objects, 0444
 *     tmp-v1/                     temp files of objects being written
 *     quarantine-v1/              corrupt objects moved aside by verify --repair
 *
 * A store root on another filesystem (`--store-root DIR`) holds only
 * objects-v1/ and tmp-v1/; the ledger and lock stay in the main store.
 */
import envPaths from 'env-paths';
import path from 'node:path';
import { keyString, type ObjectKey } from '../hash/key.js';

/** --store, else $PYCSTORE_HOME, else the user cache dir without the "-nodejs" suffix. */
export function defaultStoreDir(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag) return path.resolve(flag);
  const fromEnv = env['PYCSTORE_HOME'];
  if (fromEnv) return path.resolve(fromEnv);
  return envPaths('pycstore', { suffix: '' }).cache;
}

export const OBJECTS_DIR = 'objects-v1';
export const TMP_DIR = 'tmp-v1';
export const QUARANTINE_DIR = 'quarantine-v1';
export const LEDGER_FILE = 'ledger-v1.sqlite';
export const LOCK_FILE = 'lock-v1.sqlite';

export function ledgerPath(storeDir: string): string {
  return path.join(storeDir, LEDGER_FILE);
}

export function lockPath(storeDir: string): string {
  return path.join(storeDir, LOCK_FILE);
}

export function objectsDir(rootDir: string): string {
  return path.join(rootDir, OBJECTS_DIR);
}

/** File name of an object inside its shard directory; replica N > 0 is an extra copy made when the
 *  previous one hit the filesystem's hard-link limit (EMLINK). */
export function objectFileName(key: ObjectKey, replica: number): string {
  return replica === 0 ? keyString(key) : `${keyString(key)}.r${replica}`;
}

/** Inverse of objectFileName, or undefined for anything that isn't an object name. */
export function parseObjectFileName(name: string): { key: ObjectKey; replica: number } | undefined {
  const m = /^([0-9a-f]{16})-(\d+)(?:\.r(\d+))?$/.exec(name);
  if (!m) return undefined;
  return { key: { hash: m[1]!, size: Number(m[2]) }, replica: m[3] === undefined ? 0 : Number(m[3]) };
}

export function shardDir(rootDir: string, key: ObjectKey): string {
  return path.join(rootDir, OBJECTS_DIR, key.hash.slice(0, 2));
}

export function objectPath(rootDir: string, key: ObjectKey, replica = 0): string {
  return path.join(shardDir(rootDir, key), objectFileName(key, replica));
}

export function tmpDir(rootDir: string): string {
  return path.join(rootDir, TMP_DIR);
}

let tempCounter = 0;

/**
 * A fresh temp name in the store root's tmp dir: pid and a counter, unique within this process;
 * created with O_EXCL by the caller, which takes the next name if a crashed process left this one.
 */
export function objectTempPath(rootDir: string): string {
  return path.join(tmpDir(rootDir), `obj-${process.pid}-${(tempCounter++).toString(36)}.tmp`);
}

export function quarantineDir(storeDir: string): string {
  return path.join(storeDir, QUARANTINE_DIR);
}

export function quarantinePath(storeDir: string, key: ObjectKey, replica: number): string {
  return path.join(quarantineDir(storeDir), `${objectFileName(key, replica)}.${Date.now()}`);
}

/** Is `name` (in quarantine-v1/) a quarantined copy of this object, as quarantinePath names them? */
export function isQuarantineOf(name: string, key: ObjectKey, replica: number): boolean {
  const base = objectFileName(key, replica);
  return name.startsWith(`${base}.`) && /^\d+$/.test(name.slice(base.length + 1));
}

/** Where scheduled runs (cron, launchd) append their output. */
export function scheduleLogPath(storeDir: string): string {
  return path.join(storeDir, 'schedule.log');
}

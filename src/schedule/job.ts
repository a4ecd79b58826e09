/**
 * What a schedule runs, independent of the scheduler: the commands (absolute
 * Node, absolute dist/cli.js, explicit --store, so they work with no PATH and
 * no npx), the id that names the schedule's files, and the one metadata line
 * every backend embeds so `show` can read the settings back. The log file's
 * path is store/location.ts's scheduleLogPath.
 */
import { createHash } from 'node:crypto';
import { type Every, formatEvery, parseEvery } from './every.js';
import { assertPrintable } from './quote.js';

export type Backend = 'systemd' | 'cron' | 'launchd' | 'schtasks';
export const BACKENDS: readonly Backend[] = ['systemd', 'cron', 'launchd', 'schtasks'];

/** Which schedule: one per store directory. */
export interface Target {
  /** Absolute, real path of the store. */
  readonly storeDir: string;
  /** 12 hex digits derived from storeDir; names the unit files, plist, task. */
  readonly id: string;
}

export interface Job extends Target {
  readonly every: Every;
  /** Run `pycstore dedup` (no PATH: the roots registered in the ledger) before gc. */
  readonly dedup: boolean;
  /** Absolute path of the Node binary (process.execPath). */
  readonly node: string;
  /** Absolute path of pycstore's dist/cli.js. */
  readonly cli: string;
}

function scheduleId(storeDir: string): string {
  return createHash('sha256').update(storeDir).digest('hex').slice(0, 12);
}

export function makeTarget(storeDir: string): Target {
  assertPrintable('the store path', storeDir);
  return { storeDir, id: scheduleId(storeDir) };
}

export function makeJob(target: Target, opts: { every: Every; dedup: boolean; node: string; cli: string }): Job {
  assertPrintable('the Node path', opts.node);
  assertPrintable("pycstore's cli.js path", opts.cli);
  return { ...target, ...opts };
}

/** The argv of each run, in order: dedup of the registered roots (if asked), then gc. */
export function jobCommands(job: Job): string[][] {
  const cmd = (name: string): string[] => [job.node, job.cli, name, '--store', job.storeDir];
  return job.dedup ? [cmd('dedup'), cmd('gc')] : [cmd('gc')];
}

/** What each run does, for people: "gc", or "dedup + gc". */
export function jobLabel(dedup: boolean): string {
  return dedup ? 'dedup + gc' : 'gc';
}

/** The line (without comment syntax) embedded in every generated file or block. */
export function metaLine(job: Pick<Job, 'every' | 'dedup'>): string {
  return `pycstore-schedule every=${formatEvery(job.every)} dedup=${job.dedup ? 'yes' : 'no'}`;
}

export interface Meta {
  readonly every: Every;
  readonly dedup: boolean;
}

/** Read metaLine() back out of any generated text; undefined when absent or unreadable. */
export function parseMeta(text: string): Meta | undefined {
  const m = /pycstore-schedule every=(\S+) dedup=(yes|no)/.exec(text);
  if (!m) return undefined;
  try {
    return { every: parseEvery(m[1]!), dedup: m[2] === 'yes' };
  } catch {
    return undefined;
  }
}

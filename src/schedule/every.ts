/**
 * How often the scheduled gc runs: `daily`, `weekly`, or a fixed interval in
 * whole minutes. Every backend maps the same value; `daily` and `weekly` run
 * at the same local wall-clock time everywhere (CALENDAR_TIME).
 */
import { usageError } from '../errors.js';
import { parseDuration } from '../util/format.js';

export type Every = { readonly kind: 'daily' } | { readonly kind: 'weekly' } | { readonly kind: 'interval'; readonly minutes: number };

/** Local time of day for `daily` and `weekly`; `weekly` runs on Sunday. */
export const CALENDAR_TIME = { hour: 3, minute: 30 } as const;

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** CALENDAR_TIME as a clock reads it: "03:30". */
export const CALENDAR_CLOCK = `${pad2(CALENDAR_TIME.hour)}:${pad2(CALENDAR_TIME.minute)}`;

/** Shortest interval accepted: gc (and dedup) walk the store and the roots; more often is waste. */
const MIN_MINUTES = 15;
/** Longest: 31 days, also Task Scheduler's longest repetition interval. */
const MAX_MINUTES = 31 * 24 * 60;

const UNITS = [
  ['w', 7 * 24 * 60],
  ['d', 24 * 60],
  ['h', 60],
  ['m', 1],
] as const;

const EVERY_HINT = 'use daily, weekly, or a duration such as 30m, 6h, 2d (between 15m and 31d)';

export function parseEvery(text: string): Every {
  const t = text.trim().toLowerCase();
  if (t === 'daily') return { kind: 'daily' };
  if (t === 'weekly') return { kind: 'weekly' };
  const ms = parseDuration(t);
  if (ms === undefined || !Number.isFinite(ms)) throw usageError(`--every: cannot read "${text}"`, EVERY_HINT);
  const minutes = ms / 60_000;
  if (!Number.isInteger(minutes)) throw usageError(`--every ${text}: not a whole number of minutes`, EVERY_HINT);
  if (minutes < MIN_MINUTES) throw usageError(`--every ${text}: shorter than ${MIN_MINUTES} minutes`, EVERY_HINT);
  if (minutes > MAX_MINUTES) throw usageError(`--every ${text}: longer than 31 days`, EVERY_HINT);
  return { kind: 'interval', minutes };
}

/** Minutes as the largest unit that divides them exactly: 90 → "90m", 120 → "2h", 10080 → "1w". */
export function formatMinutes(minutes: number): string {
  for (const [unit, size] of UNITS) {
    if (minutes % size === 0) return `${minutes / size}${unit}`;
  }
  return `${minutes}m`;
}

/** The canonical text (what --every accepts back): "daily", "weekly", "6h". */
export function formatEvery(every: Every): string {
  return every.kind === 'interval' ? formatMinutes(every.minutes) : every.kind;
}

/** For people: "daily at 03:30", "weekly on Sunday at 03:30", "every 6h". */
export function describeEvery(every: Every): string {
  if (every.kind === 'daily') return `daily at ${CALENDAR_CLOCK}`;
  if (every.kind === 'weekly') return `weekly on Sunday at ${CALENDAR_CLOCK}`;
  return `every ${formatMinutes(every.minutes)}`;
}

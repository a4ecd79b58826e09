/**
 * The cron backend, pure: the five time fields for an interval (only those
 * cron repeats exactly), the block of lines for one store, and adding,
 * replacing or removing that block in a crontab's text. The block is
 * delimited by marker comments that name the store, so two stores have two
 * blocks, and removal leaves every other byte of the crontab as it was.
 */
import { PycstoreError, usageError } from '../errors.js';
import { scheduleLogPath } from '../store/location.js';
import { CALENDAR_TIME, type Every, formatMinutes } from './every.js';
import { type Job, jobCommands, metaLine } from './job.js';
import { cronQuote, shQuote } from './quote.js';

/** Every interval cron can repeat exactly, in minutes (minutes dividing 60, hours dividing 24, a day, a week). */
const CRON_INTERVALS: readonly number[] = [15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440, 10080];

/** "minute hour day-of-month month day-of-week" for `every`; throws EUSAGE when cron can't say it exactly. */
export function cronTimeFields(every: Every): string {
  const { hour, minute } = CALENDAR_TIME;
  const minutes = every.kind === 'daily' ? 1440 : every.kind === 'weekly' ? 10080 : every.minutes;
  if (minutes === 1440) return `${minute} ${hour} * * *`;
  if (minutes === 10080) return `${minute} ${hour} * * 0`;
  if (minutes < 60 && 60 % minutes === 0) return `*/${minutes} * * * *`;
  if (minutes === 60) return '0 * * * *';
  if (minutes % 60 === 0 && minutes < 1440 && 24 % (minutes / 60) === 0) return `0 */${minutes / 60} * * *`;
  const below = CRON_INTERVALS.filter((m) => m < minutes).at(-1);
  const above = CRON_INTERVALS.find((m) => m > minutes);
  const nearest = [below, above].filter((m): m is number => m !== undefined).map(formatMinutes);
  throw usageError(
    `cron cannot run something every ${formatMinutes(minutes)} exactly (and pycstore does not round)`,
    [
      `cron repeats exactly only every ${CRON_INTERVALS.map(formatMinutes).join(', ')}`,
      ...(nearest.length ? [`nearest: --every ${nearest.join(' or --every ')}`] : []),
      ...(minutes > 1440 ? ['a step over days (*/2 in the day field) restarts at each month, so it is not exact'] : []),
      'or use --backend systemd where a systemd user session runs',
    ].join('; '),
  );
}

function cronBeginMarker(storeDir: string): string {
  return `# BEGIN pycstore schedule, store: ${storeDir}`;
}

function cronEndMarker(storeDir: string): string {
  return `# END pycstore schedule, store: ${storeDir}`;
}

/** The command field: a date stamp, then each command, all appended to the log. */
function cronCommand(job: Job): string {
  const runs = jobCommands(job).map((argv) => argv.map(cronQuote).join(' '));
  return `{ date; ${runs.join('; ')}; } >>${cronQuote(scheduleLogPath(job.storeDir))} 2>&1`;
}

/** The whole block for one store, one string per line, markers included. */
export function cronBlock(job: Job): string[] {
  return [
    cronBeginMarker(job.storeDir),
    `# ${metaLine(job)}; written by pycstore schedule install; undo: pycstore schedule remove --store ${shQuote(job.storeDir)}`,
    `${cronTimeFields(job.every)} ${cronCommand(job)}`,
    cronEndMarker(job.storeDir),
  ];
}

/** Where the store's block sits in a crontab, as line indexes (end inclusive); markers must pair up. */
export interface BlockSpan {
  readonly start: number;
  readonly end: number;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Lines back to crontab text: each ends with "\n" (crontab refuses a last line without one). */
function joinLines(lines: readonly string[]): string {
  return lines.map((l) => `${l}\n`).join('');
}

function blockSpans(lines: readonly string[], storeDir: string): BlockSpan[] {
  const begin = cronBeginMarker(storeDir);
  const end = cronEndMarker(storeDir);
  const spans: BlockSpan[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== begin) continue;
    const j = lines.indexOf(end, i + 1);
    if (j < 0) {
      throw new PycstoreError('ESCHEDULE', `the crontab has the line "${begin}" but no matching "${end}"`, {
        hint: 'the block was edited by hand; fix or delete it with: crontab -e',
      });
    }
    spans.push({ start: i, end: j });
    i = j;
  }
  return spans;
}

export function findCronBlocks(crontab: string, storeDir: string): BlockSpan[] {
  return blockSpans(splitLines(crontab), storeDir);
}

/** The lines of the store's block(s) as they stand in the crontab. */
export function cronBlockLines(crontab: string, storeDir: string): string[] {
  const lines = splitLines(crontab);
  return blockSpans(lines, storeDir).flatMap((s) => lines.slice(s.start, s.end + 1));
}

/**
 * The crontab with the store's block put in: in place of the existing
 * block(s) if any (keeping its position), else appended at the end.
 */
export function withCronBlock(crontab: string, job: Job): string {
  const block = cronBlock(job);
  const lines = splitLines(crontab);
  const spans = blockSpans(lines, job.storeDir);
  if (spans.length === 0) return joinLines([...lines, ...block]);
  const out: string[] = [];
  let next = 0;
  spans.forEach((s, k) => {
    out.push(...lines.slice(next, s.start));
    if (k === 0) out.push(...block);
    next = s.end + 1;
  });
  out.push(...lines.slice(next));
  return joinLines(out);
}

/** The crontab without the store's block(s), every other line byte for byte as it was. */
export function withoutCronBlock(crontab: string, storeDir: string): string {
  const lines = splitLines(crontab);
  const spans = blockSpans(lines, storeDir);
  if (spans.length === 0) return crontab;
  return joinLines(lines.filter((_, i) => !spans.some((s) => i >= s.start && i <= s.end)));
}

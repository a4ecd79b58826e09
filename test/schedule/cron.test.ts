import { describe, expect, it } from 'vitest';
import { PycstoreError } from '../../src/errors.js';
import { cronBlock, cronTimeFields, findCronBlocks, withCronBlock, withoutCronBlock } from '../../src/schedule/cron.js';
import { parseEvery } from '../../src/schedule/every.js';
import { makeJob, makeTarget } from '../../src/schedule/job.js';

const NODE = '/usr/bin/node';
const CLI = '/opt/pycstore/dist/cli.js';
const job = (store: string, every = 'daily', dedup = false) =>
  makeJob(makeTarget(store), { every: parseEvery(every), dedup, node: NODE, cli: CLI });

function thrown(fn: () => unknown): PycstoreError {
  try {
    fn();
  } catch (err) {
    return err as PycstoreError;
  }
  throw new Error('did not throw');
}

describe('cronTimeFields', () => {
  it('maps what cron repeats exactly', () => {
    const cases: Record<string, string> = {
      daily: '30 3 * * *',
      weekly: '30 3 * * 0',
      '15m': '*/15 * * * *',
      '20m': '*/20 * * * *',
      '30m': '*/30 * * * *',
      '60m': '0 * * * *',
      '1h': '0 * * * *',
      '2h': '0 */2 * * *',
      '3h': '0 */3 * * *',
      '6h': '0 */6 * * *',
      '8h': '0 */8 * * *',
      '12h': '0 */12 * * *',
      '24h': '30 3 * * *',
      '1d': '30 3 * * *',
      '7d': '30 3 * * 0',
      '1w': '30 3 * * 0',
    };
    for (const [every, fields] of Object.entries(cases)) expect(cronTimeFields(parseEvery(every)), every).toBe(fields);
  });

  it('refuses, never rounds, what cron cannot repeat exactly, naming the nearest values', () => {
    for (const every of ['25m', '45m', '90m', '5h', '7h', '9h', '36h', '2d', '3d', '10d', '2w']) {
      expect(thrown(() => cronTimeFields(parseEvery(every))).code, every).toBe('EUSAGE');
    }
    expect(thrown(() => cronTimeFields(parseEvery('5h'))).hint).toMatch(/nearest: --every 4h or --every 6h/);
    expect(thrown(() => cronTimeFields(parseEvery('2d'))).hint).toMatch(/nearest: --every 1d or --every 1w/);
    expect(thrown(() => cronTimeFields(parseEvery('2w'))).hint).toMatch(/nearest: --every 1w; a step over days/);
    expect(thrown(() => cronTimeFields(parseEvery('90m'))).hint).not.toMatch(/over days/);
  });
});

describe('cronBlock', () => {
  it('is the exact block for a plain store', () => {
    expect(cronBlock(job('/srv/pyc'))).toEqual([
      '# BEGIN pycstore schedule, store: /srv/pyc',
      '# pycstore-schedule every=daily dedup=no; written by pycstore schedule install; undo: pycstore schedule remove --store /srv/pyc',
      '30 3 * * * { date; /usr/bin/node /opt/pycstore/dist/cli.js gc --store /srv/pyc; } >>/srv/pyc/schedule.log 2>&1',
      '# END pycstore schedule, store: /srv/pyc',
    ]);
  });

  it("quotes spaces, quotes and cron's % in every path, with dedup first", () => {
    expect(cronBlock(job("/srv/pyc 50%/it's", '6h', true))).toEqual([
      "# BEGIN pycstore schedule, store: /srv/pyc 50%/it's",
      "# pycstore-schedule every=6h dedup=yes; written by pycstore schedule install; undo: pycstore schedule remove --store '/srv/pyc 50%/it'\\''s'",
      "0 */6 * * * { date; /usr/bin/node /opt/pycstore/dist/cli.js dedup --store '/srv/pyc 50'\\%'/it'\\''s'; " +
        "/usr/bin/node /opt/pycstore/dist/cli.js gc --store '/srv/pyc 50'\\%'/it'\\''s'; } " +
        ">>'/srv/pyc 50'\\%'/it'\\''s/schedule.log' 2>&1",
      "# END pycstore schedule, store: /srv/pyc 50%/it's",
    ]);
  });

  it('puts no unescaped % in the command field', () => {
    const line = cronBlock(job('/a%b/%%/c\\%d', '30m', true))[2]!;
    expect(line.replace(/\\%/g, '')).not.toMatch(/%/);
    expect(line).not.toMatch(/\\\\%/);
  });
});

describe('adding and removing the block', () => {
  const other = '# my jobs\nMAILTO=me@example.org\n*/5 * * * * /usr/bin/backup --pct 10\\%\n\n@reboot echo hi\n';

  it('appends to an empty or absent crontab', () => {
    const j = job('/srv/pyc');
    expect(withCronBlock('', j)).toBe(`${cronBlock(j).join('\n')}\n`);
  });

  it('appends after other lines and removal gives them back byte for byte', () => {
    const j = job('/srv/pyc');
    const added = withCronBlock(other, j);
    expect(added.startsWith(other)).toBe(true);
    expect(withoutCronBlock(added, j.storeDir)).toBe(other);
  });

  it('is idempotent and replaces in place on a new interval', () => {
    const j = job('/srv/pyc');
    const once = withCronBlock(`${other}`, j);
    expect(withCronBlock(once, j)).toBe(once);
    const withTail = `${once}0 0 * * * after\n`;
    const replaced = withCronBlock(withTail, job('/srv/pyc', '6h'));
    expect(replaced).toBe(`${other}${cronBlock(job('/srv/pyc', '6h')).join('\n')}\n0 0 * * * after\n`);
    expect(withoutCronBlock(replaced, '/srv/pyc')).toBe(`${other}0 0 * * * after\n`);
  });

  it('keeps one block per store; removing one leaves the other', () => {
    const a = job('/srv/a');
    const ab = withCronBlock(withCronBlock(other, a), job('/srv/a b'));
    expect(findCronBlocks(ab, '/srv/a')).toHaveLength(1);
    expect(findCronBlocks(ab, '/srv/a b')).toHaveLength(1);
    expect(withoutCronBlock(ab, '/srv/a b')).toBe(withCronBlock(other, a));
    expect(withoutCronBlock(withoutCronBlock(ab, '/srv/a b'), '/srv/a')).toBe(other);
  });

  it('removing what is not there changes nothing', () => {
    expect(withoutCronBlock(other, '/srv/pyc')).toBe(other);
    expect(withoutCronBlock('', '/srv/pyc')).toBe('');
  });

  it('refuses a block whose end marker was deleted by hand', () => {
    const broken = withCronBlock(other, job('/srv/pyc')).replace('# END pycstore schedule, store: /srv/pyc\n', '');
    expect(thrown(() => withoutCronBlock(broken, '/srv/pyc')).code).toBe('ESCHEDULE');
  });
});

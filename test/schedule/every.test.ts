import { describe, expect, it } from 'vitest';
import { PycstoreError } from '../../src/errors.js';
import { describeEvery, formatEvery, parseEvery } from '../../src/schedule/every.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof PycstoreError ? err.code : 'not a PycstoreError';
  }
  return undefined;
}

describe('parseEvery', () => {
  it('reads daily, weekly and durations', () => {
    expect(parseEvery('daily')).toEqual({ kind: 'daily' });
    expect(parseEvery('Weekly')).toEqual({ kind: 'weekly' });
    expect(parseEvery('30m')).toEqual({ kind: 'interval', minutes: 30 });
    expect(parseEvery('6h')).toEqual({ kind: 'interval', minutes: 360 });
    expect(parseEvery('1.5h')).toEqual({ kind: 'interval', minutes: 90 });
    expect(parseEvery('2d')).toEqual({ kind: 'interval', minutes: 2880 });
    expect(parseEvery('1w')).toEqual({ kind: 'interval', minutes: 10080 });
    expect(parseEvery('900')).toEqual({ kind: 'interval', minutes: 15 });
  });

  it('refuses nonsense, sub-minute, too short and too long with EUSAGE and a hint', () => {
    for (const bad of ['', 'often', '-5m', '6 hours', '90s', '1.1m', '5m', '14m', '32d', '5w']) {
      expect(code(() => parseEvery(bad)), bad).toBe('EUSAGE');
    }
    try {
      parseEvery('5m');
    } catch (err) {
      expect((err as PycstoreError).hint).toMatch(/15m/);
    }
  });

  it('formats the canonical text and a description', () => {
    expect(formatEvery(parseEvery('120m'))).toBe('2h');
    expect(formatEvery(parseEvery('90m'))).toBe('90m');
    expect(formatEvery(parseEvery('7d'))).toBe('1w');
    expect(formatEvery(parseEvery('daily'))).toBe('daily');
    expect(describeEvery(parseEvery('daily'))).toBe('daily at 03:30');
    expect(describeEvery(parseEvery('weekly'))).toBe('weekly on Sunday at 03:30');
    expect(describeEvery(parseEvery('6h'))).toBe('every 6h');
  });
});

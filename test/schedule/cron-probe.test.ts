/**
 * `schedule install` warns when no cron daemon runs. A cron process that has
 * exited but not been reaped (a zombie: a job's child whose daemon was
 * stopped, say) runs nothing and must not count: read from a real zombie.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLiveCron } from '../../src/schedule/system.js';
import { until } from '../helpers/cli.js';

describe('isLiveCron', () => {
  it("reads the name between the first '(' and the last ')', and the state after it", () => {
    expect(isLiveCron('812 (cron) S 1 812 812 0 -1')).toBe(true);
    expect(isLiveCron('812 (crond) R 1 812 812 0 -1')).toBe(true);
    expect(isLiveCron('812 (busybox-crond) S 1 812')).toBe(true);
    expect(isLiveCron('812 (cron) Z 1 812 812 0 -1')).toBe(false);
    expect(isLiveCron('812 (cron) X 1 812 812 0 -1')).toBe(false);
    expect(isLiveCron('812 (my (cron)) S 1 812')).toBe(false);
    expect(isLiveCron('812 (cronjob) S 1 812')).toBe(false);
    expect(isLiveCron('')).toBe(false);
  });

  const dir = mkdtempSync(path.join(os.tmpdir(), 'pycstore-zombie-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a process named cron is live while it runs and not once it is a zombie', async () => {
    const fakeCron = path.join(dir, 'cron');
    copyFileSync('/bin/sleep', fakeCron);
    // A parent that starts "cron", prints its pid, and never reaps it until its stdin closes.
    const script = `import os, sys\npid = os.fork()\nif pid == 0:\n    os.execv(${JSON.stringify(fakeCron)}, ['cron', '600'])\nprint(pid, flush=True)\nsys.stdin.read()\n`;
    const parent = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const gone = new Promise<void>((resolve) => parent.on('exit', () => resolve()));
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout.setEncoding('utf8').once('data', resolve)));
      const stat = (): string => readFileSync(`/proc/${pid}/stat`, 'utf8');
      await until('the child to exec cron', () => stat().includes('(cron)'), 10_000);
      expect(isLiveCron(stat())).toBe(true);
      process.kill(pid, 'SIGKILL');
      await until('the killed cron to be a zombie', () => / \(cron\) Z /.test(stat()), 10_000);
      expect(isLiveCron(stat())).toBe(false);
    } finally {
      parent.stdin.end();
      await gone;
    }
  });
});

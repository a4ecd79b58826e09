/**
 * `pycstore schedule` through its run(): argument checks, backend detection,
 * the store and cli.js checks, and what it says when nothing is installed.
 * The machine is a test System (crontab faked in memory here; the real
 * crontab is in cron-real.test.ts).
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSchedule } from '../../src/commands/schedule.js';
import type { PycstoreError } from '../../src/errors.js';
import { detectBackend } from '../../src/schedule/system.js';
import { makeVenv } from '../helpers/venv.js';
import { type Fake, fail, fakeCli, makeCtx, makeSys, ok, tempDir } from './helpers.js';

/** A crontab kept in memory, answering `crontab -l`, `crontab -` and `crontab -r` like Debian's. */
function memoryCrontab(initial: string | null = null): { fake: Fake; text: () => string | null } {
  let text = initial;
  return {
    text: () => text,
    fake: (argv, input) => {
      if (argv[0] !== 'crontab') return undefined;
      if (argv[1] === '-l') return text === null ? fail('no crontab for tester') : ok(text);
      if (argv[1] === '-') {
        text = input ?? '';
        return ok();
      }
      if (argv[1] === '-r') {
        if (text === null) return fail('no crontab for tester');
        text = null;
        return ok();
      }
      return undefined;
    },
  };
}

function setup(initial: string | null = null) {
  const home = tempDir();
  const store = path.join(home, 'store');
  mkdirSync(store);
  const tab = memoryCrontab(initial);
  const sys = makeSys({ home, cli: fakeCli(home), fake: tab.fake });
  return { home, store, sys, tab, ctx: makeCtx(store) };
}

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => ((await p.catch((e: unknown) => e)) as PycstoreError).code;

describe('arguments', () => {
  it('needs exactly one known action', async () => {
    const { sys, ctx } = setup();
    expect(await codeOf(runSchedule({}, [], ctx, sys))).toBe('EUSAGE');
    expect(await codeOf(runSchedule({}, ['instal'], ctx, sys))).toBe('EUSAGE');
    expect(await codeOf(runSchedule({}, ['install', 'now'], ctx, sys))).toBe('EUSAGE');
  });

  it('refuses an unknown backend, --every/--dedup outside install, --dry-run on show, bad --every', async () => {
    const { sys, ctx, tab } = setup();
    expect(await codeOf(runSchedule({ backend: 'anacron' }, ['install'], ctx, sys))).toBe('EUSAGE');
    expect(await codeOf(runSchedule({ every: '6h' }, ['remove'], ctx, sys))).toBe('EUSAGE');
    expect(await codeOf(runSchedule({ dedup: true }, ['show'], ctx, sys))).toBe('EUSAGE');
    expect(await codeOf(runSchedule({ 'dry-run': true }, ['show'], ctx, sys))).toBe('EUSAGE');
    expect(await codeOf(runSchedule({ every: 'sometimes' }, ['install'], ctx, sys))).toBe('EUSAGE');
    expect(await codeOf(runSchedule({ every: '1m' }, ['install'], ctx, sys))).toBe('EUSAGE');
    // None of that touched the crontab.
    expect(sys.calls).toEqual([]);
    expect(tab.text()).toBeNull();
  });

  it('install needs the store to exist and pycstore built', async () => {
    const { sys, ctx, home } = setup();
    expect(await codeOf(runSchedule({}, ['install'], makeCtx(path.join(home, 'nope')), sys))).toBe('ESCHEDULE');
    expect(await codeOf(runSchedule({}, ['install'], ctx, { ...sys, cli: path.join(home, 'dist/cli.js') }))).toBe('ESCHEDULE');
  });

  it('refuses a store path with a newline', async () => {
    const { sys, home } = setup();
    const odd = path.join(home, 'new\nline');
    mkdirSync(odd);
    expect(await codeOf(runSchedule({}, ['install'], makeCtx(odd), sys))).toBe('ESCHEDULE');
  });
});

describe('the store path', () => {
  it('is resolved through symlinks, so both names give the same schedule', async () => {
    const { sys, store, home, tab } = setup();
    const link = path.join(home, 'link');
    symlinkSync(store, link);
    await runSchedule({}, ['install'], makeCtx(link), sys);
    expect(tab.text()).toContain(`# BEGIN pycstore schedule, store: ${store}\n`);
    const r = await runSchedule({}, ['remove'], makeCtx(store), sys);
    expect(r.json['removed']).toEqual(['crontab']);
    expect(tab.text()).toBeNull();
  });
});

describe('reports', () => {
  it('show and remove say so when nothing is installed, and how to set it up', async () => {
    const { sys, ctx, store } = setup('0 0 * * * other\n');
    const shown = await runSchedule({}, ['show'], ctx, sys);
    expect(shown.json).toEqual({ backend: 'cron', installed: false, entries: [], store });
    expect(shown.human.join('\n')).toContain(`pycstore schedule install --store ${store}`);
    const removed = await runSchedule({}, ['remove'], ctx, sys);
    expect(removed.json).toMatchObject({ action: 'remove', backend: 'cron', every: null, dedup: null, wrote: [], removed: [] });
    expect(removed.human[0]).toMatch(/nothing to remove/);
  });

  it('install says what it wrote, where it logs, and how to undo', async () => {
    const { sys, ctx, store } = setup();
    const r = await runSchedule({ every: 'weekly' }, ['install'], ctx, sys);
    const text = r.human.join('\n');
    expect(text).toContain(`Scheduled pycstore dedup + gc weekly on Sunday at 03:30 for store ${store} via cron`);
    expect(text).toContain('30 3 * * 0 { date; ');
    expect(text).toContain(`log: ${store}/schedule.log`);
    expect(text).toContain(`Undo:  pycstore schedule remove --store ${store}`);
    const removed = await runSchedule({}, ['remove'], ctx, sys);
    expect(removed.human.join('\n')).toMatch(/was: dedup \+ gc weekly on Sunday at 03:30[\s\S]*Kept the log/);
  });

  it('--dry-run on install and remove changes nothing', async () => {
    const { sys, ctx, tab } = setup('0 0 * * * other\n');
    const r = await runSchedule({ 'dry-run': true, every: '2h' }, ['install'], ctx, sys);
    expect(r.json).toMatchObject({ dryRun: true, wrote: [], wouldWrite: ['crontab'] });
    expect(r.human[0]).toMatch(/^Dry run, nothing changed/);
    expect(tab.text()).toBe('0 0 * * * other\n');
    await runSchedule({ every: '2h' }, ['install'], ctx, sys);
    const before = tab.text();
    const d = await runSchedule({ 'dry-run': true }, ['remove'], ctx, sys);
    expect(d.json).toMatchObject({ dryRun: true, removed: [], wouldRemove: ['crontab'], every: '2h' });
    expect(tab.text()).toBe(before);
  });

  it('warns when no cron daemon runs', async () => {
    const { sys, ctx } = setup();
    await runSchedule({}, ['install'], ctx, { ...sys, cronDaemonRunning: async () => false });
    expect(ctx.out.lines.join('\n')).toMatch(/no cron daemon is running/);
  });
});

describe('detectBackend', () => {
  const sys = (over: Parameters<typeof makeSys>[0]) => makeSys(over);
  it('picks by platform, then systemd only with /run/systemd/system and a reachable user manager', async () => {
    expect((await detectBackend(sys({ home: '/h', platform: 'win32' }))).backend).toBe('schtasks');
    expect((await detectBackend(sys({ home: '/h', platform: 'darwin' }))).backend).toBe('launchd');
    // This machine's case: no /run/systemd/system.
    expect(await detectBackend(sys({ home: '/h', fake: () => ok('running') }))).toEqual({ backend: 'cron', why: 'systemd is not the init system here' });
    const booted = (p: string) => p === '/run/systemd/system';
    expect((await detectBackend(sys({ home: '/h', pathExists: async (p) => booted(p), fake: () => ok('offline\n') }))).backend).toBe('cron');
    expect((await detectBackend(sys({ home: '/h', pathExists: async (p) => booted(p) }))).backend).toBe('cron');
    expect((await detectBackend(sys({ home: '/h', pathExists: async (p) => booted(p), fake: () => ok('degraded\n') }))).backend).toBe('systemd');
    const socket = (p: string) => booted(p) || p === '/run/user/1000/systemd/private';
    expect((await detectBackend(sys({ home: '/h', env: { XDG_RUNTIME_DIR: '/run/user/1000' }, pathExists: async (p) => socket(p) }))).backend).toBe('systemd');
  });
});

describe('which environments the job covers', () => {
  it('install --dedup lists what each run would find today, and what only this shell finds', async () => {
    const { home, sys, ctx } = setup();
    makeVenv(path.join(home, 'src', 'app', '.venv'), 'python3', { withoutPip: true });
    writeFileSync(path.join(home, 'src', 'app', 'uv.lock'), '');
    const workon = path.join(tempDir(), 'workon');
    makeVenv(path.join(workon, 'scratch'), 'python3', { withoutPip: true });
    const r = await runSchedule({ dedup: true, 'dry-run': true }, ['install'], ctx, { ...sys, env: { WORKON_HOME: workon, PATH: '/usr/bin:/bin' } });
    expect(r.json['covers']).toEqual({
      environments: [{ kind: 'uv', path: path.join(home, 'src', 'app', '.venv') }],
      kinds: { uv: 1 },
      registeredRoots: 0,
      missed: [{ kind: 'virtualenvwrapper', path: path.join(workon, 'scratch'), foundBy: 'WORKON_HOME' }],
    });
    const text = r.human.join('\n');
    expect(text).toMatch(/Each run finds your environments anew .* Today: 1 environment \(1 uv\):\n {2}uv +~\/src\/app\/\.venv/);
    expect(text).toMatch(/The job will NOT see 1 environment found through this shell's WORKON_HOME/);
    expect(text).toContain(`  virtualenvwrapper ${path.join(workon, 'scratch')}`);
  });

  it('a gc-only schedule says that new environments are not deduplicated', async () => {
    const { sys, ctx } = setup();
    const r = await runSchedule({ 'dry-run': true, 'gc-only': true }, ['install'], ctx, sys);
    expect(r.json['covers']).toBeUndefined();
    expect(r.json['dedup']).toBe(false);
    expect(r.human.join('\n')).toMatch(/Each run is gc only \(--gc-only\): new environments are not deduplicated/);
    const both = runSchedule({ 'dry-run': true, 'gc-only': true, dedup: true }, ['install'], ctx, sys);
    await expect(both).rejects.toMatchObject({ code: 'EUSAGE' });
  });
});

describe('show and remove find the schedule whichever scheduler holds it', () => {
  const booted = async (p: string) => p === '/run/systemd/system';

  it('a cron schedule on a machine whose detected scheduler is systemd', async () => {
    const { sys, ctx, store, tab } = setup();
    await runSchedule({ every: '6h' }, ['install'], ctx, sys); // detected: cron (no systemd here)
    const systemdMachine = { ...sys, pathExists: booted, exec: async (argv: readonly string[], o?: { input?: string }) => (argv[0] === 'systemctl' ? ok('running\n') : sys.exec(argv, o)) };
    const shown = await runSchedule({}, ['show'], ctx, systemdMachine);
    expect(shown.json).toMatchObject({ backend: 'cron', installed: true, every: '6h', store });
    expect(shown.human[0]).toMatch(/via cron \(it holds this store's schedule; this machine would use systemd/);
    const removed = await runSchedule({}, ['remove'], ctx, systemdMachine);
    expect(removed.json).toMatchObject({ backend: 'cron', removed: ['crontab'] });
    expect(tab.text()).toBeNull();
  });

  it('systemd units on a machine that would use cron', async () => {
    const { sys, ctx, home } = setup();
    await runSchedule({ backend: 'systemd', every: 'daily' }, ['install'], ctx, sys);
    const shown = await runSchedule({}, ['show'], ctx, sys);
    expect(shown.json).toMatchObject({ backend: 'systemd', installed: true, every: 'daily' });
    const removed = await runSchedule({}, ['remove'], ctx, sys);
    expect(removed.json['removed']).toEqual(expect.arrayContaining([expect.stringContaining(path.join(home, '.config', 'systemd', 'user'))]));
    const none = await runSchedule({}, ['show'], ctx, sys);
    expect(none.json).toMatchObject({ backend: 'cron', installed: false });
    expect(none.human[0]).toMatch(/^No schedule for store .* \(looked in: cron, systemd\)\.$/);
  });

  it('show and install --dry-run work on a machine without cron', async () => {
    const { home, store } = setup();
    const bare = makeSys({ home, cli: fakeCli(home) }); // every command missing: no crontab, no systemctl
    const ctx = makeCtx(store);
    const shown = await runSchedule({}, ['show'], ctx, bare);
    expect(shown.json).toEqual({ backend: 'cron', installed: false, entries: [], store });
    const dry = await runSchedule({ 'dry-run': true, dedup: true }, ['install'], ctx, bare);
    expect(dry.json).toMatchObject({ action: 'install', backend: 'cron', dryRun: true, wouldWrite: ['crontab'] });
    expect(dry.json['notes']).toEqual([expect.stringMatching(/^cron is not installed here: install it \(Debian\/Ubuntu: sudo apt-get install cron\)/)]);
    expect(await codeOf(runSchedule({}, ['install'], ctx, bare))).toBe('ESCHEDULE');
  });
});

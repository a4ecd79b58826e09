/**
 * The cron backend against the real `crontab` of a throwaway user (never
 * root's own crontab): the crontab command parses what we install (it refuses
 * bad lines), install twice is idempotent, remove gives back the crontab byte
 * for byte. The command field is then run the way cron runs it (cron's `%`
 * rule, /bin/sh, as that user, with cron's bare environment). The real cron
 * daemon runs are opt-in: PYCSTORE_TEST_CRON_DAEMON=1 (they start `cron -f`):
 * the installed line run by cron, and the real pycstore job keeping up with a
 * project created after the install.
 */
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { available, isRequired, isRoot, REQUIRE } from '../helpers/require.js';
import { runSchedule } from '../../src/commands/schedule.js';
import { PycstoreError } from '../../src/errors.js';
import { cronBlock } from '../../src/schedule/cron.js';
import { parseEvery } from '../../src/schedule/every.js';
import { makeJob, makeTarget } from '../../src/schedule/job.js';
import { execFile } from '../../src/schedule/system.js';
import { CLI, until } from '../helpers/cli.js';
import { type CronDaemon, cronDaemon, cronState } from './cron-daemon.js';
import { crontabOf, ensureCron, fakeCli, makeCtx, makeSys, makeUser, tempDir } from './helpers.js';

const cron = await ensureCron();
const hasCron = available(REQUIRE.cron, 'the real-cron tests', !cron.ok ? cron.why : !isRoot ? 'they need root (useradd, crontab -u)' : undefined);

const OTHER = [
  '# unrelated lines that must survive byte for byte',
  'MAILTO=""',
  '*/5 * * * * /usr/bin/true --pct 10\\% # trailing comment',
  '',
  '@reboot   /usr/bin/true   spaced   out',
  '',
].join('\n');

/** Run the command field of a crontab line as cron would: its % rule, then /bin/sh -c, as `user`, with cron's environment. */
async function runLikeCron(line: string, user: string): Promise<void> {
  const fields = line.split(' ');
  let cmd = '';
  let escaped = false;
  for (const ch of fields.slice(5).join(' ')) {
    if (escaped) {
      cmd += ch === '%' ? '%' : `\\${ch}`;
      escaped = false;
    } else if (ch === '\\') escaped = true;
    else if (ch === '%') break;
    else cmd += ch;
  }
  const r = await execFile(['runuser', '-u', user, '--', 'env', '-i', 'PATH=/usr/bin:/bin', 'SHELL=/bin/sh', '/bin/sh', '-c', cmd]);
  expect(r.code, r.stderr).toBe(0);
}

describe.skipIf(!hasCron)('cron backend, real crontab of a throwaway user', () => {
  let user: Awaited<ReturnType<typeof makeUser>>;
  beforeAll(async () => {
    user = await makeUser();
  });
  afterAll(async () => {
    await user?.remove();
  });

  const crontabL = async (): Promise<string | null> => {
    const r = await execFile(['crontab', '-u', user.name, '-l']);
    return r.code === 0 ? r.stdout : null;
  };
  const setCrontab = async (text: string | null): Promise<void> => {
    const r = text === null ? await execFile(['crontab', '-u', user.name, '-r']) : await execFile(['crontab', '-u', user.name, '-'], { input: text });
    if (text !== null) expect(r.code, r.stderr).toBe(0);
  };

  function setup(storeName: string) {
    const dir = tempDir();
    const store = path.join(dir, storeName);
    mkdirSync(store);
    chownSync(store, user.uid, -1);
    const sys = makeSys({ home: dir, cli: fakeCli(dir), fake: crontabOf(user.name) });
    return { dir, store, sys, ctx: makeCtx(store) };
  }

  it('install adds a block cron accepts, twice is idempotent, remove gives back the crontab byte for byte', async () => {
    await setCrontab(OTHER);
    const before = await crontabL();
    expect(before).toBe(OTHER);
    const { store, sys, ctx } = setup("my store 50%'s");

    const r1 = await runSchedule({ every: '6h', dedup: true }, ['install'], ctx, sys);
    expect(r1.json).toMatchObject({ action: 'install', backend: 'cron', every: '6h', dedup: true, wrote: ['crontab'], removed: [] });
    const job = makeJob(makeTarget(store), { every: parseEvery('6h'), dedup: true, node: sys.node, cli: sys.cli });
    const installed = await crontabL();
    expect(installed).toBe(`${OTHER}${cronBlock(job).join('\n')}\n`);

    // The schedule line: five time fields, then the command.
    const line = installed!.split('\n').find((l) => l.startsWith('0 */6 '))!;
    expect(line).toMatch(/^0 \*\/6 \* \* \* \{ date; /);

    const r2 = await runSchedule({ every: '6h', dedup: true }, ['install'], ctx, sys);
    expect(r2.json['wrote']).toEqual(['crontab']);
    expect(await crontabL()).toBe(installed);

    const shown = await runSchedule({}, ['show'], ctx, sys);
    expect(shown.json).toMatchObject({ backend: 'cron', installed: true, every: '6h', dedup: true });
    expect((shown.json['entries'] as { text: string }[])[0]!.text).toBe(cronBlock(job).join('\n'));

    const removed = await runSchedule({}, ['remove'], ctx, sys);
    expect(removed.json).toMatchObject({ action: 'remove', backend: 'cron', every: '6h', dedup: true, wrote: [], removed: ['crontab'] });
    expect(await crontabL()).toBe(before);

    const again = await runSchedule({}, ['remove'], ctx, sys);
    expect(again.json['removed']).toEqual([]);
    expect(await crontabL()).toBe(before);
  });

  it('with no crontab before, remove leaves no crontab (detected backend: cron)', async () => {
    await setCrontab(null);
    const { sys, ctx } = setup('plain');
    const r = await runSchedule({}, ['install'], ctx, sys);
    expect(r.json['backend']).toBe('cron');
    expect(await crontabL()).toMatch(/^# BEGIN pycstore schedule/);
    await runSchedule({}, ['remove'], ctx, sys);
    expect(await crontabL()).toBeNull();
  });

  it('two stores get two blocks; removing one leaves the other', async () => {
    await setCrontab(OTHER);
    const a = setup('a');
    const b = setup('b');
    await runSchedule({}, ['install'], a.ctx, a.sys);
    await runSchedule({ every: '30m' }, ['install'], b.ctx, b.sys);
    const both = (await crontabL())!;
    expect(both.match(/^# BEGIN pycstore schedule/gm)).toHaveLength(2);
    await runSchedule({}, ['remove'], a.ctx, a.sys);
    const onlyB = (await crontabL())!;
    expect(onlyB).not.toContain(a.store);
    expect(onlyB).toContain('*/30 * * * *');
    await runSchedule({}, ['remove'], b.ctx, b.sys);
    expect(await crontabL()).toBe(OTHER);
  });

  it("the line's command, run as cron runs it, calls dedup then gc with the exact store path and logs", async () => {
    await setCrontab(null);
    const { store, sys, ctx } = setup("sp ace 100%% \\%x 'q' $HOME");
    await runSchedule({ every: '15m', dedup: true }, ['install'], ctx, sys);
    const line = (await crontabL())!.split('\n').find((l) => l.startsWith('*/15 '))!;
    await runLikeCron(line, user.name);
    const calls = readFileSync(path.join(store, 'calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);
    expect(calls).toEqual([
      ['dedup', '--store', store],
      ['gc', '--store', store],
    ]);
    const log = readFileSync(path.join(store, 'schedule.log'), 'utf8');
    expect(log).toMatch(/fake pycstore dedup\nfake pycstore gc\n$/);
    await runSchedule({}, ['remove'], ctx, sys);
  });

  it('refuses an interval cron cannot express and leaves the crontab alone', async () => {
    await setCrontab(OTHER);
    const { sys, ctx } = setup('x');
    await expect(runSchedule({ every: '90m' }, ['install'], ctx, sys)).rejects.toMatchObject({ code: 'EUSAGE' });
    expect(await crontabL()).toBe(OTHER);
  });

  it('fails with the package to install when there is no crontab command', async () => {
    const { sys, ctx } = setup('x');
    const noCron = { ...sys, exec: async () => ({ code: null, stdout: '', stderr: 'spawn crontab ENOENT', missing: true }) };
    const err = (await runSchedule({}, ['install'], ctx, noCron).catch((e: unknown) => e)) as PycstoreError;
    expect(err.code).toBe('ESCHEDULE');
    expect(err.hint).toMatch(/apt-get install cron/);
  });

  it('passes on what crontab says when it refuses the line (here: too long for Debian cron)', async () => {
    await setCrontab(OTHER);
    const { store, sys } = setup('z'.repeat(200));
    const deep = path.join(store, 'w'.repeat(200));
    mkdirSync(deep);
    const err = (await runSchedule({ dedup: true }, ['install'], makeCtx(deep), sys).catch((e: unknown) => e)) as PycstoreError;
    expect(err.code).toBe('ESCHEDULE');
    expect(err.message).toMatch(/too long/);
    expect(await crontabL()).toBe(OTHER);
  });
});

/** Opt-in: start a real cron daemon and let it run our line (its time fields set to every minute). */
const daemonWanted = process.env['PYCSTORE_TEST_CRON_DAEMON'] === '1' || isRequired(REQUIRE.cronDaemon);
const hasDaemon =
  hasCron &&
  available(REQUIRE.cronDaemon, 'the real cron daemon run', daemonWanted ? undefined : 'opt-in: set PYCSTORE_TEST_CRON_DAEMON=1 to run it (starts cron -f, waits up to 2 min)');

describe.skipIf(!hasDaemon)('cron backend, a real cron daemon', () => {
  let daemon: CronDaemon | undefined;
  let user: Awaited<ReturnType<typeof makeUser>>;
  beforeAll(async () => {
    user = await makeUser();
  });
  afterAll(async () => {
    await daemon?.stop();
    await user?.remove();
  });

  it('runs the installed command: dedup then gc with the exact store path, output in the log', async () => {
    const dir = tempDir();
    const store = path.join(dir, "st ore 50% 'q'");
    mkdirSync(store);
    chownSync(store, user.uid, -1);
    const sys = makeSys({ home: dir, cli: fakeCli(dir), fake: crontabOf(user.name) });
    await runSchedule({ every: '15m', dedup: true }, ['install'], makeCtx(store), sys);
    const text = (await execFile(['crontab', '-u', user.name, '-l'])).stdout;
    const everyMinute = text.replace(/^\*\/15 \* \* \* \* /m, '* * * * * ');
    expect(everyMinute).not.toBe(text);
    expect((await execFile(['crontab', '-u', user.name, '-'], { input: everyMinute })).code).toBe(0);

    daemon = await cronDaemon();
    const calls = path.join(store, 'calls.jsonl');
    const log = path.join(store, 'schedule.log');
    // Done when gc has printed its line: its call is recorded a moment before it prints.
    const done = (): boolean => existsSync(log) && /fake pycstore gc\n/.test(readFileSync(log, 'utf8'));
    await until('cron to run the job (dedup, then gc)', done, 125_000, { everyMs: 500, explain: () => cronState(user.name) });
    const lines = readFileSync(calls, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);
    expect(lines.slice(0, 2)).toEqual([
      ['dedup', '--store', store],
      ['gc', '--store', store],
    ]);
    expect(readFileSync(log, 'utf8')).toMatch(/fake pycstore dedup\nfake pycstore gc\n/);
  }, 180_000);
});

/**
 * The schedule keeps up, for real: a throwaway user whose HOME holds one project env runs
 * `pycstore schedule install --dedup` (the built CLI), cron runs the job every minute, and a
 * project created after the install is deduplicated by the next run with no command at all.
 */
describe.skipIf(!hasDaemon)('a real cron daemon keeps the store in step with new environments', () => {
  let daemon: CronDaemon | undefined;
  let user: Awaited<ReturnType<typeof makeUser>>;
  let home: string;
  beforeAll(async () => {
    home = tempDir('pycstore-cronhome-');
    user = await makeUser({ home });
    chownSync(home, user.uid, -1);
  });
  afterAll(async () => {
    await daemon?.stop();
    await user?.remove();
  });

  const asUser = async (argv: string[]): Promise<string> => {
    const r = await execFile(['runuser', '-u', user.name, '--', 'env', '-i', `HOME=${home}`, 'PATH=/usr/bin:/bin', ...argv]);
    expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  /** A uv-style project with one compiled module, made by the user with Debian's python3. */
  const project = async (name: string): Promise<string> => {
    const dir = path.join(home, 'src', name);
    await asUser(['mkdir', '-p', dir]);
    await asUser(['touch', path.join(dir, 'uv.lock')]);
    await asUser(['/usr/bin/python3', '-m', 'venv', '--without-pip', path.join(dir, '.venv')]);
    const sp = (await asUser([path.join(dir, '.venv', 'bin', 'python'), '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'])).trim();
    await asUser(['mkdir', path.join(sp, 'shared_mod')]);
    await asUser(['/bin/sh', '-c', `printf 'def hello():\n    return 42\n' > '${path.join(sp, 'shared_mod', '__init__.py')}'`]);
    await asUser(['/usr/bin/python3', '-m', 'compileall', '-q', path.join(sp, 'shared_mod')]);
    return path.join(sp, 'shared_mod', '__pycache__');
  };
  /** The compiled module itself: a scheduled run may be mid-swap, its temporary file next to it. */
  const pyc = (dir: string): string => path.join(dir, readdirSync(dir).find((n) => /^__init__\.cpython-\d+\.pyc$/.test(n))!);

  it('a venv created after `schedule install` is deduplicated by the next scheduled run, without any command', async () => {
    const store = path.join(home, 'store');
    await asUser(['mkdir', store]);
    const a = await project('a');
    const inst = JSON.parse(await asUser([process.execPath, CLI, '--store', store, 'schedule', 'install', '--every', '15m', '--dedup', '--json'])) as Record<string, any>;
    expect(inst).toMatchObject({ action: 'install', backend: 'cron', dedup: true });
    expect(inst['covers']['environments']).toEqual([{ kind: 'uv', path: path.join(home, 'src', 'a', '.venv') }]);
    const text = (await execFile(['crontab', '-u', user.name, '-l'])).stdout;
    const everyMinute = text.replace(/^\*\/15 \* \* \* \* /m, '* * * * * ');
    expect(everyMinute).not.toBe(text);
    expect((await execFile(['crontab', '-u', user.name, '-'], { input: everyMinute })).code).toBe(0);
    daemon = await cronDaemon();

    const b = await project('b'); // after the install: nobody tells pycstore about it
    const linked = (dir: string): boolean => statSync(pyc(dir)).nlink >= 2;
    const log = path.join(store, 'schedule.log');
    const explain = async (): Promise<string> => `${await cronState(user.name)}\nschedule.log:\n${existsSync(log) ? readFileSync(log, 'utf8') : '(none)'}`;
    await until("a scheduled run to share the new project's pyc", () => linked(a) && linked(b), 180_000, { everyMs: 500, explain });
    expect(statSync(pyc(b)).ino).toBe(statSync(pyc(a)).ino);
    await asUser([path.join(home, 'src', 'b', '.venv', 'bin', 'python'), '-c', 'import shared_mod; assert shared_mod.hello() == 42']);
    expect(statSync(pyc(b)).ino).toBe(statSync(pyc(a)).ino); // the import used the shared pyc, rewrote nothing
    expect(readFileSync(log, 'utf8')).toMatch(/pycstore: found 2 environments \(2 uv\)/);
  }, 300_000);
});

/**
 * `pycstore schedule install|remove|show`: a periodic `pycstore gc` (with
 * `--dedup`, a `pycstore dedup` of the registered roots first) through the
 * machine's scheduler. This file picks the backend, reads what is installed,
 * has plan.ts decide, applies (unless --dry-run) and reports. The generated
 * text lives in src/schedule/{systemd,cron,launchd,windows}.ts.
 */
import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandModule, CommandResult, CommandSpec, Context, Values } from '../cli/command.js';
import { PycstoreError, usageError } from '../errors.js';
import { applyPlan, describeStep, inspect } from '../schedule/apply.js';
import { describeEvery, type Every, formatEvery, parseEvery } from '../schedule/every.js';
import { type Backend, BACKENDS, jobLabel, makeJob, makeTarget, type Target } from '../schedule/job.js';
import { CRONTAB, describeInstalled, type Entry, logWhere, type Plan, planInstall, planRemove, type Snapshot } from '../schedule/plan.js';
import { shQuote } from '../schedule/quote.js';
import { detectBackend, realSystem, type System } from '../schedule/system.js';
import { taskName } from '../schedule/windows.js';

const ACTIONS = ['install', 'remove', 'show'] as const;
type Action = (typeof ACTIONS)[number];

export const spec: CommandSpec = {
  name: 'schedule',
  summary: 'Run gc (and optionally dedup) periodically via systemd, cron, launchd or Task Scheduler.',
  usage: 'pycstore schedule install|remove|show [--every daily|weekly|DURATION] [--dedup] [options]',
  description: [
    'install  sets up a periodic `pycstore gc --store DIR` for this store, so objects no venv uses any',
    '         more are deleted without you thinking of it. With --dedup, each run first does',
    '         `pycstore dedup` (no PATH: the roots registered in the store). It prints what it wrote',
    '         and where; running it again replaces the schedule (for a new --every).',
    'remove   undoes exactly what install wrote for this store, and nothing else.',
    'show     tells what is installed for this store: the files or crontab lines, the interval,',
    '         and where the runs log.',
    '',
    'The scheduler is the one this machine uses: a systemd user timer when systemd runs your',
    'session (~/.config/systemd/user/pycstore-gc-ID.{service,timer}, logs in the journal), cron',
    'otherwise (a marked block in your crontab, log in DIR/schedule.log), a launchd agent on macOS',
    '(~/Library/LaunchAgents/pycstore.gc.ID.plist), Task Scheduler on Windows (task pycstore-gc-ID).',
    'The job runs this Node and this pycstore by absolute path with --store DIR, so it needs no',
    'PATH; after moving either, run install again. Each store has its own schedule (ID comes from',
    'the store path). daily is 03:30 local time, weekly is Sunday 03:30. More: docs/schedule.md.',
  ].join('\n'),
  options: {
    every: {
      type: 'string',
      arg: 'WHEN',
      help: 'install: daily, weekly, or a duration 15m..31d such as 30m, 6h, 2d. cron takes only what it repeats exactly.',
      default: 'daily',
    },
    dedup: { type: 'boolean', help: 'install: run `pycstore dedup` of the registered roots before each gc.' },
    backend: { type: 'string', arg: 'NAME', help: 'systemd, cron, launchd or schtasks instead of the detected one.' },
    'dry-run': { type: 'boolean', help: 'Print what would be written and run; change nothing.' },
  },
  examples: [
    'pycstore schedule install --dry-run       # show what would be written, change nothing',
    'pycstore schedule install                 # gc of the default store, daily at 03:30',
    'pycstore schedule install --every 6h --dedup   # dedup the registered roots, then gc, every 6 hours',
    'pycstore schedule show                    # what is installed, and where it logs',
    'pycstore schedule remove                  # undo install',
    'pycstore --store /srv/pyc schedule install --backend cron   # another store, in the crontab',
  ],
  positionals: 'any',
};

/** pycstore's entry file next to this module once built: dist/commands/schedule.js → dist/cli.js. */
function entryFile(): string {
  return fileURLToPath(new URL('../cli.js', import.meta.url));
}

export const readOnly: CommandModule['readOnly'] = (values, positionals) => positionals[0] === 'show' || Boolean(values['dry-run']);

export async function run(values: Values, positionals: string[], ctx: Context): Promise<CommandResult> {
  return runSchedule(values, positionals, ctx, realSystem(ctx.env, entryFile()));
}

function parseAction(positionals: string[]): Action {
  const [action, ...extra] = positionals;
  if (action === undefined) throw usageError('schedule needs an action: install, remove or show', 'see: pycstore schedule --help');
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw usageError(`unknown schedule action "${action}"`, 'actions: install, remove, show (see: pycstore schedule --help)');
  }
  if (extra.length) throw usageError(`schedule ${action} takes no more arguments (got ${extra.join(' ')})`, 'see: pycstore schedule --help');
  return action as Action;
}

function parseBackend(value: unknown): Backend | undefined {
  if (value === undefined) return undefined;
  if (!(BACKENDS as readonly unknown[]).includes(value)) {
    throw usageError(`unknown --backend "${String(value)}"`, `backends: ${BACKENDS.join(', ')}`);
  }
  return value as Backend;
}

/** The store's real path; install needs the store to exist (the log goes in it, and gc of a typo is a mistake). */
async function resolveStore(storeDir: string, mustExist: boolean): Promise<string> {
  try {
    return await realpath(storeDir);
  } catch (err) {
    if (!mustExist) return storeDir;
    throw new PycstoreError('ESCHEDULE', `there is no store at ${storeDir}`, {
      hint: 'create it first with: pycstore dedup PATH (or name another with --store DIR)',
      cause: err,
    });
  }
}

/** The same command with this store (and backend, when given), for "undo:" and "check:" lines. */
function again(action: Action, target: Target, backend: Backend | undefined): string {
  return `pycstore schedule ${action} --store ${shQuote(target.storeDir)}${backend ? ` --backend ${backend}` : ''}`;
}

function indent(text: string): string[] {
  return text.replace(/\n$/, '').split('\n').map((l) => `    ${l}`);
}

function entryLines(entries: readonly Entry[], verb: string): string[] {
  return entries.flatMap((e) => [`  ${verb} ${e.where === CRONTAB ? 'the crontab of this user (crontab -l)' : e.where}:`, ...indent(e.text)]);
}

/** The steps for --json; a written file's content is in `entries` already (and may be bytes). */
function stepJson(plan: Plan): unknown[] {
  return plan.steps.map((s) => (s.op === 'write' ? { op: s.op, path: s.path } : s));
}

function everyText(every: Every | undefined): string {
  return every ? describeEvery(every) : 'at an interval it does not say';
}

/** What every action knows once the machine is read. */
interface Scene {
  readonly target: Target;
  readonly backend: Backend;
  /** Why this backend: detected (and why) or given. */
  readonly why: string;
  /** The --backend given, repeated in the commands we suggest. */
  readonly given: Backend | undefined;
  readonly snap: Snapshot;
  readonly log: string;
  readonly dryRun: boolean;
}

/** The command, with the machine passed in (tests give a temp HOME, a throwaway crontab, a fake systemctl). */
export async function runSchedule(values: Values, positionals: string[], ctx: Context, sys: System): Promise<CommandResult> {
  const action = parseAction(positionals);
  const given = parseBackend(values['backend']);
  const dryRun = Boolean(values['dry-run']);
  if (action !== 'install' && (values['every'] !== undefined || values['dedup'])) {
    throw usageError(`--every and --dedup are for install, not ${action}`, `see: pycstore schedule --help`);
  }
  if (action === 'show' && dryRun) throw usageError('show changes nothing; --dry-run is for install and remove');
  // Read the arguments fully before looking at the machine.
  const every = action === 'install' ? parseEvery(typeof values['every'] === 'string' ? values['every'] : 'daily') : undefined;

  const target = makeTarget(await resolveStore(ctx.storeDir, action === 'install'));
  const { backend, why } = given ? { backend: given, why: 'from --backend' } : await detectBackend(sys);
  // detectBackend picks systemd only once the user manager has answered.
  const snap = await inspect(backend, target, sys, { withStatus: action === 'show', managerAnswered: !given && backend === 'systemd' });
  const scene: Scene = { target, backend, why, given, snap, log: logWhere(backend, target), dryRun };
  if (every !== undefined) return install(scene, every, Boolean(values['dedup']), ctx, sys);
  return action === 'show' ? show(scene) : remove(scene, sys);
}

function show({ target, backend, why, given, snap, log }: Scene): CommandResult {
  const store = target.storeDir;
  const inst = describeInstalled(target, snap);
  const json = {
    backend,
    installed: inst.installed,
    ...(inst.meta ? { every: formatEvery(inst.meta.every), dedup: inst.meta.dedup } : {}),
    entries: inst.entries,
    store,
    ...(inst.installed ? { log } : {}),
    ...(inst.status !== undefined ? { status: inst.status } : {}),
  };
  const human = inst.installed
    ? [
        `Store ${store}: pycstore ${jobLabel(inst.meta?.dedup ?? false)} ${everyText(inst.meta?.every)}, via ${backend} (${why}).`,
        ...entryLines(inst.entries, 'in'),
        ...(inst.status ? ['  status:', ...indent(inst.status)] : []),
        `  log: ${log}`,
        `Undo: ${again('remove', target, given)}`,
      ]
    : [
        `No ${backend} schedule for store ${store} (${why}).`,
        `Set one up: ${again('install', target, given)}${given ? '' : '   (or another scheduler: --backend NAME)'}`,
      ];
  return { exitCode: 0, json, human };
}

async function install(scene: Scene, every: Every, dedup: boolean, ctx: Context, sys: System): Promise<CommandResult> {
  const { target, backend, why, given, snap, log, dryRun } = scene;
  if (!existsSync(sys.cli)) {
    throw new PycstoreError('ESCHEDULE', `cannot find pycstore's entry file ${sys.cli} to schedule`, {
      hint: 'build pycstore first (npm run build), or install it (npm install -g pycstore)',
    });
  }
  const job = makeJob(target, { every, dedup, node: sys.node, cli: sys.cli });
  const plan = planInstall(job, snap, { taskFile: path.join(sys.tmpDir, `${taskName(target)}.xml`) });
  if (/[\\/]_npx[\\/]/.test(sys.cli)) {
    ctx.out.warn(`pycstore runs from npx's cache (${sys.cli}); the schedule breaks when that cache is cleaned. Install pycstore (npm install -g pycstore) and run install again.`);
  }
  if (!dryRun) {
    await applyPlan(plan, sys);
    if (backend === 'cron' && (await sys.cronDaemonRunning()) === false) {
      ctx.out.warn('no cron daemon is running, so the job will not run until one is: sudo systemctl enable --now cron (or: sudo service cron start)');
    }
  }
  const what = `pycstore ${jobLabel(dedup)} ${describeEvery(every)}`;
  const store = target.storeDir;
  const json = {
    action: 'install',
    backend,
    every: formatEvery(every),
    dedup,
    wrote: dryRun ? [] : plan.wrote,
    removed: [],
    store,
    log,
    entries: plan.entries,
    notes: plan.notes,
    ...(dryRun ? { dryRun: true, wouldWrite: plan.wrote, steps: stepJson(plan) } : {}),
  };
  const human = dryRun
    ? [
        `Dry run, nothing changed. Would schedule ${what} for store ${store} via ${backend} (${why}):`,
        ...plan.steps.map((s) => `  - ${describeStep(s)}`),
        ...entryLines(plan.entries, 'would write'),
        `  log: ${log}`,
        ...plan.notes,
      ]
    : [
        `Scheduled ${what} for store ${store} via ${backend} (${why}).`,
        ...entryLines(plan.entries, 'wrote'),
        `  log: ${log}`,
        ...plan.notes,
        `Check: ${again('show', target, given)}`,
        `Undo:  ${again('remove', target, given)}`,
      ];
  return { exitCode: 0, json, human };
}

async function remove({ target, backend, why, given, snap, log, dryRun }: Scene, sys: System): Promise<CommandResult> {
  const plan = planRemove(target, snap);
  if (!dryRun) await applyPlan(plan, sys);
  const { meta } = plan;
  const store = target.storeDir;
  const json = {
    action: 'remove',
    backend,
    every: meta ? formatEvery(meta.every) : null,
    dedup: meta ? meta.dedup : null,
    wrote: [],
    removed: dryRun ? [] : plan.removed,
    store,
    notes: plan.notes,
    ...(dryRun ? { dryRun: true, wouldRemove: plan.removed, steps: stepJson(plan) } : {}),
  };
  const keptLog = backend === 'cron' || backend === 'launchd' ? [`Kept the log ${log} (the runs' output; delete it if you like).`] : [];
  const human =
    plan.removed.length === 0
      ? [
          `No ${backend} schedule for store ${store}: nothing to remove (${why}).`,
          ...(given ? [] : ['If you installed with --backend NAME, pass the same --backend to remove.']),
        ]
      : dryRun
        ? [`Dry run, nothing changed. Would remove the ${backend} schedule of store ${store}:`, ...plan.steps.map((s) => `  - ${describeStep(s)}`)]
        : [
            `Removed the ${backend} schedule of store ${store} (was: ${jobLabel(meta?.dedup ?? false)} ${everyText(meta?.every)}).`,
            ...plan.removed.map((r) => `  removed: ${r === CRONTAB ? 'its block from the crontab of this user' : r}`),
            ...plan.notes,
            ...keptLog,
          ];
  return { exitCode: 0, json, human };
}

/** `pycstore envs [--json]`: every environment found, with its pycs and what sharing saves. */
import os from 'node:os';
import type { CommandResult, CommandSpec, Context, Values } from '../cli/command.js';
import { envs, type EnvsReport } from '../api/envs.js';
import { describeKinds, nothingFound } from '../api/targets.js';
import { bar, formatBytes, formatCount, table } from '../util/format.js';

export const spec: CommandSpec = {
  name: 'envs',
  summary: 'List the environments found, with their pycs and what sharing saves.',
  usage: 'pycstore envs [--workspace DIR]... [--exclude GLOB]... [--json]',
  description: [
    'Every Python environment pycstore finds (what a bare `pycstore dedup` covers, less the roots',
    'of earlier runs): the places uv, poetry, pipx, pipenv, virtualenvwrapper, pyenv, conda/mamba,',
    'pixi, hatch, pdm and rye keep them, and the project environments under your workspace folders.',
    'One row each, sorted by what sharing saves, with audit\'s figures for its tree (the same',
    'definitions: pycstore audit --help). On a terminal each row has a bar: its allocated bytes,',
    'solid for the part sharing saves; totals at the bottom. Read-only.',
    '',
    '--json: { store, exists, environments: [{ kind, path, python, foundBy, aliases, pycs, linked,',
    'linkedElsewhere, apparentBytes, allocatedBytes, bytesSaved }], totals: { environments, pycs, linked,',
    'linkedElsewhere, apparentBytes, allocatedBytes, bytesSaved }, discovery: { environments, kinds,',
    'registeredRoots, looked: { tools, workspaces, maxDepth, config }, emptyPaths } }.',
    'kind: uv, uv-tool, uv-cache, uv-python, poetry, poetry-python, pipx, pipx-python, pipenv,',
    'virtualenvwrapper, pyenv-python, pyenv-virtualenv, conda, micromamba, pixi, hatch, hatch-python,',
    'pdm, pdm-python, tox, nox, rye, rye-python, venv (a plain venv), python (an interpreter install).',
  ].join('\n'),
  options: {
    workspace: { type: 'string', multiple: true, arg: 'DIR', help: 'Search DIR for project environments instead of the configured workspaces (repeatable).' },
    exclude: { type: 'string', multiple: true, arg: 'GLOB', help: 'Leave out folders matching GLOB (repeatable).' },
  },
  examples: ['pycstore envs                       # what is there, and where the disk went', 'pycstore envs --json | jq ".environments[] | {kind, path, bytesSaved}"'],
  positionals: 'none',
};

export async function run(values: Values, _positionals: string[], ctx: Context): Promise<CommandResult> {
  const report = await envs({
    store: ctx.storeDir,
    workspace: (values['workspace'] as string[] | undefined) ?? [],
    exclude: (values['exclude'] as string[] | undefined) ?? [],
    output: ctx.out,
  });
  const tty = Boolean(process.stdout.isTTY) && !ctx.json;
  // Only a terminal's lines are cut to its width; piped output keeps whole paths.
  const columns = tty ? process.stdout.columns || 100 : Number.POSITIVE_INFINITY;
  return { exitCode: 0, json: report as unknown as Record<string, unknown>, human: envsLines(report, { bars: tty, columns, home: os.homedir() }) };
}

const BAR = 16;

/** The table: one row per environment, a bar each when `bars`, totals at the bottom. Pure. */
export function envsLines(r: EnvsReport, o: { bars: boolean; columns: number; home: string }): string[] {
  if (r.environments.length === 0) return [nothingFound(r.discovery, o.home)];
  const tilde = (p: string): string => (p === o.home ? '~' : p.startsWith(`${o.home}/`) ? `~${p.slice(o.home.length)}` : p);
  const most = Math.max(1, ...r.environments.map((e) => e.allocatedBytes));
  const rows: string[][] = [['kind', 'python', 'pycs', 'linked', 'apparent', 'allocated', 'saved', ...(o.bars ? [''] : []), 'path']];
  for (const e of r.environments) {
    const cells = [e.kind, e.python ?? '?', formatCount(e.pycs), formatCount(e.linked), formatBytes(e.apparentBytes), formatBytes(e.allocatedBytes), formatBytes(e.bytesSaved)];
    const scale = (n: number): number => (BAR * n) / most;
    if (o.bars) cells.push(bar(BAR, scale(e.bytesSaved), scale(e.allocatedBytes) - scale(e.bytesSaved)).padEnd(BAR));
    rows.push([...cells, tilde(e.path)]);
  }
  const t = r.totals;
  rows.push(['total', '', formatCount(t.pycs), formatCount(t.linked), formatBytes(t.apparentBytes), formatBytes(t.allocatedBytes), formatBytes(t.bytesSaved), ...(o.bars ? [''] : []), '']);
  const last = rows[0]!.length - 1;
  const left = (i: number): boolean => i <= 1 || i === last || (o.bars && i === last - 1);
  const lines = table(rows, left).map((l) => ([...l].length > o.columns ? [...l].slice(0, o.columns).join('') : l));
  lines.push('', `${describeKinds(r.discovery)}.`);
  if (t.linkedElsewhere) lines.push(`${formatCount(t.linkedElsewhere)} pycs are hard links with names outside these environments (a package cache): left alone.`);
  if (!r.exists) lines.push(`No store at ${r.store} yet: nothing is shared. Share them: pycstore dedup`);
  else if (t.linked < t.pycs) lines.push(`${formatCount(t.pycs - t.linked)} pycs are not shared yet: pycstore dedup`);
  return lines;
}

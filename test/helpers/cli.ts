/**
 * Run the built CLI (dist/cli.js) as a real process; refuses a dist/ that is not the build of src/ (test/helpers/dist.ts).
 * The child never sees this machine's home: HOME is an empty temporary folder (unless the test gives one) and the
 * XDG_* and Python tools' variables are cleared, so a bare `pycstore dedup` (which discovers environments) can
 * only find what the test made, and no default store under ~/.cache is ever touched.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import path from 'node:path';
import { staleDist } from './dist.js';
import { REPO_ROOT } from './interpreters.js';

export const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

/** Variables that say where Python tools keep environments, or where pycstore keeps its store and config. */
export const TOOL_VARS = /^(XDG_|UV_|POETRY_|PIPX_|PIPENV_|WORKON_HOME$|PYENV|CONDA|MAMBA_|PIXI_|RATTLER_|HATCH_|PDM_|RYE_HOME$|TOX_|VIRTUAL_ENV|PYCSTORE_(HOME|CONFIG|LINK_MODE)$)/;

let emptyHome: string | undefined;

/** An empty HOME for this test process (removed when it exits). */
export function tempHome(): string {
  if (!emptyHome) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pycstore-test-home-'));
    emptyHome = dir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return emptyHome;
}

/** process.env without XDG_* and the tools' variables, HOME set to `home` (default: an empty temporary one). */
export function cleanEnv(home = tempHome(), extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !TOOL_VARS.test(k)) env[k] = v;
  return { ...env, HOME: home, CI: 'true', ...extra };
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed, when it is one JSON object. */
  readonly json: Record<string, any> | undefined;
}

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<CliResult> {
  const stale = staleDist();
  if (stale !== undefined) throw new Error(`dist/ is stale (${stale}): run "npx tsc -p tsconfig.json" (npm test and vitest's globalSetup do) before the CLI tests`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...cleanEnv(), ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: Record<string, any> | undefined;
      try {
        const parsed: unknown = JSON.parse(stdout);
        if (parsed && typeof parsed === 'object') json = parsed as Record<string, any>;
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export interface Proc {
  readonly pid: number;
  /** What it wrote on stderr so far. */
  stderr(): string;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Start the built CLI and return at once (for races: watch its stderr, await `done`). */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const stale = staleDist();
  if (stale !== undefined) throw new Error(`dist/ is stale (${stale})`);
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { pid: child.pid!, stderr: () => stderr, done };
}

/**
 * Poll `cond` every `everyMs` (10 ms) until it holds; fail after `timeoutMs` (a deadline, never a fixed sleep),
 * with what `explain` says at that moment.
 */
export async function until(
  what: string,
  cond: () => boolean,
  timeoutMs = 60_000,
  { everyMs = 10, explain }: { everyMs?: number; explain?: () => Promise<string> } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${explain ? `\n${await explain()}` : ''}`);
    await delay(everyMs);
  }
}

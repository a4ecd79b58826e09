/**
 * pycstore's config file: where it is (env-paths rule per OS, XDG_CONFIG_HOME,
 * PYCSTORE_CONFIG), the format, and ECONFIG for everything else. Reads real
 * files in a temporary directory.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PycstoreError } from '../../src/errors.js';
import { configPath, loadConfig, parseConfig } from '../../src/discover/index.js';
import { linux, mac, win } from './helpers.js';

function thrown(fn: () => unknown): PycstoreError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PycstoreError) return err;
    throw err;
  }
  throw new Error('expected a PycstoreError');
}

describe('config file location', () => {
  it('follows env-paths: XDG_CONFIG_HOME or ~/.config on Linux, ~/Library/Preferences, %APPDATA%\\…\\Config', () => {
    expect(configPath(linux())).toBe('/home/u/.config/pycstore/config.toml');
    expect(configPath(linux({ XDG_CONFIG_HOME: '/xc' }))).toBe('/xc/pycstore/config.toml');
    expect(configPath(mac())).toBe('/Users/u/Library/Preferences/pycstore/config.toml');
    expect(configPath(win())).toBe('C:\\Users\\u\\AppData\\Roaming\\pycstore\\Config\\config.toml');
  });
  it('PYCSTORE_CONFIG names the file (~ expanded)', () => {
    expect(configPath(linux({ PYCSTORE_CONFIG: '~/pyc.toml' }))).toBe('/home/u/pyc.toml');
  });
});

describe('config format', () => {
  const ctx = linux();
  it('reads every key, expands ~ in workspaces and exclude', () => {
    const c = parseConfig(ctx, 'f.toml', 'workspaces = ["~/src", "/work"]\nexclude = ["~/src/big/**", "**/scratch/**"]\nmax-depth = 4\ndiscover = false\n');
    expect(c).toEqual({ file: 'f.toml', exists: true, workspaces: ['/home/u/src', '/work'], exclude: ['/home/u/src/big/**', '**/scratch/**'], maxDepth: 4, discover: false });
  });
  it('defaults for an empty file: the home directory, depth 6, discovery on', () => {
    expect(parseConfig(ctx, 'f.toml', '')).toMatchObject({ workspaces: ['/home/u'], exclude: [], maxDepth: 6, discover: true });
  });
  it('refuses unknown keys, wrong types and bad TOML with ECONFIG naming file and key', () => {
    const unknown = thrown(() => parseConfig(ctx, '/c/config.toml', 'workspace = ["~"]\n'));
    expect(unknown.code).toBe('ECONFIG');
    expect(unknown.message).toBe('/c/config.toml: unknown key "workspace"');
    expect(unknown.hint).toContain('workspaces');
    const depth = thrown(() => parseConfig(ctx, '/c/config.toml', 'max-depth = "six"\n'));
    expect([depth.code, depth.message]).toEqual(['ECONFIG', '/c/config.toml: "max-depth" must be a whole number ≥ 0']);
    expect(thrown(() => parseConfig(ctx, 'f', 'max-depth = -1')).code).toBe('ECONFIG');
    expect(thrown(() => parseConfig(ctx, 'f', 'max-depth = 2.5')).code).toBe('ECONFIG');
    expect(thrown(() => parseConfig(ctx, 'f', 'workspaces = "~/src"')).message).toBe('f: "workspaces" must be a list of non-empty strings');
    expect(thrown(() => parseConfig(ctx, 'f', 'exclude = [1]')).message).toBe('f: "exclude" must be a list of non-empty strings');
    expect(thrown(() => parseConfig(ctx, 'f', 'discover = "yes"')).message).toBe('f: "discover" must be true or false');
    const syntax = thrown(() => parseConfig(ctx, 'f', 'workspaces = ["~/src"\n'));
    expect(syntax.code).toBe('ECONFIG');
    expect(syntax.message).toMatch(/^f: not valid TOML at line \d+, column \d+: /);
    expect(syntax.message.split('\n')).toHaveLength(1);
  });
});

describe('loadConfig on real files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pycstore-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing default file gives the defaults; the file under XDG_CONFIG_HOME is read', async () => {
    const env = { XDG_CONFIG_HOME: path.join(dir, 'cfg') };
    expect(await loadConfig({ env, platform: 'linux', home: dir })).toMatchObject({ exists: false, workspaces: [dir], maxDepth: 6 });
    mkdirSync(path.join(dir, 'cfg', 'pycstore'), { recursive: true });
    writeFileSync(path.join(dir, 'cfg', 'pycstore', 'config.toml'), 'workspaces = ["~/code"]\nmax-depth = 3\n');
    expect(await loadConfig({ env, platform: 'linux', home: dir })).toMatchObject({ exists: true, workspaces: [path.join(dir, 'code')], maxDepth: 3 });
  });
  it('PYCSTORE_CONFIG naming a missing file is ECONFIG, a bad one too', async () => {
    const missing = path.join(dir, 'nope.toml');
    await expect(loadConfig({ env: { PYCSTORE_CONFIG: missing }, platform: 'linux', home: dir })).rejects.toMatchObject({ code: 'ECONFIG', message: `${missing}: not found (named by PYCSTORE_CONFIG)` });
    const bad = path.join(dir, 'bad.toml');
    writeFileSync(bad, 'colour = "blue"\n');
    await expect(loadConfig({ env: { PYCSTORE_CONFIG: bad }, platform: 'linux', home: dir })).rejects.toMatchObject({ code: 'ECONFIG', message: `${bad}: unknown key "colour"` });
  });
});

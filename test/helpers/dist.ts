/**
 * Is dist/ the build of src/? Every src/**.ts must have its dist/**.js, no
 * older than the source. The CLI tests run dist/cli.js, so a stale build would
 * test old code: vitest's globalSetup (test/setup/build.ts) rebuilds it once
 * when stale, and the CLI helper refuses to run a stale one.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './interpreters.js';

export const SRC = path.join(REPO_ROOT, 'src');
export const DIST = path.join(REPO_ROOT, 'dist');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Why dist/ is not the build of src/ (the first source found newer than its output, or without one), or undefined when it is. */
export function staleDist(): string | undefined {
  for (const src of tsFiles(SRC)) {
    const out = path.join(DIST, path.relative(SRC, src)).replace(/\.ts$/, '.js');
    if (!existsSync(out)) return `${path.relative(REPO_ROOT, out)} is missing`;
    if (statSync(src).mtimeMs > statSync(out).mtimeMs) return `${path.relative(REPO_ROOT, src)} is newer than ${path.relative(REPO_ROOT, out)}`;
  }
  return undefined;
}

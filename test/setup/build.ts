/** vitest globalSetup: build dist/ once, before any test, when it is not the build of src/ (test/helpers/dist.ts). */
import { execFileSync } from 'node:child_process';
import { REPO_ROOT } from '../helpers/interpreters.js';
import { staleDist } from '../helpers/dist.js';

export default function setup(): void {
  const why = staleDist();
  if (why === undefined) return;
  console.warn(`[build] dist/ is stale (${why}): building it with tsc -p tsconfig.json`);
  execFileSync(process.execPath, [tscPath(), '-p', 'tsconfig.json'], { cwd: REPO_ROOT, stdio: 'inherit' });
  const still = staleDist();
  if (still !== undefined) throw new Error(`dist/ is still stale after building: ${still}`);
}

function tscPath(): string {
  return `${REPO_ROOT}/node_modules/typescript/bin/tsc`;
}

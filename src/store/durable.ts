/**
 * Making new objects durable before anything links to them. Objects are
 * written without an fsync each; before the first venv file is pointed at
 * them, one barrier flushes them all: `sync -f` (syncfs(2), one call per
 * filesystem) on Linux, else an fdatasync per object file.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, fdatasyncSync, openSync } from 'node:fs';

export function makeDurable(byRoot: ReadonlyMap<string, readonly string[]>): void {
  for (const [root, files] of byRoot) {
    if (files.length === 0) continue;
    if (process.platform === 'linux' && files.length > 8) {
      const r = spawnSync('sync', ['-f', root], { stdio: 'ignore' });
      if (r.status === 0) continue;
    }
    for (const f of files) {
      const fd = openSync(f, 'r');
      try {
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
}

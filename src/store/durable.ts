/**
 * Making new objects durable before anything links to them. Objects are
 * written without an fsync each; before the first venv file is pointed at
 * them, one barrier flushes a whole batch: `sync -f` (syncfs(2), one call per
 * filesystem) on Linux, else an fdatasync per object file. Asynchronous: the
 * caller goes on reading and linking (to objects already durable) meanwhile.
 */
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';

/** Below this many files, fdatasync each one rather than flush the whole filesystem. */
const SYNCFS_FROM = 8;

function syncfs(root: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('sync', ['-f', root], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
}

async function fdatasyncFile(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** Make every file of `byRoot` (store root → object files written there) durable. */
export async function makeDurable(byRoot: ReadonlyMap<string, readonly string[]>): Promise<void> {
  for (const [root, files] of byRoot) {
    if (files.length === 0) continue;
    if (process.platform === 'linux' && files.length >= SYNCFS_FROM && (await syncfs(root))) continue;
    await Promise.all(files.map(fdatasyncFile));
  }
}

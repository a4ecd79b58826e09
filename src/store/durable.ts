/**
 * Making new objects durable before anything links to them. Objects are
 * written without an fsync each; before the first venv file is pointed at
 * them, one barrier flushes a whole batch: `sync -f` (syncfs(2), one call per
 * filesystem) on Linux, else an fdatasync per object file. Asynchronous: the
 * caller goes on reading and linking (to objects already durable) meanwhile.
 *
 * `sync -f` runs in a small helper shell started once (`Durability`): forking
 * this process — hundreds of MB of page tables — for every barrier would cost
 * more than the barrier itself.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';

/** Below this many files, fdatasync each one rather than flush the whole filesystem. */
const SYNCFS_FROM = 8;

async function fdatasyncFile(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** A shell that runs `sync -f DIR` for each line it reads and answers ok or fail. */
class SyncHelper {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: ((ok: boolean) => void)[] = [];
  private dead = false;

  constructor() {
    this.child = spawn('sh', ['-c', 'while IFS= read -r d; do if sync -f "$d"; then echo ok; else echo fail; fi; done'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const die = (): void => {
      this.dead = true;
      for (const w of this.waiting.splice(0)) w(false);
    };
    this.child.on('error', die);
    this.child.on('exit', die);
    this.child.stdin.on('error', die);
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.(line === 'ok'));
  }

  sync(dir: string): Promise<boolean> {
    if (this.dead || dir.includes('\n')) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin.write(`${dir}\n`);
    });
  }

  close(): void {
    this.child.stdin.end();
  }
}

export class Durability {
  private helper: SyncHelper | undefined;

  /** Make every file of `byRoot` (store root → object files written there) durable. */
  async makeDurable(byRoot: ReadonlyMap<string, readonly string[]>): Promise<void> {
    for (const [root, files] of byRoot) {
      if (files.length === 0) continue;
      if (process.platform === 'linux' && files.length >= SYNCFS_FROM) {
        this.helper ??= new SyncHelper(); // started on the first barrier, reused for the rest
        if (await this.helper.sync(root)) continue;
      }
      await Promise.all(files.map(fdatasyncFile));
    }
  }

  close(): void {
    this.helper?.close();
    this.helper = undefined;
  }
}

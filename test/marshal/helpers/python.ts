/**
 * One long-lived Python process running loads_equal.py: canonical bodies go in over
 * stdin (with the path of their original pyc), one verdict line per body comes out.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pythonEnv } from '../../helpers/interpreters.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'loads_equal.py');

export class LoadsChecker {
  private readonly child: ChildProcessWithoutNullStreams;
  private out = '';
  private err = '';
  private readonly exited: Promise<number | null>;

  constructor(exe: string) {
    this.child = spawn(exe, [SCRIPT], { env: pythonEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8').on('data', (s: string) => (this.out += s));
    this.child.stderr.setEncoding('utf8').on('data', (s: string) => (this.err += s));
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', resolve);
    });
  }

  /** Queue one canonical body; resolves once the pipe has room again. */
  async send(pycPath: string, body: Uint8Array): Promise<void> {
    this.child.stdin.write(`${body.length}\t${pycPath}\n`);
    if (!this.child.stdin.write(body)) await new Promise<void>((resolve) => this.child.stdin.once('drain', resolve));
  }

  /** All verdict lines, in order ("ok" or "FAIL\t<path>\t<reason>"). */
  async finish(): Promise<string[]> {
    this.child.stdin.end();
    const code = await this.exited;
    if (code !== 0) throw new Error(`loads_equal.py exited with ${code}: ${this.err.slice(-2000)}`);
    return this.out.split('\n').filter((l) => l.length > 0);
  }
}

/** Bytes an unprivileged writer may still use on the filesystem of `dir` (undefined when it can't be told). */
import { statfsSync } from 'node:fs';

export function freeBytes(dir: string): number | undefined {
  try {
    const st = statfsSync(dir);
    return Number(st.bavail) * Number(st.bsize);
  } catch {
    return undefined;
  }
}

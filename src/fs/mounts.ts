/** Which mount a path is on: the topmost ancestor with the same st_dev. */
import { statSync } from 'node:fs';
import path from 'node:path';

export function mountPointOf(p: string): string {
  let cur = path.resolve(p);
  let dev: bigint;
  try {
    dev = statSync(cur, { bigint: true }).dev;
  } catch {
    return cur;
  }
  for (;;) {
    const parent = path.dirname(cur);
    if (parent === cur) return cur;
    try {
      if (statSync(parent, { bigint: true }).dev !== dev) return cur;
    } catch {
      return cur;
    }
    cur = parent;
  }
}

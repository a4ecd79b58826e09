/**
 * Where the store lives, and the one function for each on-disk address in it.
 * Everything that touches the store (dedup, gc, verify, tests) calls these.
 */
import envPaths from 'env-paths';
import path from 'node:path';

/** --store, else $PYCSTORE_HOME, else the user cache dir without the "-nodejs" suffix. */
export function defaultStoreDir(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag) return path.resolve(flag);
  const fromEnv = env['PYCSTORE_HOME'];
  if (fromEnv) return path.resolve(fromEnv);
  return envPaths('pycstore', { suffix: '' }).cache;
}

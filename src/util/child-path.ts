import path from 'node:path';

/**
 * The path of the entry `name` (one name, no separator) in the folder `dir` (a normalised path):
 * `path.join(dir, name)` without its normalising pass, which allocates a string per segment —
 * the scan and the run's table build hundreds of thousands of these.
 */
export function childPath(dir: string, name: string): string {
  return dir.endsWith(path.sep) ? dir + name : dir + path.sep + name;
}

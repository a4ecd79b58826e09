/** The mode CPython gives a pyc it writes (importlib's _calc_mode): its source's mode with owner-write, within 0666. Pure. */
export function pycMode(sourceMode: number | bigint): number {
  return (Number(sourceMode) | 0o200) & 0o666;
}

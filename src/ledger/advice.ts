/** What to tell the user about a ledger that can't be read: worded once, used where it is opened and by the CLI. */

export function ledgerWayOut(ledgerFile: string): string {
  return (
    `move it aside: mv '${ledgerFile}' '${ledgerFile}.broken' (and its -wal and -shm files, if any), ` +
    'then run pycstore dedup PATH… again: it adopts the files already linked (name the roots again: their list was in the ledger)'
  );
}

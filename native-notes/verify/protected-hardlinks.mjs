// fs.protected_hardlinks: who may link() a file they don't own.
// Runs link() as unprivileged users (setpriv --reuid/--regid, uids 65534 "nobody" and
// 12345, which needs no passwd entry) on an ext4 and an XFS loop filesystem.
// Does not change the sysctl (a system-wide security setting); prints its value.
// Usage: node protected-hardlinks.mjs
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { header, main, mountFs } from './lib.mjs';

/** link(src, dst) as uid:gid in a child process; returns 'ok' or the errno code. */
function linkAs(uid, src, dst) {
  const r = spawnSync(
    'setpriv',
    [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, '-e',
      `try { require('fs').linkSync(process.argv[1], process.argv[2]); console.log('ok') } catch (e) { console.log(e.code) }`, src, dst],
    { encoding: 'utf8' },
  );
  return (r.stdout || r.stderr).trim();
}

/** copyFile(src, dst, FICLONE_FORCE) as uid; 'ok' or the errno code. */
function cloneAs(uid, src, dst) {
  const r = spawnSync(
    'setpriv',
    [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, '-e',
      `const fs = require('fs'); try { fs.copyFileSync(process.argv[1], process.argv[2], fs.constants.COPYFILE_FICLONE_FORCE); console.log('ok') } catch (e) { console.log(e.code) }`, src, dst],
    { encoding: 'utf8' },
  );
  return (r.stdout || r.stderr).trim();
}

function cases(kind, mnt) {
  console.log(`\n## ${kind}`);
  fs.chmodSync(path.dirname(mnt), 0o755); // mkdtemp made it 0700: let other users traverse
  const dir = path.join(mnt, 'shared');
  fs.mkdirSync(dir);
  fs.chmodSync(dir, 0o1777); // like /tmp: anyone may create names here
  const mk = (name, uid, mode) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, 'pyc');
    fs.chownSync(p, uid, uid);
    fs.chmodSync(p, mode);
    return p;
  };
  const rows = [
    ['root-owned 0644, linked by nobody', mk('root-644', 0, 0o644), 65534],
    ['root-owned 0444 (read-only store object), linked by nobody', mk('root-444', 0, 0o444), 65534],
    ['root-owned 0666 (writable by nobody), linked by nobody', mk('root-666', 0, 0o666), 65534],
    ['nobody-owned 0444, linked by its owner nobody', mk('nobody-444', 65534, 0o444), 65534],
    ['nobody-owned 0444, linked by uid 12345 (another user)', mk('nobody-444b', 65534, 0o444), 12345],
    ['nobody-owned 0444, linked by root (CAP_FOWNER)', mk('nobody-444c', 65534, 0o444), 0],
    ['setuid root 04755, linked by nobody', mk('suid', 0, 0o4755), 65534],
  ];
  for (const [label, src, uid] of rows) {
    console.log(`${label.padEnd(62)} ${linkAs(uid, src, `${src}.link-by-${uid}`)}`);
  }
  if (kind === 'xfs') {
    const src = path.join(dir, 'root-444');
    console.log(`${'reflink (FICLONE) of root-owned 0444, by nobody'.padEnd(62)} ${cloneAs(65534, src, `${src}.clone-by-nobody`)}`);
  }
}

await main(async () => {
  header('fs.protected_hardlinks');
  console.log(`/proc/sys/fs/protected_hardlinks = ${fs.readFileSync('/proc/sys/fs/protected_hardlinks', 'utf8').trim()}`);
  for (const kind of ['ext4', 'xfs']) cases(kind, mountFs(kind));
});

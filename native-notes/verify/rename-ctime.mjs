// 1. rename(a, b) when a and b are hard links to the same inode: POSIX says "do nothing,
//    return success" — so both names stay. Matters for link-to-temp-then-rename.
// 2. Does link() change the inode's ctime? Does rename() change the moved inode's ctime?
//    Does it change mtime? Does it change the ctime of the inode that was replaced?
// Usage: node rename-ctime.mjs
import fs from 'node:fs';
import path from 'node:path';
import { errCode, header, main, mountFs, sleep, statNs } from './lib.mjs';

const fmt = (a, b) => (a === b ? 'unchanged' : `changed (+${Number(b - a) / 1e6} ms)`);

async function onFs(kind, mnt) {
  console.log(`\n## ${kind}`);
  const dir = fs.mkdtempSync(path.join(mnt, 'case-'));
  const obj = path.join(dir, 'object');
  const venv = path.join(dir, 'venv.pyc');
  const tmp = path.join(dir, '.venv.pyc.tmp');

  // rename onto another name of the same inode
  fs.writeFileSync(obj, 'pyc');
  fs.linkSync(obj, venv);
  fs.linkSync(obj, tmp);
  const r = errCode(() => fs.renameSync(tmp, venv));
  console.log(
    `rename(tmp, venv) with tmp, venv hard links of one inode: ${r}; tmp still exists: ${fs.existsSync(tmp)}; ` +
      `venv exists: ${fs.existsSync(venv)}; nlink=${fs.statSync(obj).nlink}`,
  );
  fs.rmSync(tmp, { force: true });
  fs.rmSync(venv);

  // link() and ctime
  let before = statNs(obj);
  await sleep(30);
  fs.linkSync(obj, tmp);
  let after = statNs(obj);
  console.log(`link(object, tmp): object ctime ${fmt(before.ctime, after.ctime)}, mtime ${fmt(before.mtime, after.mtime)}`);

  // rename() of the moved inode, onto an existing different file
  fs.writeFileSync(venv, 'old copy');
  const victimFd = fs.openSync(venv, 'r'); // keep the replaced inode alive to stat it
  const victimBefore = fs.fstatSync(victimFd, { bigint: true });
  before = statNs(obj);
  await sleep(30);
  fs.renameSync(tmp, venv);
  after = statNs(obj);
  const victimAfter = fs.fstatSync(victimFd, { bigint: true });
  fs.closeSync(victimFd);
  console.log(`rename(tmp, venv) over another file: moved inode ctime ${fmt(before.ctime, after.ctime)}, mtime ${fmt(before.mtime, after.mtime)}`);
  console.log(`  replaced inode: nlink ${victimBefore.nlink} -> ${victimAfter.nlink}, ctime ${fmt(victimBefore.ctimeNs, victimAfter.ctimeNs)}`);

  // rename() onto a fresh name
  before = statNs(obj);
  await sleep(30);
  fs.renameSync(venv, path.join(dir, 'fresh-name'));
  after = statNs(obj);
  console.log(`rename(venv, fresh-name): moved inode ctime ${fmt(before.ctime, after.ctime)}`);

  // unlink() of one name
  before = statNs(obj);
  await sleep(30);
  fs.unlinkSync(path.join(dir, 'fresh-name'));
  after = statNs(obj);
  console.log(`unlink(another name): remaining inode ctime ${fmt(before.ctime, after.ctime)}`);

  // chmod of one name is seen through every name
  fs.linkSync(obj, venv);
  fs.chmodSync(venv, 0o444);
  console.log(`chmod 0444 through venv name: object mode ${statNs(obj).mode.toString(8)}`);
}

await main(async () => {
  header('rename onto the same inode; ctime on link/rename');
  for (const kind of ['ext4', 'xfs', 'btrfs', 'tmpfs']) await onFs(kind, mountFs(kind));
});

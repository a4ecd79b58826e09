// What Node's fs.copyFile does with COPYFILE_FICLONE_FORCE / COPYFILE_FICLONE on each
// filesystem: the errno when the filesystem can't clone, what happens to an existing
// destination when the clone fails, which metadata the clone gets (mode, owner, mtime,
// xattrs), whether filefrag -v reports the extents as "shared", and small (inline) files.
// Usage: node ficlone.mjs
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { errCodeAsync, header, main, mountFs, sh, statNs } from './lib.mjs';

const { COPYFILE_FICLONE_FORCE: FORCE, COPYFILE_FICLONE: TRY } = fs.constants;

function flags(file) {
  let out;
  try {
    out = sh('filefrag', ['-v', '-s', file]);
  } catch (e) {
    return [`filefrag failed: ${String(e.stderr).trim().split(': ').slice(-1)[0]}`];
  }
  return out
    .split('\n')
    .filter((l) => /^\s*\d+:/.test(l))
    .map((l) => l.split(':').slice(-1)[0].trim() || '(none)');
}

function xattr(file, name, value) {
  // Node has no xattr API; python3's os module does.
  const code = value === undefined
    ? `import os,sys\ntry: print(os.getxattr(sys.argv[1], sys.argv[2]).decode())\nexcept OSError as e: print('absent ('+os.strerror(e.errno)+')')`
    : `import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode())`;
  return execFileSync('python3', ['-c', code, file, name, value ?? ''], { encoding: 'utf8' }).trim();
}

async function onFs(kind, mnt) {
  console.log(`\n## ${kind}`);
  const big = randomBytes(1024 * 1024);
  const src = path.join(mnt, 'src.bin');
  fs.writeFileSync(src, big);
  fs.chmodSync(src, 0o444);
  fs.chownSync(src, 65534, 65534);
  const old = new Date('2001-02-03T04:05:06Z');
  fs.utimesSync(src, old, old);
  xattr(src, 'user.pycstore', 'hello');

  const dst = path.join(mnt, 'dst.bin');
  const free = () => {
    execFileSync('sync', ['-f', mnt]);
    const st = fs.statfsSync(mnt);
    return st.bfree * st.bsize;
  };
  const before = free();
  const force = await errCodeAsync(() => fs.promises.copyFile(src, dst, FORCE));
  console.log(`copyFile(src, new, FICLONE_FORCE): ${force}`);
  if (force === 'ok') {
    const s = statNs(src);
    const d = statNs(dst);
    console.log(`  src: ino=${s.ino} mode=${s.mode.toString(8)} uid=${s.uid} mtime=${new Date(Number(s.mtime / 1000000n)).toISOString()} nlink=${s.nlink}`);
    console.log(`  dst: ino=${d.ino} mode=${d.mode.toString(8)} uid=${d.uid} mtime=${new Date(Number(d.mtime / 1000000n)).toISOString()} nlink=${d.nlink}`);
    console.log(`  xattr user.pycstore on dst: ${xattr(dst, 'user.pycstore')}`);
    console.log(`  filefrag -v flags, src: ${[...new Set(flags(src))].join(' | ')}`);
    console.log(`  filefrag -v flags, dst: ${[...new Set(flags(dst))].join(' | ')}`);
    const du = (f) => Number(fs.statSync(f).blocks) * 512;
    console.log(`  st_blocks*512: src=${du(src)} dst=${du(dst)} (each file still reports its full allocation)`);
    const afterClone = free();
    fs.writeFileSync(path.join(mnt, 'written.bin'), big); // control: the same bytes written
    const afterWrite = free();
    console.log(`  statfs free space used: by the 1 MiB clone ${before - afterClone} bytes; by writing 1 MiB ${before - afterWrite - (before - afterClone)} bytes`);
    // Node's copyFile without any flag: libuv uses copy_file_range(2), which the kernel turns into a clone.
    const plain = path.join(mnt, 'plain-copy.bin');
    fs.copyFileSync(src, plain);
    console.log(`  copyFile(src, new) with no flags: filefrag flags ${[...new Set(flags(plain))].join(' | ')}; statfs free space used ${afterWrite - free()} bytes`);
  } else {
    console.log(`  destination exists afterwards: ${fs.existsSync(dst)}`);
  }
  const tryMode = await errCodeAsync(() => fs.promises.copyFile(src, path.join(mnt, 'dst-try.bin'), TRY));
  console.log(`copyFile(src, new, FICLONE) (clone, else copy): ${tryMode}; filefrag flags: ${flags(path.join(mnt, 'dst-try.bin')).join(' | ')}`);

  // An existing destination with other content, cloned over with FORCE.
  const existing = path.join(mnt, 'existing.bin');
  fs.writeFileSync(existing, 'precious');
  const over = await errCodeAsync(() => fs.promises.copyFile(src, existing, FORCE));
  console.log(
    `copyFile(src, existing, FICLONE_FORCE): ${over}; existing afterwards: ` +
      (fs.existsSync(existing) ? `${fs.statSync(existing).size} bytes` : 'DELETED'),
  );

  // Small files: a typical .pyc of 1–2 KiB.
  for (const size of [1000, 3000]) {
    const s = path.join(mnt, `small-${size}`);
    const d = path.join(mnt, `small-${size}.clone`);
    fs.writeFileSync(s, randomBytes(size));
    const r = await errCodeAsync(() => fs.promises.copyFile(s, d, FORCE));
    console.log(`${size}-byte file, FICLONE_FORCE: ${r}` + (r === 'ok' ? `; flags src: ${flags(s).join(' | ')}; dst: ${flags(d).join(' | ')}` : ''));
  }
}

/** A clone is a new inode, so the caller restores times: how precisely can Node do that? */
function utimesPrecision(mnt) {
  console.log('\n## restoring mtime on a clone with fs.utimesSync');
  const a = path.join(mnt, 'times-src');
  const b = path.join(mnt, 'times-dst');
  fs.writeFileSync(a, 'a');
  fs.writeFileSync(b, 'b');
  const s = fs.statSync(a, { bigint: true });
  fs.utimesSync(b, new Date(Number(s.atimeMs)), new Date(Number(s.mtimeMs)));
  const viaDate = fs.statSync(b, { bigint: true }).mtimeNs;
  fs.utimesSync(b, Number(s.atimeNs) / 1e9, Number(s.mtimeNs) / 1e9);
  const viaSeconds = fs.statSync(b, { bigint: true }).mtimeNs;
  console.log(`source mtimeNs                     ${s.mtimeNs}`);
  console.log(`utimes(Date(mtimeMs))  -> mtimeNs  ${viaDate} (lost ${s.mtimeNs - viaDate} ns)`);
  console.log(`utimes(mtimeNs / 1e9)  -> mtimeNs  ${viaSeconds} (lost ${s.mtimeNs - viaSeconds} ns)`);
}

await main(async () => {
  header('FICLONE via Node fs.copyFile');
  const mounts = {};
  for (const kind of ['xfs', 'btrfs', 'ext4', 'tmpfs']) await onFs(kind, (mounts[kind] = mountFs(kind)));
  utimesPrecision(mounts.xfs);
});

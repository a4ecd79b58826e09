// Recognising filesystems and the "same filesystem" question:
// - statfs f_type as Node's fs.statfs reports it, per filesystem
// - st_dev per filesystem; btrfs subvolumes get their own st_dev
// - link(), FICLONE and rename() across filesystems, across bind mounts of one
//   filesystem, and across btrfs subvolumes of one mount
// - overlayfs: st_dev/st_ino, link() of a lower-layer file (copy-up), FICLONE
// Usage: node devices.mjs
import fs from 'node:fs';
import path from 'node:path';
import { bindMount, errCode, errCodeAsync, header, main, mountFs, mountOverlay, sh } from './lib.mjs';

const FORCE = fs.constants.COPYFILE_FICLONE_FORCE;
const hex = (n) => '0x' + n.toString(16).toUpperCase();
const devStr = (d) => `${d} (major ${Math.floor(d / 256) & 0xfff}, minor ${(d & 0xff) | ((d >> 12) & 0xfff00)})`;

async function across(label, a, b) {
  const src = path.join(a, `src-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(src, Buffer.alloc(64 * 1024, 7));
  const l = errCode(() => fs.linkSync(src, path.join(b, `link-${path.basename(src)}`)));
  const c = await errCodeAsync(() => fs.promises.copyFile(src, path.join(b, `clone-${path.basename(src)}`), FORCE));
  const r = errCode(() => fs.renameSync(src, path.join(b, `moved-${path.basename(src)}`)));
  console.log(`${label.padEnd(58)} st_dev ${fs.statSync(a).dev === fs.statSync(b).dev ? 'same' : 'differs'}; link: ${l}; FICLONE: ${c}; rename: ${r}`);
}

await main(async () => {
  header('statfs types, st_dev, cross-device operations');
  const m = {
    ext4: mountFs('ext4'),
    xfs: mountFs('xfs'),
    btrfs: mountFs('btrfs'),
    tmpfs: mountFs('tmpfs'),
  };
  // overlay: lower and upper both on the XFS mount
  for (const d of ['lower', 'upper', 'work']) fs.mkdirSync(path.join(m.xfs, 'ovl-' + d));
  fs.writeFileSync(path.join(m.xfs, 'ovl-lower', 'lower.pyc'), Buffer.alloc(64 * 1024, 1));
  m.overlay = mountOverlay(path.join(m.xfs, 'ovl-lower'), path.join(m.xfs, 'ovl-upper'), path.join(m.xfs, 'ovl-work'));

  console.log('\n## fs.statfs(mountpoint).type and stat(mountpoint).dev');
  for (const [kind, mnt] of Object.entries(m)) {
    const t = fs.statfsSync(mnt).type;
    const tb = fs.statfsSync(mnt, { bigint: true }).type;
    console.log(`${kind.padEnd(8)} type=${hex(t)} (${t}; bigint ${tb}n)  st_dev=${devStr(fs.statSync(mnt).dev)}`);
  }
  console.log(`${'/'.padEnd(8)} type=${hex(fs.statfsSync('/').type)}  (this VM's root filesystem, for reference)`);

  console.log('\n## across filesystems, bind mounts, subvolumes');
  await across('ext4 -> xfs (two filesystems)', m.ext4, m.xfs);
  await across('xfs -> btrfs (two filesystems)', m.xfs, m.btrfs);
  await across('xfs -> another xfs (two filesystems, same type)', m.xfs, mountFs('xfs'));
  const bind = bindMount(m.xfs);
  await across('xfs -> bind mount of the same xfs', m.xfs, bind);
  const bindE = bindMount(m.ext4);
  await across('ext4 -> bind mount of the same ext4', m.ext4, bindE);

  sh('btrfs', ['subvolume', 'create', path.join(m.btrfs, 'subvol')]);
  fs.mkdirSync(path.join(m.btrfs, 'plain-dir'));
  await across('btrfs top level -> subvolume (same mount)', path.join(m.btrfs, 'plain-dir'), path.join(m.btrfs, 'subvol'));
  await across('btrfs subvolume -> top level (same mount)', path.join(m.btrfs, 'subvol'), path.join(m.btrfs, 'plain-dir'));
  console.log(
    `btrfs: st_dev of top level ${fs.statSync(m.btrfs).dev}, of subvolume ${fs.statSync(path.join(m.btrfs, 'subvol')).dev}; ` +
      `statfs type of subvolume ${hex(fs.statfsSync(path.join(m.btrfs, 'subvol')).type)}`,
  );
  sh('btrfs', ['subvolume', 'snapshot', path.join(m.btrfs, 'subvol'), path.join(m.btrfs, 'snap')]);
  console.log(`btrfs snapshot of subvol: st_dev ${fs.statSync(path.join(m.btrfs, 'snap')).dev}`);

  console.log('\n## overlayfs (lower and upper directories on the same XFS)');
  const lower = path.join(m.overlay, 'lower.pyc');
  const s0 = fs.statSync(lower);
  const real = fs.statSync(path.join(m.xfs, 'ovl-lower', 'lower.pyc'));
  console.log(`lower-layer file seen through overlay: st_dev ${s0.dev} (overlay mount ${fs.statSync(m.overlay).dev}, xfs ${real.dev}), st_ino ${s0.ino} (real ${real.ino}), nlink ${s0.nlink}`);
  const l = errCode(() => fs.linkSync(lower, path.join(m.overlay, 'link.pyc')));
  const s1 = fs.statSync(lower);
  console.log(`link(lower-layer file): ${l}; after: st_ino ${s1.ino}, nlink ${s1.nlink}; copied up: ${fs.existsSync(path.join(m.xfs, 'ovl-upper', 'lower.pyc'))}`);
  fs.writeFileSync(path.join(m.xfs, 'ovl-lower', 'lower2.pyc'), Buffer.alloc(64 * 1024, 2));
  const c = await errCodeAsync(() => fs.promises.copyFile(path.join(m.overlay, 'lower2.pyc'), path.join(m.overlay, 'clone.pyc'), FORCE));
  console.log(`copyFile(lower-layer file, new, FICLONE_FORCE) inside the overlay: ${c}`);
  if (c === 'ok') {
    const flags = sh('filefrag', ['-v', path.join(m.xfs, 'ovl-upper', 'clone.pyc')]);
    console.log(`  upper clone.pyc extents shared: ${/shared/.test(flags)}`);
  }
  await across('overlay -> its own upper XFS directly', m.overlay, path.join(m.xfs, 'ovl-upper'));
});

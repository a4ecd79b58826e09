// FIDEDUPERANGE (the kernel compares, then shares extents, keeping the destination inode)
// driven through `xfs_io -c "dedupe ..."` (xfsprogs), since Node has no ioctl.
// Usage: node dedupe.mjs
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { header, main, mountFs, sh, sleep, statNs } from './lib.mjs';

function dedupe(src, dst, len, { asUid } = {}) {
  const args = ['-r', '-c', `dedupe ${src} 0 0 ${len}`, dst]; // -r: destination opened read-only
  const r = asUid === undefined
    ? spawnSync('xfs_io', args, { encoding: 'utf8' })
    : spawnSync('setpriv', [`--reuid=${asUid}`, `--regid=${asUid}`, '--clear-groups', 'xfs_io', ...args], { encoding: 'utf8' });
  return `${(r.stdout + r.stderr).trim().replace(/\s+/g, ' ')} (exit ${r.status})`;
}

const shared = (f) => {
  try {
    return /shared/.test(sh('filefrag', ['-v', '-s', f]));
  } catch {
    return 'n/a';
  }
};

async function onFs(kind, mnt) {
  console.log(`\n## ${kind}`);
  fs.chmodSync(path.dirname(mnt), 0o755);
  for (const size of [3000, 1000, 256 * 1024]) {
    const data = randomBytes(size);
    const a = path.join(mnt, `a-${size}`);
    const b = path.join(mnt, `b-${size}`);
    fs.writeFileSync(a, data);
    fs.writeFileSync(b, data);
    fs.chmodSync(b, 0o444);
    const old = new Date('2001-02-03T04:05:06Z');
    fs.utimesSync(b, old, old);
    const before = statNs(b);
    await sleep(20);
    const out = dedupe(a, b, size);
    const after = statNs(b);
    console.log(`${size}-byte identical files: ${out}`);
    console.log(
      `  dst after: same ino ${before.ino === after.ino}, mode ${after.mode.toString(8)}, mtime kept ${before.mtime === after.mtime}, ` +
        `ctime kept ${before.ctime === after.ctime}; extents shared: src ${shared(a)}, dst ${shared(b)}`,
    );
  }
  const a = path.join(mnt, 'diff-a');
  const b = path.join(mnt, 'diff-b');
  fs.writeFileSync(a, Buffer.alloc(8192, 1));
  fs.writeFileSync(b, Buffer.concat([Buffer.alloc(8191, 1), Buffer.from([2])]));
  console.log(`8 KiB files differing in the last byte: ${dedupe(a, b, 8192)}; dst unchanged: ${fs.readFileSync(b)[8191] === 2}`);
  // Unprivileged: dst owned by nobody, opened read-only by nobody (allowed for the owner).
  const c = path.join(mnt, 'nobody-dst');
  fs.writeFileSync(c, fs.readFileSync(path.join(mnt, `a-${256 * 1024}`)));
  fs.chownSync(c, 65534, 65534);
  console.log(`as nobody, read-only fd on own file: ${dedupe(path.join(mnt, `a-${256 * 1024}`), c, 256 * 1024, { asUid: 65534 })}`);
  const d = path.join(mnt, 'root-dst');
  fs.writeFileSync(d, fs.readFileSync(path.join(mnt, `a-${256 * 1024}`)));
  fs.chmodSync(d, 0o444);
  console.log(`as nobody, read-only fd on root's 0444 file: ${dedupe(path.join(mnt, `a-${256 * 1024}`), d, 256 * 1024, { asUid: 65534 })}`);
}

await main(async () => {
  header('FIDEDUPERANGE via xfs_io dedupe');
  for (const kind of ['xfs', 'btrfs', 'ext4']) await onFs(kind, mountFs(kind));
});

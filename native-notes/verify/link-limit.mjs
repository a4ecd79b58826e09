// How many hard links each filesystem allows per inode, and the errno past it.
// Links one file again and again (fs.linkSync) until link() fails or CAP is reached.
// Usage: node link-limit.mjs [kind...]   (default: ext4 xfs btrfs btrfs-noextref tmpfs)
import fs from 'node:fs';
import path from 'node:path';
import { header, main, mountFs, sh } from './lib.mjs';

const CAP = Number(process.env.CAP ?? 200_000);

/** Links `src` under names from nameFor(i) until failure or CAP; returns nlink reached and the error. */
function linkUntilFailure(src, nameFor) {
  for (let i = 1; ; i++) {
    if (fs.statSync(src).nlink >= CAP) return { nlink: fs.statSync(src).nlink, code: `none (stopped at CAP=${CAP})` };
    const dst = nameFor(i);
    try {
      fs.linkSync(src, dst);
    } catch (e) {
      if (e.code === 'ENOENT') {
        fs.mkdirSync(path.dirname(dst), { recursive: true });
        i--;
        continue;
      }
      return { nlink: fs.statSync(src).nlink, code: e.code, message: e.message.split(',')[0] };
    }
  }
}

/** What glibc's pathconf(_PC_LINK_MAX) says (a table keyed by statfs f_type). */
function getconf(mnt) {
  try {
    return sh('getconf', ['LINK_MAX', mnt]).trim();
  } catch (e) {
    return `getconf failed: ${String(e.stderr).trim()}`;
  }
}

function scenario(mnt, label, nameFor) {
  if (!reported.has(mnt)) {
    reported.add(mnt);
    console.log(`${label.split(':')[0]}: getconf LINK_MAX (glibc pathconf) = ${getconf(mnt)}`);
  }
  const base = fs.mkdtempSync(path.join(mnt, 'case-'));
  const src = path.join(base, 'src');
  fs.writeFileSync(src, 'x');
  const t0 = process.hrtime.bigint();
  const r = linkUntilFailure(src, (i) => nameFor(base, i));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`${label.padEnd(60)} nlink=${String(r.nlink).padEnd(7)} error=${r.code}  (${(ms / 1000).toFixed(1)} s)`);
  fs.rmSync(base, { recursive: true, force: true });
  return r;
}

const reported = new Set();
const short = (base, i) => path.join(base, `l${i}`);
const long255 = (base, i) => path.join(base, `${String(i).padStart(8, '0')}${'n'.repeat(247)}`); // 255 bytes
const long64 = (base, i) => path.join(base, `${String(i).padStart(8, '0')}${'n'.repeat(56)}`); // 64 bytes
const perDir = (n) => (base, i) => path.join(base, `d${Math.floor(i / n)}`, `l${i}`);

const KINDS = {
  ext4: () => {
    const m = mountFs('ext4', { sizeMiB: 256 });
    scenario(m, 'ext4: same directory, short names', short);
    scenario(m, 'ext4: 1000 links per directory', perDir(1000));
  },
  xfs: () => {
    const m = mountFs('xfs');
    scenario(m, 'xfs: same directory, short names', short);
  },
  btrfs: () => {
    const m = mountFs('btrfs', { sizeMiB: 2048 });
    scenario(m, 'btrfs (extref, default): same directory, short names', short);
    scenario(m, 'btrfs (extref, default): same directory, 255-byte names', long255);
    scenario(m, 'btrfs (extref, default): 1000 links per directory', perDir(1000));
  },
  'btrfs-noextref': () => {
    const m = mountFs('btrfs', { sizeMiB: 2048, mkfsArgs: ['-O', '^extref'] });
    scenario(m, 'btrfs -O ^extref: same directory, short names', short);
    scenario(m, 'btrfs -O ^extref: same directory, 64-byte names', long64);
    scenario(m, 'btrfs -O ^extref: same directory, 255-byte names', long255);
    scenario(m, 'btrfs -O ^extref: 1 link per directory', perDir(1));
  },
  tmpfs: () => {
    const m = mountFs('tmpfs', { sizeMiB: 1024 });
    scenario(m, 'tmpfs: same directory, short names', short);
  },
};

await main(async () => {
  header('hard-link limit per inode');
  const want = process.argv.slice(2);
  for (const k of want.length ? want : Object.keys(KINDS)) KINDS[k]();
});
